"""Reading external WARC/WACZ files for import: inputs, records with their location, integrity.

warcio's ArchiveIterator is lenient: a truncated file just ends the iteration and a cut-off
payload comes back short. So each record is also checked on its own (whole gzip member, block as
long as its Content-Length says) and the offsets must tile the file; anything else is a problem
with a reason, reported instead of silently importing less.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.timeutils import iso_date_to_datetime

from pipeline.warc.reading import (
    WarcReadError,
    decoded_http_payload,
    header_end,
    read_record,
    target_uri,
    verify_record,
)
from pipeline.warc.record_ids import arc_record_id, is_arc_location
from pipeline.warc.ref import RecordRef
from pipeline.warc.wacz_reading import location_size, open_location, wacz_members

IMPORT_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz", ".wacz")
IMPORT_KINDS = ".warc, .warc.gz, .arc, .arc.gz or .wacz"
# Between records a WARC has CRLF CRLF (an ARC one LF); more blank lines are slack some writers
# add: a warning, not the end of the file.
STANDARD_GAP = {"warc": 4, "arc": 1}


class ImportInputError(ValueError):
    """The -a path of the warc spider names nothing importable."""


@dataclass
class ScannedRecord:
    ref: RecordRef  # warc_file is the location: absolute path, or "file.wacz#archive/x.warc.gz"
    refers_to_uri: str | None = None
    refers_to_date: str | None = None
    concurrent_to: str | None = None
    http_headers: list[tuple[str, str]] = field(default_factory=list)
    protocol: str = "HTTP/1.1"
    reason: str = ""
    method: str | None = None  # request records
    target: str | None = None
    raw_payload: bytes = b""  # as stored: still Content-Encoded (and chunked if stored so)
    source_id: str = ""  # WARC-Record-ID as stored, when the index knows the record by another
    anomalies: list[str] = field(default_factory=list)  # how the source departs from the WARC spec
    slack: int = 0  # bytes of blank lines beyond the standard gap before this record
    too_large: int = 0  # the payload limit it went over (payload not read), else 0


@dataclass(frozen=True)
class ScanProblem:
    location: str
    offset: int
    reason: str


def import_inputs(path: str) -> list[Path]:
    """The importable files at ``path`` (a file, or a folder walked recursively)."""
    root = Path(path).expanduser().absolute()
    if not root.exists():
        raise ImportInputError(f"path: no such file or folder: {path}")
    if root.is_file():
        if not root.name.lower().endswith(IMPORT_SUFFIXES):
            raise ImportInputError(f"path: {path} is not a {IMPORT_KINDS} file")
        if root.stat().st_size == 0:
            raise ImportInputError(f"path: {path} is empty: no records to import")
        return [root]
    found = sorted(
        p for p in root.rglob("*") if p.is_file() and p.name.lower().endswith(IMPORT_SUFFIXES)
    )
    if not found:
        raise ImportInputError(f"path: no {IMPORT_KINDS} files under {path}")
    return found


def unsupported_inputs(path: str) -> list[Path]:
    """The files of a folder import that are not importable: each gets a failure row."""
    root = Path(path).expanduser().absolute()
    if not root.is_dir():
        return []
    return sorted(
        p for p in root.rglob("*") if p.is_file() and not p.name.lower().endswith(IMPORT_SUFFIXES)
    )


def locations(path: Path) -> list[str]:
    """The WARC locations inside one input: the file itself, or a WACZ's archive/ members."""
    if path.name.lower().endswith(".wacz"):
        return [f"{path}#{member}" for member in wacz_members(path)]
    return [str(path)]


DEFAULT_MAX_PAYLOAD = 20 * 1024 * 1024  # ARCHIVE_MAX_FILE_SIZE's default
# Why bounded: a record's gzip member may inflate to gigabytes (a "gzip bomb", or just a huge
# capture); it is inflated in chunks, and only its head is kept.
HEAD_BYTES = 1 << 20
CHUNK_BYTES = 1 << 20


def _record_bytes(
    location: str, offset: int, length: int, *, head_only: bool = False
) -> tuple[bytes, int, str | None]:
    """The record's first HEAD_BYTES (inflated), its whole inflated size (unless ``head_only``)
    and why its gzip member is broken, or None."""
    with open_location(location) as fh:
        fh.seek(offset)
        pending = fh.read(min(length, CHUNK_BYTES))
        remaining = length - len(pending)
        if pending[:2] != b"\x1f\x8b":
            total = len(pending)
            while (
                remaining > 0 and not head_only and (more := fh.read(min(remaining, CHUNK_BYTES)))
            ):
                total += len(more)
                remaining -= len(more)
            return pending[:HEAD_BYTES], total, None
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        head = bytearray()
        total = 0
        while True:
            try:
                out = inflater.decompress(pending, CHUNK_BYTES)
            except zlib.error as error:
                return bytes(head), total, f"corrupt gzip member: {error}"
            total += len(out)
            if len(head) < HEAD_BYTES:
                head += out[: HEAD_BYTES - len(head)]
            if inflater.eof or (head_only and len(head) >= HEAD_BYTES):
                break
            pending = inflater.unconsumed_tail
            if not pending:
                pending = fh.read(min(remaining, CHUNK_BYTES)) if remaining > 0 else b""
                remaining -= len(pending)
                if not pending:
                    break
    if not inflater.eof and not head_only:
        return bytes(head), total, "truncated gzip member"
    return bytes(head), total, None


def check_record(location: str, offset: int, length: int) -> str | None:
    """Why the record at ``offset`` is incomplete, or None when it is whole."""
    head, total, problem = _record_bytes(location, offset, length)
    if problem is not None:
        return problem
    head_end = header_end(head)
    if head_end < 0:
        return "truncated WARC header"
    declared = 0
    for line in head[:head_end].split(b"\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            declared = int(value)
    have = total - head_end
    if have < declared:
        return f"truncated record: Content-Length {declared} but only {have} bytes"
    return None


def check_arc_record(location: str, offset: int, length: int) -> str | None:
    """Why the ARC record at ``offset`` is incomplete (its header line's length is not all
    there; warcio reads a cut-off ARC record as a shorter one), or None when it is whole."""
    head, total, problem = _record_bytes(location, offset, length)
    if problem is not None:
        return problem
    line_end = head.find(b"\n")
    fields = head[:line_end].split() if line_end >= 0 else []
    if not fields:
        return "truncated ARC header"
    if not fields[-1].isdigit():
        return None  # a length like -1 or "abc" (pywb's bad.arc): kept as warcio reads it
    declared, have = int(fields[-1]), total - (line_end + 1)
    if have < declared:
        return f"truncated record: length {declared} but only {have} bytes"
    return None


def read_bounded(stream: BinaryIO, limit: int) -> tuple[bytes, bool]:
    """Up to ``limit`` bytes of ``stream`` in chunks, and whether there was more (then the
    bytes are dropped: a record over the limit is not read at all)."""
    parts: list[bytes] = []
    size = 0
    while chunk := stream.read(min(CHUNK_BYTES, limit + 1 - size)):
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"", True
    return b"".join(parts), False


def source_anomalies(location: str, offset: int, length: int) -> list[str]:
    """How the record departs from WARC/1.1 as written: old versions, odd URIs, digests that do
    not match. Found at import, stored with the item, so ``verify`` can tell them apart from
    changes made to the file later."""
    data, _, _ = _record_bytes(location, offset, length, head_only=True)
    head = data[: max(0, header_end(data))].decode("latin-1", "replace").splitlines()
    anomalies = []
    if head and head[0].strip() not in ("WARC/1.0", "WARC/1.1"):
        anomalies.append(f"version {head[0].strip()[:20]}")
    for line in head[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "warc-target-uri" and value.strip().startswith("<"):
            anomalies.append("WARC-Target-URI in angle brackets")
    try:
        stored = read_record(Path("/"), location, offset)
    except WarcReadError as error:
        return [*anomalies, f"not readable record by record: {error.problem}"]
    return anomalies + verify_record(stored)


def _scanned(record: object, ref: RecordRef, payload: bytes) -> ScannedRecord:
    get = record.rec_headers.get_header  # type: ignore[attr-defined]
    http = record.http_headers  # type: ignore[attr-defined]
    scanned = ScannedRecord(
        ref=ref,
        refers_to_uri=get("WARC-Refers-To-Target-URI"),
        refers_to_date=get("WARC-Refers-To-Date"),
        concurrent_to=get("WARC-Concurrent-To"),
        raw_payload=payload,
    )
    if http is not None:
        scanned.http_headers = list(http.headers)
        scanned.protocol = http.protocol or "HTTP/1.1"
        if ref.record_type == "request":
            scanned.method = http.protocol  # warcio puts the method where a status has protocol
            target, _, version = http.statusline.partition(" ")
            scanned.target, scanned.protocol = target, version or "HTTP/1.1"
        else:
            scanned.reason = http.statusline.partition(" ")[2]
    return scanned


def _ref(record: object, location: str, offset: int, length: int) -> RecordRef:
    get = record.rec_headers.get_header  # type: ignore[attr-defined]
    http = record.http_headers  # type: ignore[attr-defined]
    status = None
    if http is not None and get("WARC-Type") != "request":
        code = http.get_statuscode()
        status = int(code) if code and code.isdigit() else None
    content_type = http.get_header("Content-Type") if http is not None else None
    record_id = get("WARC-Record-ID") or ""
    if is_arc_location(location):
        record_id = arc_record_id(location, offset)
    return RecordRef(
        record_id=record_id,
        record_type=get("WARC-Type") or "",
        warc_file=location,
        offset=offset,
        length=length,
        target_uri=target_uri(get("WARC-Target-URI") or ""),
        date=iso_date_to_datetime(get("WARC-Date"), tz_aware=True),
        payload_digest=get("WARC-Payload-Digest"),
        block_digest=get("WARC-Block-Digest"),
        content_type=content_type or get("Content-Type"),
        refers_to=get("WARC-Refers-To") or get("WARC-Concurrent-To"),
        http_status=status,
    )


BLANK = b"\r\n\t \0"


def _gap(location: str, start: int, end: int) -> tuple[int, int] | None:
    """Between two records: (bytes, of which not blank). Blank lines and gzip padding are slack;
    one line of data is what warcio skips after a record whose Content-Length is too short.
    None for anything else."""
    if end - start > 1 << 20:
        return None
    with open_location(location) as fh:
        fh.seek(start)
        gap = fh.read(end - start)
    if not gap.strip(BLANK):
        return len(gap), 0
    line, _, rest = gap.partition(b"\n")
    if not rest.strip(BLANK):
        return len(gap), len(line) + 1
    return None


def scan(
    location: str, *, payloads: bool = True, max_payload: int = DEFAULT_MAX_PAYLOAD
) -> Iterator[ScannedRecord | ScanProblem]:
    """Every record but warcinfo of one WARC or ARC location, in file order; a problem ends the
    location. Blank lines between records beyond the standard gap are counted as ``slack``.
    A payload over ``max_payload`` bytes is not read: the record comes with ``too_large``."""
    arc = is_arc_location(location)
    standard = STANDARD_GAP["arc" if arc else "warc"]
    expected = 0
    if location_size(location) == 0:
        yield ScanProblem(location, 0, "empty file: no records")
        return
    with open_location(location) as fh:
        compressed = fh.read(2) == b"\x1f\x8b"
        fh.seek(0)
        iterator = ArchiveIterator(fh, check_digests=False, arc2warc=arc)
        try:
            for record in iterator:
                # The payload first: asking for the offset reads the record to its end.
                payload, too_large = (
                    read_bounded(record.raw_stream, max_payload) if payloads else (b"", False)
                )
                offset, length = iterator.get_record_offset(), iterator.get_record_length()
                found = _gap(location, expected, offset) if offset != expected else (0, 0)
                if found is None or record.format != "warc":
                    break
                gap, overrun = found
                check = check_arc_record if arc else check_record
                problem = check(location, offset, length)
                if problem is not None:
                    yield ScanProblem(location, offset, problem)
                    return
                slack = gap if compressed or expected == 0 else max(0, gap - standard)
                expected = offset + length
                if record.rec_type == "warcinfo":
                    continue
                scanned = _scanned(record, _ref(record, location, offset, length), payload)
                scanned.slack = slack
                scanned.source_id = scanned.ref.record_id
                scanned.too_large = max_payload if too_large else 0
                if payloads and not arc and not too_large:
                    scanned.anomalies = source_anomalies(location, offset, length)
                if overrun:
                    scanned.anomalies.append(
                        f"{overrun} byte(s) of data before this record, after the Content-Length "
                        "of the record before it (too short?)"
                    )
                yield scanned
        except Exception as error:  # warcio raises whatever its parsers hit in corrupt data
            # A cut-off record makes warcio fail in many ways: say so when that is the cause.
            size = location_size(location)
            cut = check_record(location, expected, size - expected) if expected < size else None
            yield ScanProblem(location, expected, cut or f"unreadable WARC data: {error}")
            return
    size = location_size(location)
    if expected != size and _gap(location, expected, size) != (size - expected, 0):
        yield ScanProblem(location, expected, "not a WARC record here (truncated or corrupt file)")


def decoded_payload(scanned: ScannedRecord) -> bytes:
    """The payload with Transfer-Encoding and Content-Encoding removed, as a browser sees it."""
    return decoded_http_payload(scanned.http_headers, scanned.raw_payload)
