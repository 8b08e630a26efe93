"""Resuming a crawl with a job folder (``-s JOBDIR=DIR``): the archive says what is done.

Scrapy's own job state is made for a clean stop: its disk queue is saved on close and a request
counts as seen before it is fetched, so a crawl killed with SIGKILL loses what was queued. Here a
resumed crawl starts over from its inputs instead, and every request whose URL this job already
archived is answered from the WARC files rather than fetched: spiders parse it again (a site
crawl finds the same links, a sitemap its entries) but nothing is written or indexed twice. What
was scheduled and never archived is fetched. Scrapy's queue, duplicate filter and spider state
therefore stay in memory (``MemoryScheduler``, ``MemoryDupeFilter``); the job folder only holds
the list of crawls that belong to the job. With ``ARCHIVE_REDIS_URL`` the scheduler is the
frontier shared by all workers instead (``pipeline/frontier_scrapy.py``).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.core.scheduler import Scheduler
from scrapy.dupefilters import RFPDupeFilter
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes
from scrapy.utils.job import job_dir
from sqlalchemy.orm import Session

from pipeline.db import queries
from pipeline.db.queries_refs import capture_warc_name
from pipeline.warc.reading import StoredRecord, decoded_http_payload, read_record

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

    from pipeline.runtime import ArchiveRuntime

logger = logging.getLogger(__name__)

JOB_FILE = "newsvault-job.json"
META_FROM_ARCHIVE = "archive_from_archive"
# Framing headers describe the stored bytes, not the decoded body handed to the spider.
_FRAMING = frozenset({"content-encoding", "transfer-encoding", "content-length"})


class FailedEarlier(IgnoreRequest):
    """The request ended as a failure row in an earlier run of this job: it is not tried again
    (its errback makes no second row). A new job, or a crawl without JOBDIR, tries it again."""


class JobFileError(Exception):
    """The job folder's state cannot be read or written; the message says which file and why."""


class Job:
    """The crawls that make up one resumable job, kept in ``JOBDIR/newsvault-job.json``."""

    def __init__(self, jobdir: Path) -> None:
        self.path = Path(jobdir) / JOB_FILE

    def crawl_ids(self) -> list[int]:
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as error:
            raise JobFileError(f"cannot read job state {self.path}: {error}") from error
        ids = data.get("crawls") if isinstance(data, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            raise JobFileError(f"job state {self.path} is not a newsvault job file")
        return ids

    def add_crawl(self, crawl_id: int) -> list[int]:
        """Record a crawl as part of the job, durably (written aside, synced, renamed)."""
        ids = [*self.crawl_ids(), crawl_id]
        scratch = self.path.with_name(self.path.name + ".new")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with scratch.open("w", encoding="utf-8") as handle:
                json.dump({"crawls": ids}, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(scratch, self.path)
        except OSError as error:
            raise JobFileError(f"cannot write job state {self.path}: {error}") from error
        return ids


@dataclass(frozen=True)
class ArchivedPage:
    record_type: str  # response, resource or revisit
    warc_file: str
    offset: int
    refers_to: str | None  # the original record of a revisit


def archived_pages(session: Session, crawl_ids: list[int]) -> dict[str, ArchivedPage]:
    """The latest capture of every URI the given crawls archived."""
    return {
        uri: ArchivedPage(record_type, name, offset, refers_to)
        for uri, record_type, name, offset, refers_to in queries.source_captures_of_crawls(
            session, crawl_ids
        )
    }


def stored_source(session: Session, warc_dir: Path, page: ArchivedPage) -> StoredRecord:
    """The record holding the page's bytes: the page's own, or a revisit's original."""
    if page.record_type != "revisit" or not page.refers_to:
        return read_record(warc_dir, page.warc_file, page.offset)
    original = queries.capture_by_record_id(session, page.refers_to)
    if original is None:
        raise LookupError(f"the original {page.refers_to} of a revisit is not indexed")
    return read_record(warc_dir, capture_warc_name(session, original), original.offset)


def archived_response(stored: StoredRecord, request: Request) -> Response:
    """A Scrapy response as the spider saw it when the page was first fetched."""
    if stored.http_headers is None:  # a resource record: a local file
        content_type = stored.ref.content_type or "application/octet-stream"
        headers = Headers({"Content-Type": content_type})
        status, body = 200, stored.payload
    else:
        headers = Headers()
        for name, value in stored.http_headers:
            if name.lower() not in _FRAMING:
                headers.appendlist(name, value)
        status = stored.http_status or 200
        body = decoded_http_payload(stored.http_headers, stored.payload)
    response_class = responsetypes.from_args(headers=headers, url=request.url, body=body)
    return response_class(
        url=request.url,
        status=status,
        headers=headers,
        body=body,
        request=request,
        flags=["archived"],
    )


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
        from pipeline.runtime import ArchiveRuntime

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


def serve_from_archive(
    runtime: ArchiveRuntime, request: Request, page: ArchivedPage
) -> Response | None:
    """The archived page as the response to ``request`` (marked so that nothing is written or
    indexed again), or None when its record cannot be read: the page is fetched instead."""
    try:
        with runtime.session() as session:
            stored = stored_source(session, runtime.config.warc_dir, page)
        response = archived_response(stored, request)
    except Exception as error:  # an unreadable record: fetch the page again instead
        logger.warning("resume: %s: cannot serve from the archive (%s)", request.url, error)
        return None
    request.meta[META_FROM_ARCHIVE] = True
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

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        """With ARCHIVE_REDIS_URL, the frontier shared by every worker (pipeline/frontier.py)."""
        if crawler.settings.get("ARCHIVE_REDIS_URL"):
            from pipeline.frontier_scrapy import FrontierScheduler

            return FrontierScheduler.from_crawler(crawler)
        return super().from_crawler(crawler)
