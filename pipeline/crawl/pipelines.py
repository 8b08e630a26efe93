"""Item pipelines, thin glue: Extract -> Store.

Extraction and fingerprinting run in a process pool so the reactor stays free and every core works.
Deciding what an item is (new, same text, near-duplicate) and writing its rows happen together, in
batches, on the index writer's thread (pipeline.index.batch), after the WARC records they point to
have been flushed; the reactor only hands items over and awaits their commit.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from pipeline.analysis import extract_for_archive
from pipeline.crawl.runtime import ArchiveRuntime
from pipeline.index.derived import attach_prepared, derived_context
from pipeline.items import ArchiveItem
from pipeline.workers import ExtractionPool, WorkerDiedError, start_fork_server

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)
# How long a revisit waits for the row of its original, captured moments before in this crawl.
ORIGINAL_WAIT_SECONDS = 60.0
# Imported once by the extraction workers' fork server: each worker starts with them loaded.
# The program's main script first: a worker runs it again unless the server has (as spawned
# children do; under `scrapy` that imports Scrapy's command line).
WORKER_PRELOAD = ("__main__", "pipeline.analysis_preload")


def start_extraction_server(settings: BaseSettings) -> None:
    """The extraction workers' fork server, if the crawl has workers: `scrapy crawl` starts it
    before its own start-up is done (the server's imports then run beside it), the pipeline
    when it opens (already running: nothing to do)."""
    if settings.getint("ARCHIVE_EXTRACT_WORKERS", 0) > 0:
        start_fork_server(WORKER_PRELOAD)


class ArchivePipelineBase:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.runtime = ArchiveRuntime.for_crawler(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        return cls(crawler)

    def open_spider(self) -> None:
        self.runtime.open_or_close_spider(self.crawler.spider)

    def inc(self, key: str, count: int = 1) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"archive/{key}", count)


class ExtractPipeline(ArchivePipelineBase):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.workers = crawler.settings.getint("ARCHIVE_EXTRACT_WORKERS", 0)
        self.niceness = crawler.settings.getint("ARCHIVE_EXTRACT_NICENESS", 0)
        self.pool: ExtractionPool | None = None

    def open_spider(self) -> None:
        super().open_spider()
        if self.workers > 0:
            start_extraction_server(self.crawler.settings)
            self.pool = ExtractionPool(self.workers, self.niceness)

    def close_spider(self) -> None:
        if self.pool is not None:
            if self.pool.restarts:
                self.inc("extract/pool_restarts", self.pool.restarts)
            self.pool.close()

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArchiveItem) or item.from_archive:
            return item
        if item.failure is not None or item.revisit_of is not None or not item.index_as_article:
            return item
        args = (item.body, item.url, item.filename, item.content_type, derived_context(item))
        try:
            if self.pool is not None:
                result = await self.pool.run(extract_for_archive, *args)
            else:
                result = await asyncio.to_thread(extract_for_archive, *args)
        except WorkerDiedError as error:
            logger.warning("extract: %s: %s", item.url, error)
            item.fail("extract", str(error))
            return item
        if result.error is not None or result.document is None or result.analysis is None:
            logger.warning("extract: %s: %s", item.url, result.error)
            item.fail("extract", result.error or "no article text")
            return item
        item.document = result.document
        item.text_digest = result.analysis.text_digest
        item.analysis = result.analysis
        attach_prepared(item, result.prepared)
        self.inc("extracted")
        return item


class StorePipeline(ArchivePipelineBase):
    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArchiveItem):
            return item
        if item.from_archive:
            # Served from the archive on resume: indexed by an earlier run already.
            self.inc("resume/from_archive")
            return item
        await wait_for_original(self.runtime, item)
        await self.runtime.store(item, self.crawler.stats)
        item.analysis = None
        item.decision = None
        attach_prepared(item, ())
        item.body = b""  # the bytes are in the WARC file; keep feed exports small
        return item


async def wait_for_original(runtime: ArchiveRuntime, item: ArchiveItem) -> None:
    """A revisit links to its original's document, so the original's rows must exist first."""
    if item.revisit_of is None:
        return
    event = runtime.stored_events.get(item.revisit_of.record_id)
    if event is None:
        return
    try:
        await asyncio.wait_for(event.wait(), ORIGINAL_WAIT_SECONDS)
    except TimeoutError:
        logger.warning("revisit %s: original not indexed in time; link left to reindex", item.url)
