"""`scrapy crawl warc -a path=FILE_OR_DIR [-a copy=true]`: import existing WARC and WACZ files.

Nothing is fetched. Each response/resource record becomes an item whose capture points at the
record where it lies (``warc_file`` is the absolute path, or ``file.wacz#archive/x.warc.gz``);
with ``copy=true`` the records are rewritten into our own WARCs instead. Revisits are resolved to
their original (by WARC-Refers-To, then target URI and date, then payload digest), found in the
imported files or in our archive. Broken or truncated files become failure items with the reason.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import scrapy

from pipeline.items import ArchiveItem, RecordRef
from pipeline.runtime import ArchiveRuntime
from pipeline.wacz import WaczError
from spiders.article_signals import judge_article
from spiders.warc_copy import copy_records
from spiders.warc_source import (
    ImportInputError,
    ScannedRecord,
    ScanProblem,
    decoded_payload,
    import_inputs,
    locations,
    scan,
)
from spiders.web_common import ArgumentError, input_failure, parse_bool

TEXT_TYPES = (
    "text/",
    "application/xhtml",
    "application/xml",
    "application/rss",
    "application/atom",
)


class RecordIndex:
    """What the first pass learns: originals by id, by (uri, date) and by digest; requests."""

    def __init__(self) -> None:
        self.by_id: dict[str, RecordRef] = {}
        self.by_uri_date: dict[tuple[str, str], RecordRef] = {}
        self.by_digest: dict[str, RecordRef] = {}
        self.request_for: dict[str, RecordRef] = {}  # response record id -> its request record
        self.copied: dict[str, RecordRef] = {}  # copy=true: imported record id -> our copy

    def add(self, scanned: ScannedRecord) -> None:
        ref = scanned.ref
        if ref.record_type == "request":
            if scanned.concurrent_to:
                self.request_for[scanned.concurrent_to] = ref
            return
        if ref.record_type == "revisit":
            return
        self.by_id[ref.record_id] = ref
        self.by_uri_date.setdefault((ref.target_uri, ref.date.isoformat()), ref)
        if ref.payload_digest:
            self.by_digest.setdefault(ref.payload_digest, ref)

    def original_of(self, scanned: ScannedRecord) -> RecordRef | None:
        found = self._original_of(scanned)
        return self.copied.get(found.record_id, found) if found is not None else None

    def _original_of(self, scanned: ScannedRecord) -> RecordRef | None:
        ref = scanned.ref
        if ref.refers_to and ref.refers_to in self.by_id:
            return self.by_id[ref.refers_to]
        if scanned.refers_to_uri and scanned.refers_to_date:
            when = _parse_date(scanned.refers_to_date)
            found = self.by_uri_date.get((scanned.refers_to_uri, when.isoformat() if when else ""))
            if found is not None:
                return found
        return self.by_digest.get(ref.payload_digest or "")


def _parse_date(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def content_type_of(scanned: ScannedRecord) -> str | None:
    """The HTTP Content-Type for responses (the record's own is application/http), else the
    record's."""
    for name, value in scanned.http_headers:
        if name.lower() == "content-type":
            return value
    return None if scanned.ref.content_type == "application/http" else scanned.ref.content_type


def _index_as_article(ref: RecordRef, content_type: str | None, body: bytes) -> bool:
    content_type = (content_type or "").lower()
    if ref.http_status is not None and not 200 <= ref.http_status < 300:
        return False
    if "html" in content_type:
        return judge_article(body).is_article
    # Plain text files (the files spider's resources) are articles; plain text over HTTP is
    # robots.txt and the like.
    return ref.record_type == "resource" and content_type.startswith("text/plain")


class WarcImportSpider(scrapy.Spider):
    name = "warc"
    custom_settings = {"ROBOTSTXT_OBEY": False}  # noqa: RUF012 (Scrapy's own attribute)

    def __init__(self, path: str = "", copy: str = "false", *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.archive_args = {"path": path, "copy": copy}
        self.path = path
        self.argument_error: str | None = None
        try:
            self.copy = parse_bool(copy, "copy")
        except ArgumentError as error:
            self.argument_error = str(error)

    async def start(self) -> AsyncIterator[Any]:
        try:
            if self.argument_error:
                raise ArgumentError(self.argument_error)
            inputs = import_inputs(self.path)
        except (ArgumentError, ImportInputError) as error:
            self.logger.error("warc: %s", error)
            yield input_failure(self.path, str(error))
            return
        all_locations: list[str] = []
        for path in inputs:
            try:
                all_locations.extend(locations(path))
            except WaczError as error:
                self.logger.warning("warc: %s", error)
                yield input_failure(str(path), str(error))
        index = RecordIndex()
        for location in all_locations:
            for scanned in scan(location, payloads=False):
                if isinstance(scanned, ScannedRecord):
                    index.add(scanned)
        for location in all_locations:
            for item in self._items(location, index):
                yield item

    def _items(self, location: str, index: RecordIndex) -> Iterator[ArchiveItem]:
        records = scan(location)
        if self.copy:
            runtime = ArchiveRuntime.for_crawler(self.crawler)
            runtime.open(self)
            records = copy_records(records, runtime, index)
        # A copied response waits one record: its request follows it and is copied only then.
        pending: ArchiveItem | None = None
        for scanned in records:
            if pending is not None:
                yield self._with_request(pending, index)
                pending = None
            if isinstance(scanned, ScanProblem):
                self.logger.warning("warc: %s at offset %d: %s", *vars(scanned).values())
                item = input_failure(location, f"offset {scanned.offset}: {scanned.reason}")
                item.filename = location
                yield item
            elif scanned.ref.record_type in ("response", "resource", "revisit"):
                self.crawler.stats.inc_value(f"archive/import/{scanned.ref.record_type}")
                pending = self._item(scanned, index)
        if pending is not None:
            yield self._with_request(pending, index)

    @staticmethod
    def _with_request(item: ArchiveItem, index: RecordIndex) -> ArchiveItem:
        if item.request_record is None and item.capture is not None:
            item.request_record = index.request_for.get(item.capture.record_id)
        return item

    def _item(self, scanned: ScannedRecord, index: RecordIndex) -> ArchiveItem:
        ref = scanned.ref
        item = ArchiveItem(
            url=ref.target_uri,
            fetched_at=ref.date,
            capture=ref,
            request_record=index.request_for.get(ref.record_id),
            content_type=content_type_of(scanned),
            http_status=ref.http_status,
            filename=ref.warc_file,
        )
        if ref.record_type == "revisit":
            item.revisit_of = index.original_of(scanned)
            if item.revisit_of is None:
                item.revisit_of = self._archived_original(ref)
            if item.revisit_of is None:
                item.fail("input", f"revisit of {scanned.refers_to_uri}: original record not found")
                return item
            item.index_as_article = False
            return item
        try:
            item.body = decoded_payload(scanned)
        except Exception as error:  # warcio's decoders raise zlib/brotli/ValueError alike
            item.fail("input", f"cannot decode the stored payload: {error}")
            return item
        item.index_as_article = _index_as_article(ref, item.content_type, item.body)
        if ref.http_status is not None and ref.http_status >= 400:
            item.fail("fetch", f"HTTP {ref.http_status}")
        return item

    def _archived_original(self, ref: RecordRef) -> RecordRef | None:
        if not ref.payload_digest:
            return None
        runtime = ArchiveRuntime.for_crawler(self.crawler)
        runtime.open(self)
        return runtime.original_for_payload(ref.payload_digest)
