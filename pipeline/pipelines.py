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

from pipeline.analysis import extract_and_analyse
from pipeline.index.deciding import IndexPolicy, decide, policy_from_settings
from pipeline.items import ArchiveItem
from pipeline.runtime import ArchiveRuntime
from pipeline.storing import store_item, wait_for_original

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
    """Tells what the item is against the index: new, same text, or near-duplicate of which."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.policy = index_policy(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArchiveItem) or item.analysis is None:
            return item
        analysis = item.analysis
        with self.runtime.session() as session:
            decision = decide(session, analysis, self.policy)
        item.decision = decision
        return item


class StorePipeline(ArchivePipelineBase):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.policy = index_policy(crawler)

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArchiveItem):
            return item
        await wait_for_original(self.runtime, item)
        store_item(self.runtime, item, self.policy, self.crawler.stats)
        item.analysis = None
        item.decision = None
        item.body = b""  # the bytes are in the WARC file; keep feed exports small
        return item


def index_policy(crawler: Crawler) -> IndexPolicy:
    return policy_from_settings(crawler.settings)
