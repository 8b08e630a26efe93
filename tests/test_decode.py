"""decode_bytes and sniff_kind: encodings, BOMs, binary refusal, content sniffing."""

from __future__ import annotations

import codecs
import gzip
import random
import zipfile
from io import BytesIO

import pytest

from pipeline.extract.decode import (
    charset_from_content_type,
    decode_bytes,
    meta_charset,
    normalize_charset,
)
from pipeline.extract.model import ExtractionError
from pipeline.extract.sniff import sniff_kind

FRENCH = (
    "Le gouvernement a annoncé mercredi une réforme des retraites. « C’est une étape décisive », "
    "a déclaré la ministre, évoquant l’été prochain — et les élèves de troisième."
)
GERMAN = (
    "Die Bundesregierung hat am Mittwoch überraschend eine Reform angekündigt. Größere Änderungen."
)
RUSSIAN = (
    "Правительство объявило в среду о реформе пенсионной системы. Министр заявила, что это "
    "решающий шаг для страны и её граждан."
)
POLISH = (
    "Rząd ogłosił w środę reformę emerytalną. Minister powiedziała, że to decydujący krok dla "
    "żołnierzy i łódzkich szkół."
)
GREEK = "Η κυβέρνηση ανακοίνωσε την Τετάρτη μεταρρύθμιση του συνταξιοδοτικού συστήματος."
JAPANESE = (
    "政府は水曜日、年金制度の改革を発表した。大臣はこれが国民にとって決定的な一歩だと述べた。"
)


def _page(body: str, head: str = "") -> str:
    return f"<html><head>{head}<title>T</title></head><body><p>{body}</p></body></html>"


@pytest.mark.parametrize(
    ("bom", "codec", "expected"),
    [
        (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
        (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
    ],
)
def test_bom_decides_and_is_removed(bom: bytes, codec: str, expected: str) -> None:
    result = decode_bytes(bom + FRENCH.encode(codec), declared="iso-8859-1")
    assert result.text == FRENCH
    assert result.encoding == expected


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_text_not_binary(codec: str) -> None:
    result = decode_bytes(GERMAN.encode(codec))
    assert (result.text, result.encoding) == (GERMAN, codec)


def test_plain_utf8_and_ascii() -> None:
    assert decode_bytes(RUSSIAN.encode()).encoding == "utf-8"
    assert decode_bytes(b"plain ascii text").text == "plain ascii text"


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        (FRENCH, "cp1252"),
        (GERMAN, "cp1252"),
        ("Café naïve résumé", "cp1252"),
        (RUSSIAN, "cp1251"),
        (RUSSIAN, "koi8-r"),
        (POLISH, "cp1250"),
        (GREEK, "cp1253"),
    ],
)
def test_undeclared_legacy_charsets_are_detected(text: str, codec: str) -> None:
    assert decode_bytes(text.encode(codec)).text == text
    page = _page(text)
    assert decode_bytes(page.encode(codec)).text == page


def test_undeclared_japanese_is_detected() -> None:
    for codec in ("shift_jis", "euc-jp"):
        assert decode_bytes(JAPANESE.encode(codec)).text == JAPANESE


def test_cp1252_fallback_reports_codec() -> None:
    result = decode_bytes(FRENCH.encode("cp1252"))
    assert result.encoding == "cp1252"


def test_declared_charset_used_when_it_decodes() -> None:
    data = RUSSIAN.encode("cp1251")
    assert decode_bytes(data, declared="windows-1251").encoding == "cp1251"
    assert decode_bytes(data, declared="windows-1251").text == RUSSIAN


def test_second_declared_charset_only_when_the_first_fails() -> None:
    # An HTTP header's charset and the page's <meta>: the header wins while it decodes.
    russian = RUSSIAN.encode("cp1251")
    assert decode_bytes(russian, "utf-8", "windows-1251").encoding == "cp1251"
    assert decode_bytes(russian, "utf-8", "windows-1251").text == RUSSIAN
    assert decode_bytes(russian, "windows-1251", "koi8-r").text == RUSSIAN
    assert decode_bytes(russian, None, "windows-1251").encoding == "cp1251"
    # Neither decodes: UTF-8, then detection, as without labels.
    french = FRENCH.encode("cp1252")
    assert decode_bytes(french, "utf-8", "x-no-such-charset").encoding == "cp1252"


def test_wrong_declared_utf8_falls_back_to_detection() -> None:
    result = decode_bytes(FRENCH.encode("cp1252"), declared="utf-8")
    assert result.text == FRENCH
    assert result.encoding == "cp1252"


def test_wrong_declared_latin1_on_utf8_bytes_reads_utf8() -> None:
    result = decode_bytes(FRENCH.encode("utf-8"), declared="ISO-8859-1")
    assert result.text == FRENCH
    assert result.encoding == "utf-8"


def test_unknown_declared_charset_is_ignored() -> None:
    assert decode_bytes(GERMAN.encode(), declared="x-no-such-charset").text == GERMAN


def test_latin1_label_means_windows_1252() -> None:
    # Browsers read ISO-8859-1 as windows-1252, so curly quotes survive.
    result = decode_bytes("“quoted” – text".encode("cp1252"), declared="iso-8859-1")
    assert result.text == "“quoted” – text"


def _zip_bytes() -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "hello")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "JPEG"),
        (b"GIF89a\x01\x00\x01\x00", "GIF"),
        (gzip.compress(b"<html>hello</html>"), "gzip"),
        (_zip_bytes(), "ZIP"),
    ],
)
def test_known_binary_formats_are_named(data: bytes, name: str) -> None:
    with pytest.raises(ExtractionError, match=f"binary content: looks like {name}"):
        decode_bytes(data)
    assert sniff_kind(data, filename="story.txt", content_type="text/plain") == "binary"


def test_random_bytes_are_binary() -> None:
    data = random.Random(7).randbytes(4096)
    with pytest.raises(ExtractionError, match="binary content"):
        decode_bytes(data)
    assert sniff_kind(data) == "binary"


def test_control_bytes_without_nul_are_binary() -> None:
    data = bytes(random.Random(3).choice(range(1, 32)) for _ in range(500)) + b"some text"
    with pytest.raises(ExtractionError, match="control bytes"):
        decode_bytes(data)


def test_nul_bytes_in_8bit_text_are_binary() -> None:
    with pytest.raises(ExtractionError, match="NUL"):
        decode_bytes(b"a perfectly normal sentence\x00 with one NUL byte in the middle")


def test_text_with_tabs_and_form_feeds_is_text() -> None:
    data = b"Column\tColumn\r\nPage one\x0cPage two\n" * 20
    assert decode_bytes(data).text == data.decode()


def test_charset_helpers() -> None:
    assert charset_from_content_type("text/html; charset=Windows-1251") == "cp1251"
    assert charset_from_content_type('text/html; charset="utf-8"') == "utf-8"
    assert charset_from_content_type("text/html") is None
    assert meta_charset(b'<head><meta charset="koi8-r">') == "koi8-r"
    head = b'<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'
    assert meta_charset(head) == "cp1252"
    assert normalize_charset("bogus-charset") is None


# sniff_kind


ARTICLE_TEXT = (
    "Harbour council approves plan\n\nCouncillors voted on Thursday.\nMore text follows.\n"
)
ARTICLE_HTML = _page("Councillors voted on Thursday.")


@pytest.mark.parametrize(
    ("data", "filename", "content_type", "kind"),
    [
        (ARTICLE_HTML.encode(), "story.html", None, "html"),
        (ARTICLE_HTML.encode(), "story.txt", "text/plain", "html"),
        (ARTICLE_HTML.encode(), "story", None, "html"),
        (b"<!DOCTYPE html>\n<title>x</title>", None, None, "html"),
        (ARTICLE_TEXT.encode(), "story.html", "text/html", "text"),
        (ARTICLE_TEXT.encode(), "story.txt", None, "text"),
        (ARTICLE_TEXT.encode(), None, None, "text"),
        (b"<p>Fragment one</p><p>two</p>", "frag.html", None, "html"),
        (b"Use the <b> tag for bold, a reader wrote.", "story.txt", None, "text"),
        (b"", "story.html", "text/html", "empty"),
        (b" \n\t\r\n  ", "story.txt", None, "empty"),
        ("\u00a0\u200b \n\u3000".encode(), None, None, "empty"),
        (codecs.BOM_UTF8 + b"  \n", None, None, "empty"),
        (codecs.BOM_UTF16_LE + "  \n ".encode("utf-16-le"), None, None, "empty"),
    ],
)
def test_sniff_kind(data: bytes, filename: str | None, content_type: str | None, kind: str) -> None:
    assert sniff_kind(data, filename=filename, content_type=content_type) == kind


def test_sniff_utf16_html_after_bom() -> None:
    data = codecs.BOM_UTF16_LE + ARTICLE_HTML.encode("utf-16-le")
    assert sniff_kind(data, filename="story.txt") == "html"
    data = codecs.BOM_UTF16_BE + ARTICLE_TEXT.encode("utf-16-be")
    assert sniff_kind(data, filename="story.html") == "text"
