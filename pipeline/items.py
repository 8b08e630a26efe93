"""Typed items: what flows from spiders through the item pipelines."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pipeline.dedup.fingerprints import Analysis
from pipeline.extract.model import ExtractedDocument
from pipeline.index.decision import Decision
from pipeline.warc.ref import RecordRef


@dataclass
class ArchiveItem:
    """One input (a local file or an HTTP response) on its way to the index.

    Spiders fill the capture part; ExtractPipeline sets ``document`` or ``failure``;
    StorePipeline writes its derived records and hands it to the index writer, which decides
    ``outcome`` and writes the rows.
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
    from_archive: bool = False  # served from the archive on resume: indexed already
    source_anomalies: list[str] = field(default_factory=list)  # imported: how the source was
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

    def fail_on_http_error(self) -> None:
        """An HTTP error answer (4xx, 5xx) is a failure row, however the item came: a crawl,
        an import, or the replay of what a killed crawl archived."""
        if self.http_status is not None and self.http_status >= 400:
            self.fail("fetch", f"HTTP {self.http_status}")
