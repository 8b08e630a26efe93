"""The conversion and metadata records written for each capture, and reading them back for reindex.

Every resource/response capture gets exactly one metadata record saying what became of it
(document fields, captured-only, or the failure reason), so the WARC files alone rebuild the index.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pipeline.extract.model import ExtractedDocument
from pipeline.items import ArchiveItem
from pipeline.warc import records
from pipeline.warc.records import PreparedRecord
from pipeline.warc.ref import RecordRef
from pipeline.warc.writer import WarcWriter

PREPARED_ATTRIBUTE = "_archive_prepared_records"
# Reserved and already-escaped characters stay as they are; anything else is percent-encoded.
URI_SAFE = ":/?#[]@!$&'()*+,;=%~"
DOCUMENT_FIELDS = (
    "title", "author", "published", "site", "description", "language", "canonical_url",
    "source_kind", "encoding",
)  # fmt: skip


def metadata_fields(item: ArchiveItem) -> dict[str, Any]:
    fields = capture_fields(item)
    if item.failure is not None:
        fields.update(failure=item.failure, stage=item.failure_stage)
        return fields
    if not item.index_as_article or item.document is None:
        fields["indexed"] = False
        return fields
    fields.update(document_fields(item.document, item.text_digest))
    return fields


def capture_fields(item: ArchiveItem) -> dict[str, Any]:
    """The metadata fields that say what was captured, whatever became of it."""
    fields: dict[str, Any] = {"url": item.url, "fetched_at": item.fetched_at.isoformat()}
    if item.filename:
        fields["filename"] = item.filename
    if item.capture is not None and Path(item.capture.warc_file).is_absolute():
        # Imported records are indexed where they lie; reindex must find them there again.
        fields["source_record"] = {
            "warc_file": item.capture.warc_file,
            "offset": item.capture.offset,
        }
        request = item.request_record
        if request is not None and Path(request.warc_file).is_absolute():
            fields["request_record"] = {"warc_file": request.warc_file, "offset": request.offset}
    if item.source_anomalies:
        fields["source_anomalies"] = item.source_anomalies
    if item.revisit_of is not None:
        fields["revisit_of"] = item.revisit_of.record_id
    return fields


def document_fields(document: ExtractedDocument, text_digest: str | None) -> dict[str, Any]:
    """The metadata fields of an indexed document."""
    fields: dict[str, Any] = {name: getattr(document, name) for name in DOCUMENT_FIELDS}
    fields.update(
        indexed=True,
        word_count=document.word_count,
        text_digest=text_digest,
        removed=[list(pair) for pair in document.removed],
    )
    return fields


def record_uri(url: str) -> str:
    """A WARC-Target-URI: inputs such as a bad line of a URL list may hold spaces or controls."""
    return quote(url.strip(), safe=URI_SAFE) or "urn:newsvault:unknown-input"


@dataclass(frozen=True)
class DerivedContext:
    """What an extraction worker needs to build an item's derived records once it has its
    document: the same records write_derived_records would write for it at store time."""

    uri: str
    source_id: str
    capture_fields: dict[str, Any]


def derived_context(item: ArchiveItem) -> DerivedContext | None:
    """For an item on its way to extraction (no failure): None when it has no capture."""
    source = item.capture
    if source is None or item.failure is not None or not item.index_as_article:
        return None
    return DerivedContext(source.target_uri, source.record_id, capture_fields(item))


def prepare_derived_records(
    context: DerivedContext, document: ExtractedDocument, text_digest: str
) -> tuple[PreparedRecord, ...]:
    """The conversion and metadata records of an extracted item, built and compressed (in the
    extraction worker); the crawl's writer places them (write_derived_records)."""
    fields = {**context.capture_fields, **document_fields(document, text_digest)}
    conversion = records.conversion_parts(context.uri, document.text, context.source_id)
    metadata = records.metadata_parts(context.uri, fields, context.source_id)
    return tuple(
        records.prepare_record(
            rtype, context.uri, records.utc_now(), records.new_record_id(), *parts
        )
        for rtype, parts in (("conversion", conversion), ("metadata", metadata))
    )


def attach_prepared(item: ArchiveItem, prepared: tuple[PreparedRecord, ...]) -> None:
    """Keep the records an extraction worker built for the item's current document until the
    item is stored; they count only while that document is the item's (prepared_records).

    An attribute, not a field of the dataclass: feed exports of the crawl's items and the copy
    sent to the index writer (dataclasses.replace) leave it out.
    """
    setattr(item, PREPARED_ATTRIBUTE, (item.document, prepared))


def prepared_records(item: ArchiveItem) -> tuple[PreparedRecord, ...]:
    """The records attached for the item's document; none if another document replaced it."""
    attached: tuple[ExtractedDocument | None, tuple[PreparedRecord, ...]] | None = getattr(
        item, PREPARED_ATTRIBUTE, None
    )
    if attached is None or attached[0] is not item.document:
        return ()
    return attached[1]


def write_derived_records(writer: WarcWriter, item: ArchiveItem) -> list[RecordRef]:
    """Conversion (clean text) and metadata records for an item, flushed before any row commits.

    Records an extraction worker built for the item (attach_prepared, for a document that is
    still the item's, without failure) are placed as they are; the others are built here.
    """
    prepared = prepared_records(item)
    if prepared and item.failure is None and item.document is not None:
        return [writer.place(record) for record in prepared]
    source = item.capture
    refs: list[RecordRef] = []
    refers_to = source.record_id if source else None
    uri = source.target_uri if source is not None else record_uri(item.url)
    if item.document is not None and item.failure is None and source is not None:
        refs.append(writer.write_conversion(uri, item.document.text, refers_to=source.record_id))
    refs.append(writer.write_metadata(uri, metadata_fields(item), refers_to=refers_to))
    return refs


def document_from_fields(fields: dict[str, Any], text: str) -> ExtractedDocument:
    removed = tuple((str(line), str(kind)) for line, kind in fields.get("removed") or [])
    values: dict[str, Any] = {name: fields.get(name) for name in DOCUMENT_FIELDS}
    values["source_kind"] = values["source_kind"] or "text"
    return ExtractedDocument(text=text, removed=removed, **values)
