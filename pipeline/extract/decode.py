"""Bytes to text: BOMs, declared charsets, UTF-8, detection; binary content is refused.

Pure functions, no Scrapy. ``decode_bytes`` never raises for text; it raises
``ExtractionError("binary content: looks like PDF")`` and the like for data that is not text.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from charset_normalizer import from_bytes

from pipeline.extract.model import ExtractionError

# UTF-32 first: its little-endian BOM starts with the UTF-16 one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# (prefix, offset, name): the file signatures we expect to meet where text should be.
_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"%PDF-", 0, "PDF"),
    (b"\x89PNG\r\n\x1a\n", 0, "PNG image"),
    (b"\xff\xd8\xff", 0, "JPEG image"),
    (b"GIF87a", 0, "GIF image"),
    (b"GIF89a", 0, "GIF image"),
    (b"PK\x03\x04", 0, "ZIP archive"),
    (b"PK\x05\x06", 0, "ZIP archive"),
    (b"\x1f\x8b", 0, "gzip data"),
    (b"1AY&SY", 4, "bzip2 data"),
    (b"\xfd7zXZ\x00", 0, "xz data"),
    (b"\x28\xb5\x2f\xfd", 0, "zstd data"),
    (b"7z\xbc\xaf\x27\x1c", 0, "7-Zip archive"),
    (b"Rar!\x1a\x07", 0, "RAR archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 0, "MS Office (OLE2) document"),
    (b"\x7fELF", 0, "ELF executable"),
    (b"WEBP", 8, "WebP image"),
    (b"WAVE", 8, "WAV audio"),
    (b"OggS", 0, "Ogg media"),
    (b"ID3\x03", 0, "MP3 audio"),
    (b"ID3\x04", 0, "MP3 audio"),
    (b"ftyp", 4, "MP4/QuickTime media"),
    (b"\x1aE\xdf\xa3", 0, "Matroska/WebM media"),
    (b"II*\x00", 0, "TIFF image"),
    (b"MM\x00*", 0, "TIFF image"),
    (b"wOFF", 0, "WOFF font"),
    (b"wOF2", 0, "WOFF2 font"),
    (b"SQLite format 3\x00", 0, "SQLite database"),
)

# Control bytes that never occur in text (tab, newlines, form feed, VT and ESC do).
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13, 27)) + b"\x7f"
_MAX_CONTROL_RATIO = 0.05
_SAMPLE = 1 << 16

# Browsers decode these labels as windows-1252 (WHATWG Encoding Standard); so do we.
_AS_CP1252 = {"ascii", "latin-1", "iso8859-1", "cp1252"}

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)""", re.I)
_TAG = re.compile(rb"<[^>]{0,2000}>")
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)""", re.I)


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str  # python codec name actually used, e.g. "utf-8", "utf-16", "cp1252"


def decode_bytes(
    data: bytes, declared: str | None = None, fallback: str | None = None
) -> DecodedText:
    """Decode ``data``: BOM, then a cleanly decoding declared charset, then UTF-8, then detection.

    ``fallback`` is a second declared charset, used when ``declared`` does not decode the bytes
    (an HTTP header's charset wins over the page's <meta>, as in browsers, unless it fails).

    Raises ExtractionError for binary content, naming what it looks like.
    """
    check_not_binary(data)
    bom = bom_encoding(data)
    if bom is not None:
        return DecodedText(data.decode(bom, errors="replace"), bom)
    wide = _bomless_wide_encoding(data)
    if wide is not None:
        return DecodedText(data.decode(wide), wide)
    if b"\x00" in data:
        raise ExtractionError("binary content: contains NUL bytes")
    # Each codec is tried once: a real page is a few hundred kB, and the decoded text is kept.
    for charset in (declared, fallback):
        usable = _usable_declared(data, charset)
        if usable is not None:
            return usable
    text = _strict_decode(data, "utf-8")
    if text is not None:
        return DecodedText(text, "utf-8")
    return _detect(data)


def check_not_binary(data: bytes) -> None:
    """Raise ExtractionError for a known file signature, NUL bytes or many control bytes."""
    for prefix, offset, name in _MAGIC:
        if data.startswith(prefix, offset):
            raise ExtractionError(f"binary content: looks like {name}")
    if bom_encoding(data) is not None or _bomless_wide_encoding(data[:_SAMPLE]) is not None:
        return
    sample = data[:_SAMPLE]
    controls = len(sample) - len(sample.translate(None, _CONTROL))
    if sample and b"\x00" not in sample and controls / len(sample) > _MAX_CONTROL_RATIO:
        share = round(100 * controls / len(sample))
        raise ExtractionError(f"binary content: {share}% control bytes")
    if b"\x00" in sample:
        raise ExtractionError("binary content: contains NUL bytes")


def bom_encoding(data: bytes) -> str | None:
    """The codec named by a byte order mark at the start of ``data``, if any."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec
    return None


def decodes_cleanly(data: bytes, codec: str) -> bool:
    return _strict_decode(data, codec) is not None


def _strict_decode(data: bytes, codec: str) -> str | None:
    """``data`` decoded with ``codec``, or None when a byte does not decode (or no such codec)."""
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def normalize_charset(label: str | None) -> str | None:
    """Python codec name for a charset label, or None when Python does not know it."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None
    return "cp1252" if name in _AS_CP1252 else name


def charset_from_content_type(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type header value, as a Python codec name."""
    match = _HEADER_CHARSET.search(content_type or "")
    return normalize_charset(match.group(1)) if match else None


def meta_charset(data: bytes) -> str | None:
    """The charset an HTML document declares in a <meta> tag within its first 4 KB."""
    match = _META_CHARSET.search(data[:4096])
    return normalize_charset(match.group(1).decode("ascii")) if match else None


def _bomless_wide_encoding(data: bytes) -> str | None:
    """UTF-16/32 without BOM: NULs sit in fixed byte lanes, and the whole decodes strictly."""
    if len(data) < 4 or b"\x00" not in data[:_SAMPLE]:
        return None
    sample = data[: _SAMPLE - _SAMPLE % 4]
    lanes = [sample[i::4].count(0) / max(1, len(sample[i::4])) for i in range(4)]
    candidates: list[str] = []
    if lanes[1] > 0.5 and lanes[2] > 0.5 and lanes[3] > 0.5:
        candidates.append("utf-32-le")
    if lanes[0] > 0.5 and lanes[1] > 0.5 and lanes[2] > 0.5:
        candidates.append("utf-32-be")
    if lanes[1] > 0.5 and lanes[3] > 0.5:
        candidates.append("utf-16-le")
    if lanes[0] > 0.5 and lanes[2] > 0.5:
        candidates.append("utf-16-be")
    for codec in candidates:
        if len(data) % (4 if "32" in codec else 2) == 0 and decodes_cleanly(data, codec):
            return codec
    return None


def _usable_declared(data: bytes, declared: str | None) -> DecodedText | None:
    codec = normalize_charset(declared)
    if codec is None:
        return None
    text = _strict_decode(data, codec)
    if text is None:
        return None
    # A single-byte charset "decodes" any bytes; valid multi-byte UTF-8 is never an accident,
    # so a page labelled windows-1252 that is really UTF-8 is read as UTF-8.
    if _is_single_byte(codec) and not data.isascii():
        as_utf8 = _strict_decode(data, "utf-8")
        if as_utf8 is not None:
            return DecodedText(as_utf8, "utf-8")
    return DecodedText(text, codec)


@lru_cache(maxsize=64)
def _is_single_byte(codec: str) -> bool:
    try:
        return len(bytes(range(128, 256)).decode(codec, errors="replace")) == 128
    except LookupError:
        return False


def _detect(data: bytes) -> DecodedText:
    """Charset detection; windows-1252 (then latin-1) when detection is unsure or has no answer."""
    sample = data[: _SAMPLE * 4]
    for codec in [_best_guess(sample), "cp1252"]:
        if codec is None:
            continue
        text = _strict_decode(data, codec)
        if text is not None:
            return DecodedText(text, codec)
    return DecodedText(data.decode("latin-1"), "latin-1")


def _best_guess(sample: bytes) -> str | None:
    """Pick among charset-normalizer's candidates and windows-1252.

    Text that is mostly high bytes is a non-Latin script, where the detector is reliable. Mostly
    ASCII text is Latin script: the detector often names cp1250 or another Latin code page for
    Western text with a few accents, so candidates are ranked by implausible characters and the
    common windows-1252 wins ties. UTF-16/32 without NUL bytes is never right.
    """
    matches = [normalize_charset(m.encoding) for m in from_bytes(sample)]
    guesses = [g for g in matches if g is not None and not g.startswith(("utf-16", "utf-32"))]
    prose = _TAG.sub(b" ", sample)[:_SAMPLE]
    high = len(prose) - len(prose.translate(None, _HIGH_BYTES))
    total = high + len(_ASCII_LETTER.findall(prose))
    if guesses and total and high / total > 0.3:
        return guesses[0]
    # The detector misses common code pages on mixed pages (a Russian paragraph in an English
    # page), so the usual web code pages always compete; windows-1252 first, winning ties.
    latin = [*_COMMON_WEB, *(g for g in guesses[:6] if _WEB_CODEPAGE.match(g))]
    readable = [g for g in dict.fromkeys(latin) if decodes_cleanly(prose, g)]
    if not readable:
        return None
    return min(readable, key=lambda g: _implausible(prose.decode(g)))


# Code pages web pages use; DOS and Mac code pages are detector noise for mostly-ASCII text.
_WEB_CODEPAGE = re.compile(r"^(?:cp125\d|iso8859-\d+)$")
_COMMON_WEB = ("cp1252", "cp1250", "cp1251", "cp1253")
_HIGH_BYTES = bytes(range(128, 256))
_ASCII_LETTER = re.compile(rb"[A-Za-z]")
_HIGH_LATIN_WORD = re.compile(r"(?<![^\W\d_])[\u00c0-\u024f]{3,}(?![^\W\d_])")
_TEXT_SYMBOLS = set(
    "\u00a0\u00a7\u00ab\u00b0\u00b7\u00bb\u2013\u2014\u2018\u2019\u201a\u201c\u201d\u201e\u2022\u2026\u20ac"
)


def _implausible(text: str) -> int:
    """Count characters unlikely in running text: symbols in words, non-Latin in Latin words."""
    # Whole words of accented Latin letters are another script read through the wrong code page.
    count = len(_HIGH_LATIN_WORD.findall(text))
    for i, char in enumerate(text):
        if char.isascii() or char in _TEXT_SYMBOLS:
            continue
        if char.isalpha():
            count += ord(char) > 0x24F and _ascii_letter_near(text, i)
        elif unicodedata.category(char) in ("Cc", "Cn", "Co") or _inside_word(text, i):
            count += 1
    return count


def _inside_word(text: str, i: int) -> bool:
    return 0 < i < len(text) - 1 and text[i - 1].isalpha() and text[i + 1].isalpha()


def _ascii_letter_near(text: str, i: int) -> bool:
    return any(c.isascii() and c.isalpha() for c in text[max(0, i - 1) : i + 2])
