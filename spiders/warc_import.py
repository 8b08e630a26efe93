"""`scrapy crawl warc -a path=FILE_OR_DIR [-a copy=true]`: import WARC, ARC and WACZ files.

Nothing is fetched. Every record but warcinfo becomes an item (a request joins its response's)
whose capture points at the record where it lies (``warc_file`` is the absolute path, or
``file.wacz#archive/x.warc.gz``); with ``copy=true`` the records are rewritten into our own
WARCs instead. Revisits are resolved to their original (by WARC-Refers-To, then target URI and
date, then payload digest), found in the imported files or in our archive. Broken or truncated
files become failure items with the reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.settings import BaseSettings
from sqlalchemy import select

from pipeline.crawl.runtime import ArchiveRuntime
from pipeline.crawl.spider_arguments import SpiderArgumentError
from pipeline.db.models import Capture, WarcFile
from pipeline.db.queries_core import warc_file_name
from pipeline.index.reindex import indexed_record_ids
from pipeline.items import ArchiveItem
from pipeline.warc.ref import RecordRef
from pipeline.warc.wacz_reading import WaczError
from spiders.article_signals import judge_article
from spiders.warc_copy import copy_records
from spiders.warc_record_index import RecordIndex
from spiders.warc_source import (
    IMPORT_KINDS,
    ImportInputError,
    ScannedRecord,
    ScanProblem,
    decoded_payload,
    import_inputs,
    locations,
    scan,
    unsupported_inputs,
)
from spiders.web_common import ArgumentError, input_failure, parse_bool

TEXT_TYPES = (
    "text/",
    "application/xhtml",
    "application/xml",
    "application/rss",
    "application/atom",
)


def content_type_of(scanned: ScannedRecord) -> str | None:
    """The HTTP Content-Type for responses (the record's own is application/http), else the
    record's."""
    for name, value in scanned.http_headers:
        if name.lower() == "content-type":
            return value
    return None if scanned.ref.content_type == "application/http" else scanned.ref.content_type


ARTICLE_SCHEMES = ("http:", "https:", "file:")
SOURCE_TYPES = ("response", "resource", "revisit")


def _index_as_article(ref: RecordRef, content_type: str | None, body: bytes) -> bool:
    content_type = (content_type or "").lower()
    if ref.http_status is not None and not 200 <= ref.http_status < 300:
        return False
    # dns:, metadata:// (wget's log and arguments), filedesc:// and the like are not pages.
    if not ref.target_uri.lower().startswith(ARTICLE_SCHEMES):
        return False
    if "html" in content_type:
        return judge_article(body).is_article
    # Plain text files (the files spider's resources) are articles; plain text over HTTP is
    # robots.txt and the like.
    return ref.record_type == "resource" and content_type.startswith("text/plain")


class WarcImportSpider(scrapy.Spider):
    name = "warc"
    summary = "import WARC, ARC and WACZ files: -a path=FILE_OR_DIR [-a copy=true]"
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

    @classmethod
    def check_arguments(
        cls, settings: BaseSettings, path: str = "", copy: str = "false", **_: Any
    ) -> None:
        """Before the crawl: a missing or empty path, or a bad copy flag, writes nothing."""
        try:
            parse_bool(copy, "copy")
            if not path:
                raise ArgumentError("path: no input: give -a path=FILE_OR_FOLDER")
            import_inputs(path)
        except (ArgumentError, ImportInputError) as error:
            raise SpiderArgumentError(str(error)) from None

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
        for path in unsupported_inputs(self.path):
            # A folder import names every file it does not import, and why.
            reason = f"not a {IMPORT_KINDS} file: not imported"
            self.logger.warning("warc: %s: %s", path, reason)
            yield input_failure(str(path), reason)
        self.crawler.stats.set_value("archive/import/files", len(inputs))
        index = RecordIndex()
        broken: dict[str, ScanProblem] = {}
        for location in all_locations:
            found: list[ScannedRecord] = []
            for scanned in scan(location, payloads=False):
                if isinstance(scanned, ScannedRecord):
                    found.append(scanned)
                elif self.copy:
                    broken[location] = scanned
            if location not in broken:
                for scanned in found:
                    index.add(scanned)
        index.finish()
        if not self.copy and all_locations:
            index.avoid_taken(self._ids_indexed_elsewhere(index.seen_ids))
        for original, derived in index.duplicates:
            self.logger.warning(
                "warc: record id %s occurs more than once: a later one is indexed as %s",
                original,
                derived,
            )
        self.crawler.stats.set_value("archive/import/duplicate_ids", len(index.duplicates))
        attached = index.attached_requests()
        for location in all_locations:
            if location in broken:
                yield self._not_copied(broken[location])
                continue
            for item in self._items(location, index, attached):
                yield item

    def _not_copied(self, problem: ScanProblem) -> ArchiveItem:
        """copy=true is all-or-nothing per file: a file with a broken record is not copied at
        all (no part of it in our WARC files, no rows), it is a failure row."""
        reason = (
            f"offset {problem.offset}: {problem.reason}; not copied (copy=true copies a file "
            "whole or not at all)"
        )
        self.logger.warning("warc: %s: %s", problem.location, reason)
        self.crawler.stats.inc_value("archive/files_seen")
        item = input_failure(problem.location, reason)
        item.filename = problem.location
        return item

    def _items(
        self, location: str, index: RecordIndex, attached: set[str]
    ) -> Iterator[ArchiveItem]:
        records: Iterator[ScannedRecord | ScanProblem] = (
            index.rename(s) if isinstance(s, ScannedRecord) else s
            for s in scan(location, max_payload=self.settings.getint("ARCHIVE_MAX_FILE_SIZE"))
        )
        # Imported where they lie, records indexed by an earlier (perhaps killed) import of this
        # file are done: importing them again would only add a second set of derived records.
        done = set() if self.copy else self._indexed_record_ids(location)
        if self.copy:
            runtime = ArchiveRuntime.for_crawler(self.crawler)
            runtime.open(self)
            records = copy_records(records, runtime, index)
        # A copied response waits one record: its request follows it and is copied only then.
        pending: ArchiveItem | None = None
        stats = self.crawler.stats
        for scanned in records:
            if pending is not None:
                yield self._with_request(pending, index)
                pending = None
            if isinstance(scanned, ScanProblem):
                self.logger.warning("warc: %s at offset %d: %s", *vars(scanned).values())
                item = input_failure(location, f"offset {scanned.offset}: {scanned.reason}")
                item.filename = location
                yield item
                continue
            stats.inc_value("archive/import/records_read")
            if scanned.slack:
                stats.inc_value("archive/import/slack_warnings")
                self.logger.warning(
                    "warc: %s: %d byte(s) of blank lines before the record at offset %d",
                    location,
                    scanned.slack,
                    scanned.ref.offset,
                )
            ref = scanned.ref
            if ref.record_id in done:
                stats.inc_value("archive/import/already_indexed")
            elif ref.record_type == "request" and ref.record_id in attached and not self.copy:
                stats.inc_value("archive/import/request")  # captured with its response
            else:
                stats.inc_value(f"archive/import/{ref.record_type}")
                if scanned.anomalies:
                    stats.inc_value("archive/import/source_anomalies")
                pending = self._item(scanned, index)
        if pending is not None:
            yield self._with_request(pending, index)

    @staticmethod
    def _with_request(item: ArchiveItem, index: RecordIndex) -> ArchiveItem:
        capture = item.capture
        if item.request_record is None and capture and capture.record_type in SOURCE_TYPES:
            item.request_record = index.request_for.get(capture.record_id)
        return item

    def _item(self, scanned: ScannedRecord, index: RecordIndex) -> ArchiveItem:
        if not scanned.ref.target_uri.strip():
            return self._without_target(scanned)
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
        item.source_anomalies = list(scanned.anomalies)
        if scanned.too_large:
            # Not read, never inflated in memory: the record stays where it lies, on record.
            item.request_record = None
            item.index_as_article = False
            item.fail(
                "input",
                f"record too large: payload over {scanned.too_large} bytes "
                "(ARCHIVE_MAX_FILE_SIZE), not read",
            )
            return item
        if ref.record_type not in SOURCE_TYPES:
            # Requests no response names, and metadata, conversion and other records: captured.
            item.request_record = None
            item.index_as_article = False
            return item
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
        item.fail_on_http_error()
        return item

    def _without_target(self, scanned: ScannedRecord) -> ArchiveItem:
        """A record with an empty WARC-Target-URI: a failure row under a name made of its
        record id (derived records need a target URI), the record kept where it lies."""
        ref = scanned.ref
        name = ref.record_id.strip("<>") or f"urn:newsvault:offset:{ref.offset}"
        reason = f"empty WARC-Target-URI ({ref.record_type} record at offset {ref.offset})"
        self.logger.warning("warc: %s: %s", ref.warc_file, reason)
        item = ArchiveItem(
            url=name,
            fetched_at=ref.date,
            capture=dataclasses.replace(ref, target_uri=name),
            content_type=content_type_of(scanned),
            http_status=ref.http_status,
            filename=ref.warc_file,
        )
        item.source_anomalies = list(scanned.anomalies)
        item.index_as_article = False
        item.fail("input", reason)
        return item

    def _indexed_record_ids(self, location: str) -> set[str]:
        runtime = ArchiveRuntime.for_crawler(self.crawler)
        runtime.open(self)
        with runtime.session() as session:
            return indexed_record_ids(session, warc_file_name(location))

    def _ids_indexed_elsewhere(self, record_ids: set[str]) -> dict[str, str]:
        """Of ``record_ids``, those the index has already, with the file it has them in."""
        runtime = ArchiveRuntime.for_crawler(self.crawler)
        runtime.open(self)
        found: dict[str, str] = {}
        ids = sorted(record_ids)
        with runtime.session() as session:
            for start in range(0, len(ids), 500):
                statement = (
                    select(Capture.record_id, WarcFile.name)
                    .join(WarcFile, WarcFile.id == Capture.warc_file_id)
                    .where(Capture.record_id.in_(ids[start : start + 500]))
                )
                found.update((record_id, name) for record_id, name in session.execute(statement))
        return found

    def _archived_original(self, ref: RecordRef) -> RecordRef | None:
        if not ref.payload_digest:
            return None
        runtime = ArchiveRuntime.for_crawler(self.crawler)
        runtime.open(self)
        return runtime.original_for_payload(ref.payload_digest)
