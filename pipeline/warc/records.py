"""WARC record builders: header validation, HTTP status lines and headers, gzip members.

Everything here is pure (no files, no locks), so pipeline.warc.WarcWriter only decides where a
finished member goes. Every bad input raises ValueError/TypeError with a readable message.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from http import HTTPStatus
from importlib.metadata import version
from typing import Any

from isal import igzip
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date

from pipeline import __version__
from pipeline.warc.ref import RecordRef

WARC_VERSION = "1.1"
REVISIT_PROFILE = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
CONFORMS_TO = "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
HTTP_RESPONSE_TYPE = "application/http; msgtype=response"
HTTP_REQUEST_TYPE = "application/http; msgtype=request"
# ISA-L compression level (0-3) of every record's gzip member; see compress().
GZIP_LEVEL = 2
# Set by the writer itself; a caller's extra header must not override them.
RESERVED_HEADERS = frozenset(
    {
        "warc-type",
        "warc-record-id",
        "warc-date",
        "warc-target-uri",
        "content-length",
        "content-type",
        "warc-block-digest",
        "warc-payload-digest",
    }
)
_RECORD_ID = re.compile(r"<[^\s<>]+>")
_SPACE = re.compile(r"\s")
_BAD_NAME = re.compile(r"[:\s]")
# Record types without a payload digest of their own (warcio's rule).
NO_PAYLOAD_DIGEST = frozenset({"warcinfo", "revisit"})


class Latin1Headers(StatusAndHeaders):
    """HTTP headers serialised as latin-1, byte for byte as received.

    warcio percent-encodes non-ASCII header values, which would change the archived bytes.
    """

    def compute_headers_buffer(self, header_filter: Any = None) -> None:
        self.headers_buff = self.to_str(header_filter).encode("latin-1") + b"\r\n"


def wire_head(raw: bytes) -> bytes:
    """An HTTP head stored exactly as it crossed the wire (pipeline.warc.http_wire), checked."""
    if not raw.endswith(b"\n\n") and not raw.endswith(b"\n\r\n"):
        raise ValueError(f"an HTTP head ends with a blank line: {raw[-20:]!r}")
    return bytes(raw)


def http_head(headers: StatusAndHeaders) -> bytes:
    """The bytes of an HTTP head built from parts (Latin1Headers: byte for byte as received)."""
    headers.compute_headers_buffer()
    assert headers.headers_buff is not None
    return bytes(headers.headers_buff)


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"WARC dates must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def iso(value: datetime) -> str:
    return datetime_to_iso_date(value.replace(tzinfo=None), use_micros=True)


def check_text(value: object, what: str) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be str, got {type(value).__name__}: {value!r}")


def check_latin1(value: str, what: str) -> None:
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(f"{what} is not latin-1 text: {value!r}") from None


def check_warc_field(name: str, value: str) -> None:
    check_text(name, "WARC header name")
    check_text(value, f"WARC header {name}")
    # A CR/LF would end the header block early and corrupt the record.
    if not name or ":" in name or any(c in name for c in " \t\r\n"):
        raise ValueError(f"invalid WARC header name {name!r}")
    if "\r" in value or "\n" in value:
        raise ValueError(f"WARC header {name} must not contain CR/LF: {value!r}")


def check_record_id(value: str, what: str = "record reference") -> str:
    if not isinstance(value, str) or not _RECORD_ID.fullmatch(value):
        raise ValueError(f"{what} must be a record id like <urn:uuid:...>, got {value!r}")
    return value


def has_space(text: str) -> bool:
    return _SPACE.search(text) is not None


def check_uri(uri: str) -> None:
    if not uri or has_space(uri):
        raise ValueError(f"WARC-Target-URI must be non-empty without whitespace: {uri!r}")


def check_http_uri(uri: str) -> None:
    if not uri.startswith(("http://", "https://")):
        raise ValueError(f"HTTP records need an http(s) WARC-Target-URI, got {uri!r}")


def check_http_headers(headers: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    checked = []
    for name, value in headers:
        check_text(name, "HTTP header name")
        check_text(value, f"HTTP header {name}")
        if not name or ":" in name or name[0] in " \t" or "\r" in name or "\n" in name:
            raise ValueError(f"invalid HTTP header name {name!r}")
        if "\r" in value or "\n" in value:
            raise ValueError(f"HTTP header {name} must not contain CR/LF: {value!r}")
        check_latin1(name + value, f"HTTP header {name}")
        checked.append((name, value))
    return checked


def _untransfer(headers: list[tuple[str, str]], body_len: int | None) -> list[tuple[str, str]]:
    """Rename Transfer-Encoding (the body is stored de-chunked) and, given the body length,
    replace Content-Length with it so readers and digests see the stored bytes."""
    if not any(n.lower() == "transfer-encoding" for n, _ in headers):
        return headers
    out = []
    for name, value in headers:
        lower = name.lower()
        if lower == "transfer-encoding":
            out.append(("X-Archive-Orig-Transfer-Encoding", value))
        elif lower == "content-length" and body_len is not None:
            out.append(("X-Archive-Orig-Content-Length", value))
        else:
            out.append((name, value))
    if body_len is not None:
        out.append(("Content-Length", str(body_len)))
    return out


def request_headers(
    method: str, target: str, headers: Sequence[tuple[str, str]], http_version: str
) -> StatusAndHeaders:
    if not re.fullmatch(r"[A-Za-z]+", method) or not target or has_space(target):
        raise ValueError(f"invalid HTTP request line: {method!r} {target!r}")
    check_latin1(target, "HTTP request target")
    return Latin1Headers(f"{target} {http_version}", check_http_headers(headers), method)


def status_headers(
    status: int,
    reason: str,
    headers: Sequence[tuple[str, str]],
    body_len: int | None,
    http_version: str,
) -> StatusAndHeaders:
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 999:
        raise ValueError(f"HTTP status must be an integer 100-999, got {status!r}")
    check_text(reason, "HTTP reason")
    if "\r" in reason or "\n" in reason:
        raise ValueError(f"HTTP reason must not contain CR/LF: {reason!r}")
    check_latin1(reason, "HTTP reason")
    if not re.fullmatch(r"HTTP/\d(\.\d)?", http_version):
        raise ValueError(f"invalid HTTP version {http_version!r}")
    line = f"{status} {reason}" if reason else str(status)
    return Latin1Headers(line, _untransfer(check_http_headers(headers), body_len), http_version)


def resource_extra(extra_headers: Mapping[str, str] | None) -> list[tuple[str, str]]:
    extra = list((extra_headers or {}).items())
    for name, _ in extra:
        if name.lower() in RESERVED_HEADERS:
            raise ValueError(f"extra header {name} is set by the writer itself")
    return extra


def revisit_extra(original: RecordRef) -> list[tuple[str, str]]:
    """The identical-payload-digest revisit fields pointing at ``original``."""
    if not original.payload_digest:
        raise ValueError(f"original record {original.record_id} has no payload digest")
    return [
        ("WARC-Refers-To", check_record_id(original.record_id)),
        ("WARC-Profile", REVISIT_PROFILE),
        ("WARC-Refers-To-Target-URI", original.target_uri),
        ("WARC-Refers-To-Date", iso(utc(original.date))),
        ("WARC-Payload-Digest", original.payload_digest),
    ]


def revisit_http(
    original: RecordRef, status: int | None, reason: str, headers: Sequence[tuple[str, str]]
) -> tuple[int, StatusAndHeaders]:
    """The status and HTTP headers of an HTTP revisit, the status defaulting to the original's."""
    status = original.http_status if status is None else status
    if status is None:
        raise ValueError("an HTTP revisit needs a status (none given, none on the original)")
    # No reason given: the standard phrase, so the status line looks like a normal one.
    reason = reason or standard_reason(status)
    return status, status_headers(status, reason, headers, None, "HTTP/1.1")


def standard_reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value)  # sorted, so the same fields always give the same bytes
    raise TypeError(f"metadata value of type {type(value).__name__} is not JSON serialisable")


def metadata_block(uri: str, fields: Mapping[str, Any]) -> bytes:
    try:
        text = json.dumps(
            fields, sort_keys=True, ensure_ascii=False, allow_nan=False, default=json_default
        )
        return text.encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError) as exc:
        raise ValueError(f"metadata for {uri} cannot be stored as JSON: {exc}") from None


def conversion_block(uri: str, text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"conversion text for {uri} is not valid Unicode: {exc}") from None


def compress(record: bytes) -> bytes:
    """The record as one standard gzip member.

    ISA-L at level 2 rather than warcio's zlib at level 9: about 20 times less CPU per record for
    members some 17 % larger (bench/warc_compression.py); any gzip reader inflates them.
    """
    return igzip.compress(record, GZIP_LEVEL)


def sha1_digest(*parts: bytes) -> str:
    """A WARC digest field value: "sha1:" and the base32 SHA-1 of the parts, as warcio writes."""
    digest = hashlib.sha1()
    for part in parts:
        digest.update(part)
    return "sha1:" + base64.b32encode(digest.digest()).decode("ascii")


def record_headers(
    rtype: str, record_id: str, stamp: datetime, uri: str, extra: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    return [
        ("WARC-Type", rtype),
        ("WARC-Record-ID", record_id),
        ("WARC-Date", iso(stamp)),
        ("WARC-Target-URI", uri),
        *extra,
    ]


@dataclass(frozen=True)
class BuiltRecord:
    """One serialised record (uncompressed) and its WARC header fields as written."""

    data: bytes
    headers: list[tuple[str, str]]


def build_record(
    headers: list[tuple[str, str]],
    block: bytes,
    content_type: str | None,
    http: bytes | None = None,
) -> BuiltRecord:
    """The record's bytes exactly as warcio's WARCWriter writes them, without its machinery.

    ``headers`` start with WARC-Type; ``http`` is the HTTP head of an HTTP record (the block is
    then the body after it). The fields added, in warcio's order: WARC-Payload-Digest (but for
    warcinfo and revisit records, or when given), WARC-Block-Digest, Content-Type (when not
    None), Content-Length. tests/test_warc.py compares the bytes with warcio's.
    """
    for name, value in headers:
        check_warc_field(name, value)
    check_warc_field("Content-Type", content_type or "")
    if not isinstance(block, bytes | bytearray):
        raise TypeError(f"record content must be bytes, got {type(block).__name__}")
    rtype = headers[0][1]
    given = {name.lower() for name, _ in headers}
    fields = list(headers)
    if rtype not in NO_PAYLOAD_DIGEST and "warc-payload-digest" not in given:
        fields.append(("WARC-Payload-Digest", sha1_digest(block)))
    if "warc-block-digest" not in given:
        fields.append(("WARC-Block-Digest", sha1_digest(http or b"", block)))
    if content_type is not None:
        fields.append(("Content-Type", content_type))
    # A revisit with an HTTP head keeps the head only (warcio's rule).
    length = len(block) if http is None else len(http) + (0 if rtype == "revisit" else len(block))
    fields.append(("Content-Length", str(length)))
    head = f"WARC/{WARC_VERSION}\r\n" + "".join(f"{n}: {v}\r\n" for n, v in fields) + "\r\n"
    parts = [head.encode("utf-8")]
    if http is not None:
        parts.append(http)
    if rtype != "revisit":
        parts.append(block)
    parts.append(b"\r\n\r\n")
    return BuiltRecord(b"".join(parts), fields)


def warcinfo_fields(prefix: str, hostname: str, info: Mapping[str, str]) -> dict[str, str]:
    """The warcinfo fields in their conventional order; ``info`` overrides the defaults."""
    fields = {
        "software": f"newsvault/{__version__} warcio/{version('warcio')}",
        "format": "WARC File Format 1.1",
        "conformsTo": CONFORMS_TO,
        "isPartOf": prefix,
        "robots": "obey",
        "http-header-user-agent": f"newsvault/{__version__}",
        "operator": "",
        "hostname": hostname,
    }
    fields.update(info)
    for name, value in fields.items():
        check_warc_field(name, str(value))
    return {name: str(value) for name, value in fields.items() if value}


def warcinfo_record(
    fields: Mapping[str, str], record_id: str, stamp: datetime, filename: str
) -> BuiltRecord:
    block = "".join(f"{key}: {value}\r\n" for key, value in fields.items()).encode("utf-8")
    headers = [
        ("WARC-Type", "warcinfo"),
        ("WARC-Record-ID", record_id),
        ("WARC-Date", iso(stamp)),
        ("WARC-Filename", filename),
    ]
    return build_record(headers, block, "application/warc-fields")


def record_ref(
    headers: Sequence[tuple[str, str]], warc_file: str, offset: int, length: int, stamp: datetime
) -> RecordRef:
    """The index entry for a record (its WARC fields as written) placed at ``offset``."""
    got: dict[str, str] = {}
    for name, value in headers:
        got.setdefault(name.lower(), value)
    return RecordRef(
        record_id=got["warc-record-id"],
        record_type=got["warc-type"],
        warc_file=warc_file,
        offset=offset,
        length=length,
        target_uri=got["warc-target-uri"],
        date=stamp,
        payload_digest=got.get("warc-payload-digest"),
        block_digest=got.get("warc-block-digest"),
        content_type=got.get("content-type"),
        refers_to=got.get("warc-refers-to") or got.get("warc-concurrent-to"),
    )


@dataclass(frozen=True)
class PreparedRecord:
    """A record built and compressed, not yet placed in a file: what a WarcWriter appends.

    Built where the CPU is to spare (an extraction worker builds an item's derived records), and
    placed by the writer of the crawl, which flushes it before any row points at it.
    """

    what: str  # "metadata for URI", for error messages
    headers: list[tuple[str, str]]  # the WARC fields as written
    member: bytes  # the record as one gzip member
    stamp: datetime


def prepare_record(
    rtype: str,
    uri: str,
    when: datetime,
    record_id: str,
    extra: list[tuple[str, str]],
    block: bytes,
    content_type: str | None,
    http: bytes | None = None,
) -> PreparedRecord:
    check_uri(uri)
    stamp = utc(when)
    record_id = check_record_id(record_id, "record_id_factory result")
    headers = record_headers(rtype, record_id, stamp, uri, extra)
    record = build_record(headers, block, content_type, http)
    return PreparedRecord(f"{rtype} for {uri}", record.headers, compress(record.data), stamp)


def conversion_parts(
    uri: str, text: str, refers_to: str
) -> tuple[list[tuple[str, str]], bytes, str]:
    """(extra fields, block, content type) of a conversion record holding ``text``."""
    block = conversion_block(uri, text)
    return [("WARC-Refers-To", check_record_id(refers_to))], block, "text/plain; charset=utf-8"


def metadata_parts(
    uri: str, fields: Mapping[str, Any], refers_to: str | None
) -> tuple[list[tuple[str, str]], bytes, str]:
    """(extra fields, block, content type) of a metadata record holding ``fields`` as JSON."""
    block = metadata_block(uri, fields)
    extra = [("WARC-Refers-To", check_record_id(refers_to))] if refers_to else []
    return extra, block, "application/json"


def with_status(ref: RecordRef, status: int) -> RecordRef:
    return RecordRef(**{**ref.__dict__, "http_status": status})
