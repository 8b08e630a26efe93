"""Reading WARC records back: by (file, offset), file by file, and verifying their digests.

Members are inflated here with zlib, one gzip member at a time, rather than through warcio's
ArchiveIterator: the iterator quietly treats a non-gzip offset as an uncompressed WARC and only
prints warnings to stderr, while the index needs a clear error for every bad offset or file.
Headers are parsed with warcio's StatusAndHeadersParser.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import os
import re
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from warcio.bufferedreaders import ChunkedDataReader
from warcio.statusandheaders import (
    StatusAndHeaders,
    StatusAndHeadersParser,
    StatusAndHeadersParserException,
)
from warcio.timeutils import iso_date_to_datetime

from pipeline.warc.content_encoding import content_codings, decode_content
from pipeline.warc.record_ids import arc_record_id, is_arc_location
from pipeline.warc.ref import RecordRef

OPEN_SUFFIX = ".open"
_GZIP_MAGIC = b"\x1f\x8b"
_FIRST_CHUNK = 16 * 1024
_CHUNK = 256 * 1024
_HTTP_RECORDS = ("response", "request", "revisit")
# Far above any capture (downloads and local files are capped at tens of MB); stops a
# corrupt or hostile member from inflating until memory runs out.
MAX_RECORD_BYTES = 1 << 30


class _Latin1Parser(StatusAndHeadersParser):
    """HTTP headers are latin-1 bytes; warcio would try UTF-8 first and change the text."""

    @staticmethod
    def decode_header(line: bytes | str) -> str:
        return line.decode("latin-1") if isinstance(line, bytes) else line


# WARC/0.17 and 0.18 are what Heritrix and wget wrote before WARC/1.0: read them too.
_WARC_PARSER = StatusAndHeadersParser(
    ["WARC/1.1", "WARC/1.0", "WARC/0.18", "WARC/0.17"], verify=True
)
_PLAIN_MAGIC = b"WARC/"
_END_OF_RECORD = b"\r\n\r\n"
_HTTP_PARSER = _Latin1Parser([], verify=False)


@dataclass(frozen=True)
class StoredRecord:
    ref: RecordRef
    headers: list[tuple[str, str]]  # WARC headers
    http_headers: list[tuple[str, str]] | None
    http_status: int | None
    payload: bytes  # content as stored (raw, still Content-Encoded for HTTP)
    http_head: bytes = b""  # status line + HTTP headers + blank line, exactly as stored


class WarcReadError(Exception):
    """A WARC file or record cannot be read; the message names file, offset and the problem."""

    def __init__(self, path: Path | str, offset: int | None, problem: str) -> None:
        self.path = str(path)
        self.offset = offset
        self.problem = problem
        where = self.path if offset is None else f"{self.path} at offset {offset}"
        super().__init__(f"{where}: {problem}")


class TornTailError(WarcReadError):
    """The file ends inside the gzip member at ``offset``: its last record was cut short.

    This is what a writer killed mid-write leaves behind (each record goes out in one write, so
    only the last member can be incomplete). ``iter_records`` raises it only after yielding every
    complete record before ``offset``, and only when nothing complete follows in the tail: a
    damaged member in the middle of a file stays a plain WarcReadError.
    """

    def __init__(self, path: Path | str, offset: int, problem: str, tail_bytes: int) -> None:
        super().__init__(path, offset, problem)
        self.offset: int = offset
        self.tail_bytes = tail_bytes  # from ``offset`` to the end of the file


def decoded_http_payload(http_headers: Sequence[tuple[str, str]], raw: bytes) -> bytes:
    """An HTTP payload as stored, with Transfer- and Content-Encoding removed, as a browser sees it.

    Raises ContentDecodingError (a ValueError) on a body its Content-Encoding does not fit.
    """
    headers = {name.lower(): value.strip().lower() for name, value in http_headers}
    if "chunked" in content_codings(headers.get("transfer-encoding")):
        raw = bytes(ChunkedDataReader(io.BytesIO(raw), decomp_type=None).read())
    return decode_content(headers.get("content-encoding"), raw)


def payload_sha1(data: bytes) -> str:
    """The digest warcio writes: ``sha1:`` and the base32 SHA-1."""
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def find_warc_file(directory: Path, name: str) -> Path:
    """The file ``name`` in ``directory``, finished or still ``.open``.

    ``name`` is a plain file name, or an absolute path for records indexed where they lie
    (imported WARCs); relative paths are refused so a stored name cannot leave the directory.
    """
    plain = name not in ("", ".", "..") and not any(c in name for c in "/\\\0")
    if not (plain or (Path(name).is_absolute() and "\0" not in name)):
        raise WarcReadError(Path(directory) / str(name), None, "not a plain WARC file name")
    base = name.removesuffix(OPEN_SUFFIX)
    for candidate in (base, base + OPEN_SUFFIX):
        path = Path(directory) / candidate
        if path.is_file():
            return path
    raise WarcReadError(Path(directory) / base, None, "WARC file not found (nor its .open file)")


def warc_files(warc_dir: Path) -> list[Path]:
    """The WARC files of an archive folder, finished or still ``.open``, in name order.

    ``.partial`` files (torn records moved aside by recovery) are not WARC files.
    """
    warc_dir = Path(warc_dir)
    if not warc_dir.is_dir():
        return []
    patterns = ("*.warc.gz", "*.warc", "*.warc.gz" + OPEN_SUFFIX, "*.warc" + OPEN_SUFFIX)
    return sorted({p for pattern in patterns for p in warc_dir.glob(pattern) if p.is_file()})


def read_record(directory: Path, name: str, offset: int) -> StoredRecord:
    """The record whose gzip member starts at ``offset`` in the WARC file ``name``.

    ``name`` may also be ``/abs/archive.wacz#archive/file.warc.gz``: a WARC inside a WACZ
    package, indexed where it lies.
    """
    if "#" in name and name.split("#", 1)[0].lower().endswith(".wacz"):
        return _read_wacz_member_record(name, offset)
    for attempt in range(2):
        path = find_warc_file(directory, name)
        try:
            with open(path, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                if is_arc_location(name):
                    return _arc_record_at(fh, path, offset, size, name)
                return _record_at(fh, path, offset, size, name.removesuffix(OPEN_SUFFIX))
        except FileNotFoundError:
            if attempt:  # renamed from .open between lookup and open: look again once
                raise WarcReadError(path, None, "WARC file disappeared while reading") from None
        except OSError as exc:
            raise WarcReadError(path, offset, f"cannot read file: {exc}") from None
    raise AssertionError("unreachable")


def _read_wacz_member_record(location: str, offset: int) -> StoredRecord:
    package, member = location.split("#", 1)
    path = Path(package)
    if not path.is_absolute():
        raise WarcReadError(path, None, "not an absolute WACZ path")
    try:
        with zipfile.ZipFile(path) as wacz, wacz.open(member) as fh:
            size = wacz.getinfo(member).file_size
            return _record_at(fh, path, offset, size, location)  # type: ignore[arg-type]
    except FileNotFoundError:
        raise WarcReadError(path, None, "WACZ file not found") from None
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise WarcReadError(path, offset, f"cannot read {member} in WACZ: {exc}") from None


def iter_records(path: Path) -> Iterator[StoredRecord]:
    """Every record of a per-record-gzip WARC file, in order, with its offset and length."""
    path = Path(path)
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed by the with below, across yields
    except FileNotFoundError:
        raise WarcReadError(path, None, "WARC file not found") from None
    except OSError as exc:
        raise WarcReadError(path, None, f"cannot open file: {exc}") from None
    warc_file = path.name.removesuffix(OPEN_SUFFIX)
    with fh:
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            raise WarcReadError(path, None, "file is empty, it holds no WARC record")
        offset = 0
        while offset < size:
            try:
                stored = _record_at(fh, path, offset, size, warc_file)
            except TornTailError:
                _refuse_record_after(fh, path, offset, size, warc_file)
                raise
            except OSError as exc:
                raise WarcReadError(path, offset, f"cannot read file: {exc}") from None
            yield stored
            offset += stored.ref.length


def _refuse_record_after(fh: BinaryIO, path: Path, torn: int, size: int, warc_file: str) -> None:
    """Raise if a complete record starts after the member at ``torn`` that runs to end of file.

    A corrupt deflate stream can swallow the members after it without a zlib error; a complete
    record further on shows the damage is in the middle of the file, not a torn last record.
    """
    position, carry = torn + 1, b""
    fh.seek(position)
    while chunk := fh.read(_CHUNK):
        window, base = carry + chunk, position - len(carry)
        start = window.find(_GZIP_MAGIC)
        while start != -1:
            candidate = base + start
            try:
                _record_at(fh, path, candidate, size, warc_file)
            except WarcReadError:
                pass
            else:
                raise WarcReadError(
                    path,
                    torn,
                    f"corrupt gzip member: it runs over a complete record at offset {candidate}",
                )
            start = window.find(_GZIP_MAGIC, start + 1)
        position += len(chunk)
        carry = window[-1:]
        fh.seek(position)


def verify_record(stored: StoredRecord) -> list[str]:
    """Problems found in a record: length or digest mismatches. Empty when it verifies."""
    problems = []
    block = stored.http_head + stored.payload
    declared = _header(stored.headers, "Content-Length")
    if declared is not None and declared.strip() != str(len(block)):
        problems.append(f"Content-Length is {declared} but the block holds {len(block)} bytes")
    if stored.ref.block_digest:
        problems += _digest_problem("block", stored.ref.block_digest, block)
    # A revisit's payload digest is the original's payload: nothing here to check it against.
    if stored.ref.payload_digest and stored.ref.record_type != "revisit":
        problems += _digest_problem("payload", stored.ref.payload_digest, stored.payload)
    return problems


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    lower = name.lower()
    return next((value for key, value in headers if key.lower() == lower), None)


def _digest_problem(label: str, declared: str, data: bytes) -> list[str]:
    algo, sep, value = declared.partition(":")
    try:
        digester = hashlib.new(algo.lower()) if sep else None
    except ValueError:
        digester = None
    if digester is None:
        return [f"{label} digest {declared!r} names no known hash algorithm"]
    digester.update(data)
    actual = digester.digest()
    expected = _decode_digest(value.strip(), len(actual))
    if expected is None:
        return [f"{label} digest {declared!r} is not base32, base16 or base64"]
    if expected != actual:
        computed = base64.b32encode(actual).decode("ascii")
        return [f"{label} digest mismatch: header {declared}, content {algo}:{computed}"]
    return []


def _decode_digest(value: str, size: int) -> bytes | None:
    # WARC allows any RFC 3548 encoding; warcio writes base32.
    decoders = (
        lambda v: base64.b32decode(v, casefold=True),
        lambda v: base64.b16decode(v, casefold=True),
        lambda v: base64.b64decode(v, validate=True),
        lambda v: base64.urlsafe_b64decode(v),
    )
    for decode in decoders:
        try:
            raw = decode(value)
        except (binascii.Error, ValueError):
            continue
        if len(raw) == size:
            return raw
    return None


def _record_at(fh: BinaryIO, path: Path, offset: int, size: int, warc_file: str) -> StoredRecord:
    if 0 <= offset < size and not isinstance(offset, bool):
        fh.seek(offset)
        if fh.read(len(_PLAIN_MAGIC)) == _PLAIN_MAGIC:
            data, length = _plain_record(fh, path, offset, size)
            return _parse_record(data, path, offset, length, warc_file)
    data, length = _inflate_member(fh, path, offset, size)
    return _parse_record(data, path, offset, length, warc_file)


def _arc_record_at(fh: BinaryIO, path: Path, offset: int, size: int, name: str) -> StoredRecord:
    """The ARC record at ``offset`` (an imported ``.arc`` or ``.arc.gz``) as warcio's ARC-to-WARC
    conversion presents it, under the id pipeline.warc.record_ids gives it."""
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset < size:
        raise WarcReadError(path, offset, f"offset is not within the file ({size} bytes)")
    fh.seek(offset)
    if fh.read(2) == _GZIP_MAGIC:
        data, length = _inflate_member(fh, path, offset, size)
    else:
        fh.seek(offset)
        data = fh.readline(_FIRST_CHUNK)
        declared = data.rstrip().rsplit(b" ", 1)[-1]
        # A length that is no number (-1, abc) is an empty block, as warcio reads it.
        data += fh.read(int(declared)) if declared.isdigit() else b""
        length = len(data)
    warc, block = arc_as_warc(data, path, offset, name)
    ref = _ref(warc, path, offset, length, name)
    return _split_http(warc, ref, block, path)


def arc_as_warc(data: bytes, path: Path, offset: int, name: str) -> tuple[StatusAndHeaders, bytes]:
    """WARC headers and block for one ARC record (URL IP-address Archive-date Content-type
    Archive-length, then the block)."""
    line, _, rest = data.partition(b"\n")
    parts = line.decode("latin-1").rstrip().rsplit(" ", 4)
    if len(parts) != 5 or len(parts[2]) < 14 or not parts[2][:14].isdigit():
        raise WarcReadError(path, offset, f"not an ARC record header: {line[:60]!r}")
    uri, ip, stamp, content_type, declared = parts
    block = rest[: int(declared)] if declared.isdigit() else b""
    kind = "warcinfo" if uri.startswith("filedesc://") else "response"
    is_http = uri.lower().startswith(("http:", "https:")) and block.startswith(b"HTTP/")
    if kind == "response" and is_http:
        content_type = "application/http;msgtype=response"
    when = f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[8:10]}:{stamp[10:12]}:{stamp[12:14]}Z"
    headers = [
        ("WARC-Type", kind),
        ("WARC-Record-ID", arc_record_id(name, offset)),
        ("WARC-Target-URI", uri),
        ("WARC-IP-Address", ip),
        ("WARC-Date", when),
        ("Content-Type", content_type),
        ("Content-Length", str(len(block))),
    ]
    return StatusAndHeaders("", headers, protocol="WARC/1.0"), block


_BLANK_LINE = re.compile(rb"\n\r*\n")


def header_end(data: bytes) -> int:
    """Where the block starts: after the first blank line (CRLF as the WARC standard has it,
    or LF, or the CR CR LF some writers produced); -1 if there is none."""
    found = _BLANK_LINE.search(data)
    return found.end() if found else -1


def _plain_record(fh: BinaryIO, path: Path, offset: int, size: int) -> tuple[bytes, int]:
    """The bytes of an uncompressed record at ``offset`` (an external ``.warc`` file) and its
    length: header, block and the CRLF CRLF after it when present.

    Writers put any number of blank lines between records; they are not read here, so the
    record verifies whatever slack follows it.
    """
    fh.seek(offset)
    head = b""
    while (end := header_end(head)) < 0:
        chunk = fh.read(_FIRST_CHUNK)
        if not chunk or len(head) > MAX_RECORD_BYTES:
            raise WarcReadError(path, offset, "truncated WARC header")
        head += chunk
    header = head[:end]
    declared = 0
    for line in header.split(b"\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            declared = int(value)
    if declared > MAX_RECORD_BYTES:
        raise WarcReadError(path, offset, f"record block of {declared} bytes is too large")
    fh.seek(offset + len(header))
    block = fh.read(declared)
    trailer = fh.read(len(_END_OF_RECORD))
    length = len(header) + len(block)
    if trailer == _END_OF_RECORD:
        length += len(trailer)
    return header + block + _END_OF_RECORD, min(length, size - offset)


def _inflate_member(fh: BinaryIO, path: Path, offset: int, size: int) -> tuple[bytes, int]:
    """The decompressed bytes of the gzip member at ``offset`` and its compressed length."""
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise WarcReadError(path, None, f"offset must be a non-negative integer, got {offset!r}")
    if offset >= size:
        raise WarcReadError(path, offset, f"offset is past the end of the file ({size} bytes)")
    fh.seek(offset)
    chunk = fh.read(_FIRST_CHUNK)
    if len(chunk) < len(_GZIP_MAGIC) and _GZIP_MAGIC.startswith(chunk):
        raise TornTailError(
            path, offset, "truncated gzip member: the file ends inside its header", len(chunk)
        )
    if not chunk.startswith(_GZIP_MAGIC):
        found = chunk[:8].hex(" ")
        raise WarcReadError(
            path,
            offset,
            f"no gzip member starts here (found bytes {found}): the offset points into the "
            "middle of a record, or the file is not a per-record gzip WARC",
        )
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    parts, consumed, inflated = [], 0, 0
    while not inflater.eof:
        if not chunk:
            raise TornTailError(
                path,
                offset,
                f"truncated gzip member: the file ends {consumed} bytes after it starts",
                consumed,
            )
        try:
            parts.append(inflater.decompress(chunk))
        except zlib.error as exc:
            raise WarcReadError(path, offset, f"corrupt gzip data: {exc}") from None
        consumed += len(chunk)
        inflated += len(parts[-1])
        if inflated > MAX_RECORD_BYTES:
            raise WarcReadError(path, offset, f"record inflates beyond {MAX_RECORD_BYTES} bytes")
        chunk = fh.read(_CHUNK) if not inflater.eof else b""
    return b"".join(parts), consumed - len(inflater.unused_data)


def _parse_record(
    data: bytes, path: Path, offset: int, length: int, warc_file: str
) -> StoredRecord:
    stream = io.BytesIO(data)
    try:
        warc = _WARC_PARSER.parse(stream)
    except EOFError:
        raise WarcReadError(path, offset, "gzip member is empty, no WARC record in it") from None
    except StatusAndHeadersParserException as exc:
        first = str(exc.statusline)[:60].strip()
        raise WarcReadError(path, offset, f"not a WARC record, first line {first!r}") from None
    start = stream.tell()
    declared = warc.get_header("Content-Length", "")
    if not (declared.strip().isascii() and declared.strip().isdigit()):
        raise WarcReadError(path, offset, f"bad or missing Content-Length {declared!r}")
    end = start + int(declared)
    if len(data) < end:
        raise WarcReadError(
            path, offset, f"record block is {len(data) - start} bytes, Content-Length {declared}"
        )
    if data[end : end + 4] != b"\r\n\r\n" or data[end + 4 :].strip():
        raise WarcReadError(
            path,
            offset,
            "record not followed by exactly CRLF CRLF: wrong Content-Length, "
            "or several records in one gzip member",
        )
    ref = _ref(warc, path, offset, length, warc_file)
    return _split_http(warc, ref, data[start:end], path)


def _ref(warc: StatusAndHeaders, path: Path, offset: int, length: int, warc_file: str) -> RecordRef:
    get = warc.get_header
    for required in ("WARC-Type", "WARC-Record-ID", "WARC-Date"):
        if not get(required):
            raise WarcReadError(path, offset, f"record has no {required} header")
    try:
        when = iso_date_to_datetime(get("WARC-Date"), tz_aware=True)
    except (ValueError, TypeError):
        raise WarcReadError(path, offset, f"bad WARC-Date {get('WARC-Date')!r}") from None
    return RecordRef(
        record_id=get("WARC-Record-ID"),
        record_type=get("WARC-Type"),
        warc_file=warc_file,
        offset=offset,
        length=length,
        target_uri=target_uri(get("WARC-Target-URI", "")),
        date=when,
        payload_digest=get("WARC-Payload-Digest"),
        block_digest=get("WARC-Block-Digest"),
        content_type=get("Content-Type"),
        refers_to=get("WARC-Refers-To") or get("WARC-Concurrent-To"),
    )


def target_uri(value: str) -> str:
    """WARC-Target-URI without the angle brackets of WARC/1.0's grammar (wget 1.20 writes them)."""
    value = value.strip()
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1].strip()
    return value.replace(" ", "%20")  # as warcio reads it


def _split_http(warc: StatusAndHeaders, ref: RecordRef, block: bytes, path: Path) -> StoredRecord:
    is_http = (
        ref.record_type in _HTTP_RECORDS
        and ref.target_uri.startswith(("http:", "https:"))
        and (ref.content_type or "").startswith("application/http")
        and block
    )
    if not is_http:
        return StoredRecord(ref, list(warc.headers), None, None, block)
    stream = io.BytesIO(block)
    http = _HTTP_PARSER.parse(stream)
    status = None
    if ref.record_type != "request":
        code = http.statusline.split(" ", 1)[0]
        if not code.isdigit():
            line = f"{http.protocol} {http.statusline}"
            raise WarcReadError(path, ref.offset, f"bad HTTP status line {line!r}")
        status = int(code)
        ref = RecordRef(**{**ref.__dict__, "http_status": status})
    head = block[: stream.tell()]
    return StoredRecord(
        ref, list(warc.headers), list(http.headers), status, block[len(head) :], head
    )
