"""Resuming a crawl with a job folder (``-s JOBDIR=DIR``): the archive says what is done.

Scrapy's own job state is made for a clean stop: its disk queue is saved on close and a request
counts as seen before it is fetched, so a crawl killed with SIGKILL loses what was queued. Here a
resumed crawl starts over from its inputs instead, and every request whose URL this job already
archived is answered from the WARC files rather than fetched: spiders parse it again (a site
crawl finds the same links, a sitemap its entries) but nothing is written or indexed twice. What
was scheduled and never archived is fetched. Scrapy's queue, duplicate filter and spider state
therefore stay in memory (``MemoryScheduler``, ``MemoryDupeFilter``); the job folder only holds
the list of crawls that belong to the job (``pipeline/crawl/job_state.py``). With
``ARCHIVE_REDIS_URL`` the scheduler is the frontier shared by all workers instead
(``pipeline/crawl/scheduler.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.core.scheduler import Scheduler
from scrapy.dupefilters import RFPDupeFilter
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.job import job_dir

from pipeline.crawl.archived_answers import FailedEarlier, serve_from_archive
from pipeline.crawl.runtime import ArchiveRuntime

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler


class ResumeFromArchiveMiddleware:
    """Downloader middleware: answers requests this job already archived from the WARC files."""

    def __init__(self, crawler: Crawler, runtime: ArchiveRuntime) -> None:
        self.crawler = crawler
        self.runtime = runtime

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ResumeFromArchiveMiddleware:
        if not job_dir(crawler.settings):
            # No JOBDIR, every crawl fetches afresh: ordinary, so no message (Scrapy would warn).
            raise NotConfigured
        return cls(crawler, ArchiveRuntime.for_crawler(crawler))

    def process_request(self, request: Request) -> Response | None:
        self.runtime.open(self.crawler.spider)
        page = self.runtime.archived_pages.get(request.url)
        if page is None:
            if request.url in self.runtime.failed_earlier:
                if self.crawler.stats is not None:
                    self.crawler.stats.inc_value("archive/resume/failed_earlier")
                raise FailedEarlier(f"{request.url} failed in an earlier run of this job")
            return None
        response = serve_from_archive(self.runtime, request, page)
        if response is not None and self.crawler.stats is not None:
            self.crawler.stats.inc_value("archive/resume/served_from_archive")
        return response


class MemoryDupeFilter(RFPDupeFilter):
    """Scrapy's duplicate filter without its JOBDIR file (see the module docstring)."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MemoryDupeFilter:
        debug = crawler.settings.getbool("DUPEFILTER_DEBUG")
        return cls(None, debug, fingerprinter=crawler.request_fingerprinter)


class MemoryScheduler(Scheduler):
    """Scrapy's scheduler with memory queues only, JOBDIR or not (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["jobdir"] = None
        super().__init__(*args, **kwargs)

    def enqueue_request(self, request: Request) -> bool:
        queued = super().enqueue_request(request)
        # The most requests ever waiting here: what the crawl's memory grows with, kept small
        # for long URL lists by the spiders' paced start (spiders/web_common.py).
        if queued and self.stats is not None:
            self.stats.max_value("scheduler/pending_peak", len(self))
        return queued
