"""``copy=true`` for the warc spider: rewrite imported records into our own WARC files.

Payloads are copied as stored (Content-Encoding kept); a payload stored chunked is de-chunked,
and the writer renames Transfer-Encoding and sets Content-Length, so the copy verifies.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator
from typing import TYPE_CHECKING

from warcio.bufferedreaders import ChunkedDataReader

from pipeline.warc.ref import RecordRef
from spiders.warc_source import ScannedRecord, ScanProblem

if TYPE_CHECKING:
    from pipeline.crawl.runtime import ArchiveRuntime
    from pipeline.warc.writer import WarcWriter
    from spiders.warc_record_index import RecordIndex


def _stored_body(scanned: ScannedRecord) -> bytes:
    chunked = any(
        name.lower() == "transfer-encoding" and value.strip().lower() == "chunked"
        for name, value in scanned.http_headers
    )
    if not chunked:
        return scanned.raw_payload
    return ChunkedDataReader(io.BytesIO(scanned.raw_payload), decomp_type=None).read()


def copy_one(writer: WarcWriter, scanned: ScannedRecord, index: RecordIndex) -> RecordRef | None:
    """The copy's reference; None for a revisit whose original is unknown (left uncopied)."""
    ref = scanned.ref
    if ref.record_type not in ("resource", "response", "request", "revisit"):
        # metadata, conversion and other records stay where they lie: in our WARC files a
        # metadata record is what the index made of a capture, and reindex reads it as such.
        return None
    if ref.record_type in ("response", "request") and not scanned.http_headers:
        # Not HTTP (dns: lookups of wget and Heritrix, WARC/0.17 files): the block as stored.
        # The writer has public builders for HTTP records only; its _write builds any type.
        return writer._write(
            ref.record_type, ref.target_uri, ref.date, [], scanned.raw_payload, ref.content_type
        )
    if ref.record_type == "resource":
        return writer.write_resource(
            ref.target_uri, scanned.raw_payload, content_type=ref.content_type, date=ref.date
        )
    if ref.record_type == "response":
        return writer.write_response(
            ref.target_uri,
            status=ref.http_status or 200,
            reason=scanned.reason,
            headers=scanned.http_headers,
            body=_stored_body(scanned),
            http_version=scanned.protocol,
            date=ref.date,
        )
    if ref.record_type == "request":
        concurrent = index.copied.get(scanned.concurrent_to or "")
        return writer.write_request(
            ref.target_uri,
            method=scanned.method or "GET",
            target=scanned.target or "/",
            headers=scanned.http_headers,
            body=scanned.raw_payload,
            http_version=scanned.protocol,
            date=ref.date,
            concurrent_to=concurrent.record_id if concurrent else scanned.concurrent_to,
        )
    original = index.original_of(scanned)
    if original is None:
        return None
    return writer.write_revisit(
        ref.target_uri,
        original=original,
        status=ref.http_status,
        reason=scanned.reason,
        headers=scanned.http_headers,
        date=ref.date,
        resource=ref.http_status is None,
    )


def copy_records(
    records: Iterator[ScannedRecord | ScanProblem], runtime: ArchiveRuntime, index: RecordIndex
) -> Iterator[ScannedRecord | ScanProblem]:
    """The same records, each pointing at its copy in our WARC (problems pass through)."""
    writer = runtime.writer
    assert writer is not None
    for scanned in records:
        if isinstance(scanned, ScanProblem):
            yield scanned
            continue
        old = scanned.ref
        if scanned.too_large:  # its payload was not read: nothing to copy
            scanned.anomalies.append("not copied (payload over the size limit): kept where it lies")
            yield scanned
            continue
        try:
            new = copy_one(writer, scanned, index)
        except ValueError as error:  # the writer refuses malformed headers and ids by name
            # Kept where it lies instead: a record our writer cannot express is still a record.
            scanned.anomalies.append(f"not copied ({error}): indexed where it lies")
            yield scanned
            continue
        if new is None:
            yield scanned
            continue
        index.copied[old.record_id] = new
        if old.record_type == "request" and scanned.concurrent_to in index.copied:
            index.request_for[index.copied[scanned.concurrent_to].record_id] = new
        yield dataclasses.replace(scanned, ref=new)
