"""Item pipelines, thin glue: Extract -> Dedup -> Store.

Extraction and fingerprinting run in a process pool so the reactor stays free and every core works;
the database decisions and writes run in order on the reactor thread, after the WARC records they
point to have been flushed.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from pipeline.analysis import extract_and_analyse
from pipeline.derived import write_derived_records
from pipeline.indexer import IndexPolicy, decide, index_item, policy_from_settings
from pipeline.items import ArchiveItem
from pipeline.runtime import ArchiveRuntime

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class ArchivePipelineBase:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.runtime = ArchiveRuntime.for_crawler(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        return cls(crawler)

    def open_spider(self) -> None:
        self.runtime.open(self.crawler.spider)

    def inc(self, key: str, count: int = 1) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"archive/{key}", count)


class ExtractPipeline(ArchivePipelineBase):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.workers = crawler.settings.getint("ARCHIVE_EXTRACT_WORKERS", 0)
        self.executor: Executor | None = None

    def open_spider(self) -> None:
        super().open_spider()
        if self.workers > 0:
            # spawn: forking a process that runs a reactor and threads is not safe.
            context = multiprocessing.get_context("spawn")
            self.executor = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)

    def close_spider(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=False)

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArchiveItem):
            return item
        if item.failure is not None or item.revisit_of is not None or not item.index_as_article:
            return item
        loop = asyncio.get_running_loop()
        args = (item.body, item.url, item.filename, item.content_type)
        result = await loop.run_in_executor(self.executor, extract_and_analyse, *args)
        if result.error is not None or result.document is None or result.analysis is None:
            logger.warning("extract: %s: %s", item.url, result.error)
            item.fail("extract", result.error or "no article text")
            return item
        item.document = result.document
        item.text_digest = result.analysis.text_digest
        item.analysis = result.analysis
        self.inc("extracted")
        return item


class DedupPipeline(ArchivePipelineBase):
    """Tells what the item is against the index; StorePipeline re-checks inside its transaction."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.policy = index_policy(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArchiveItem) or item.analysis is None:
            return item
        analysis = item.analysis
        with self.runtime.session() as session:
            decision = decide(session, analysis, self.policy)
        item.outcome = decision.outcome
        item.duplicate_of = decision.duplicate_of
        item.similarity = decision.similarity
        return item


class StorePipeline(ArchivePipelineBase):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.policy = index_policy(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArchiveItem):
            return item
        writer = self.runtime.writer
        assert writer is not None
        item.derived = write_derived_records(writer, item)
        for ref in item.derived:
            self.inc(f"records/{ref.record_type}")
            self.inc("warc/bytes", ref.length)
        analysis = item.analysis
        for attempt in (1, 2):
            try:
                with self.runtime.session() as session, session.begin():
                    self.runtime.register_records(session, _all_refs(item))
                    index_item(session, item, analysis, self.runtime.crawl_id, self.policy)
                break
            except IntegrityError:
                # Another worker indexed the same text meanwhile: decide again against its row.
                self.runtime.warc_files_seen.clear()
                if attempt == 2:
                    raise
        self.inc(f"outcome/{item.outcome}")
        if item.failure is not None:
            self.inc(f"failures/{item.failure_stage}")
        if item.story_id is not None and item.outcome in {"new", "near-duplicate"}:
            self.runtime.stories_touched.add(item.story_id)
        item.analysis = None
        item.body = b""  # the bytes are in the WARC file; keep feed exports small
        return item


def _all_refs(item: ArchiveItem) -> list[Any]:
    return [r for r in (item.capture, item.request_record) if r is not None] + item.derived


def index_policy(crawler: Crawler) -> IndexPolicy:
    return policy_from_settings(crawler.settings)
