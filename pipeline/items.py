"""Typed items: what flows from spiders through the item pipelines."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from pipeline.extract.model import ExtractedDocument

if TYPE_CHECKING:
    from pipeline.analysis import Analysis
    from pipeline.indexer import Decision


@dataclass(frozen=True)
class RecordRef:
    """Where one WARC record lies, and the headers the index keeps of it."""

    record_id: str  # "<urn:uuid:...>"
    record_type: str  # warcinfo, resource, request, response, revisit, conversion, metadata
    warc_file: str  # file name without directory and without the ".open" suffix
    offset: int  # of the record's gzip member in the file
    length: int  # compressed length of that member
    target_uri: str
    date: datetime  # WARC-Date, timezone-aware UTC
    payload_digest: str | None = None  # "sha1:BASE32"
    block_digest: str | None = None
    content_type: str | None = None
    refers_to: str | None = None  # WARC-Refers-To / WARC-Concurrent-To record id
    http_status: int | None = None


@dataclass
class ArchiveItem:
    """One input (a local file or an HTTP response) on its way to the index.

    Spiders fill the capture part; ExtractPipeline sets ``document`` or ``failure``;
    DedupPipeline sets ``outcome``; StorePipeline writes the rows.
    """

    url: str
    fetched_at: datetime
    capture: RecordRef | None = None  # resource, response or revisit record
    request_record: RecordRef | None = None
    body: bytes = b""  # decoded body (Content-Encoding removed) for extraction
    content_type: str | None = None
    http_status: int | None = None
    filename: str | None = None  # local path for file inputs
    revisit_of: RecordRef | None = None  # the original capture when this is a payload revisit
    index_as_article: bool = True  # False for captured-only pages (feeds, sitemaps, hubs)
    document: ExtractedDocument | None = None
    derived: list[RecordRef] = field(default_factory=list)  # conversion + metadata records
    failure: str | None = None
    failure_stage: str | None = None
    outcome: str | None = None  # new, revisit, same-text, near-duplicate, captured, failed
    text_digest: str | None = None
    document_id: int | None = None
    duplicate_of: int | None = None
    similarity: float | None = None
    story_id: int | None = None
    analysis: Analysis | None = field(default=None, repr=False)  # fingerprints, set by Extract
    decision: Decision | None = field(default=None, repr=False)  # set by Dedup

    def fail(self, stage: str, reason: str) -> None:
        self.failure_stage = stage
        self.failure = reason
        self.outcome = "failed"
