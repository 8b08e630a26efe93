"""The conversion and metadata records written for each capture, and reading them back for reindex.

Every resource/response capture gets exactly one metadata record saying what became of it
(document fields, captured-only, or the failure reason), so the WARC files alone rebuild the index.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from pipeline.extract.model import ExtractedDocument
from pipeline.items import ArchiveItem
from pipeline.warc.ref import RecordRef
from pipeline.warc.writer import WarcWriter

# Reserved and already-escaped characters stay as they are; anything else is percent-encoded.
URI_SAFE = ":/?#[]@!$&'()*+,;=%~"
DOCUMENT_FIELDS = (
    "title", "author", "published", "site", "description", "language", "canonical_url",
    "source_kind", "encoding",
)  # fmt: skip


def metadata_fields(item: ArchiveItem) -> dict[str, Any]:
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
    if item.failure is not None:
        fields.update(failure=item.failure, stage=item.failure_stage)
        return fields
    if not item.index_as_article or item.document is None:
        fields["indexed"] = False
        return fields
    document = item.document
    fields.update({name: getattr(document, name) for name in DOCUMENT_FIELDS})
    fields.update(
        indexed=True,
        word_count=document.word_count,
        text_digest=item.text_digest,
        removed=[list(pair) for pair in document.removed],
    )
    return fields


def record_uri(url: str) -> str:
    """A WARC-Target-URI: inputs such as a bad line of a URL list may hold spaces or controls."""
    return quote(url.strip(), safe=URI_SAFE) or "urn:newsvault:unknown-input"


def write_derived_records(writer: WarcWriter, item: ArchiveItem) -> list[RecordRef]:
    """Conversion (clean text) and metadata records for an item, flushed before any row commits."""
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
