"""The crawl's scheduler (Scrapy's ``SCHEDULER``): with ``ARCHIVE_REDIS_URL`` the frontier shared
by every worker (``pipeline/crawl/frontier_scrapy.py``), else Scrapy's scheduler with memory queues
(``pipeline/crawl/resume.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.core.scheduler import BaseScheduler

from pipeline.crawl.frontier_scrapy import FrontierScheduler
from pipeline.crawl.resume import MemoryScheduler

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class ArchiveScheduler(BaseScheduler):
    """Never built itself: ``from_crawler`` returns the scheduler the settings ask for (Scrapy
    requires the ``SCHEDULER`` class to be a BaseScheduler)."""

    # Scrapy builds SCHEDULER through from_crawler and uses whichever BaseScheduler it returns;
    # the stubs promise an instance of the class itself.
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BaseScheduler:  # type: ignore[override]
        if crawler.settings.get("ARCHIVE_REDIS_URL"):
            return FrontierScheduler.from_crawler(crawler)
        return MemoryScheduler.from_crawler(crawler)
