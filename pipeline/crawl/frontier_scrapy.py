"""Scrapy components of the shared Redis frontier (pipeline/crawl/frontier.py), on when
``ARCHIVE_REDIS_URL`` is set.

- ``FrontierScheduler``: scrapy-redis's scheduler whose enqueue and pop are atomic scripts and
  whose pops are held in this worker's in-flight hash until acknowledged.
- ``FrontierSeedMiddleware``: the first worker of a frontier seeds it from its ``-a`` arguments
  (``Spider.start()``); later workers with the same command join without seeding.
- ``FrontierExtension``: heartbeat, acknowledgements (a request is done once its item went
  through the item pipelines, i.e. is indexed; anything else once the worker is idle), reaping of
  dead workers (their WARC files are recovered into the index first when they ran on this host,
  then their in-flight requests are requeued), and the end of the crawl: a worker closes only
  when the frontier is seeded and empty and no worker holds a request.
- ``SharedPageBudget``: a spider's page budget (``max_pages``) counted in Redis for all workers.
- ``RequeuedFromArchiveMiddleware``: a requeued request whose URL a worker of this frontier
  already archived is answered from the WARC files (parsed again for links, not indexed again).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy_redis import picklecompat
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler as RedisScheduler
from sqlalchemy.exc import SQLAlchemyError
from twisted.internet.task import LoopingCall

from pipeline.crawl.archived_answers import serve_from_archive
from pipeline.crawl.frontier import REQUEUED_MARK, Frontier, WorkerInfo, connect, frontier_name
from pipeline.crawl.job_state import ArchivedPage, archived_pages
from pipeline.crawl.per_crawler import PerCrawler
from pipeline.crawl.runtime import ArchiveRuntime
from pipeline.db.queries_crawls import join_shared_crawl, mark_crawl_died
from pipeline.index.recover import recover_archive
from pipeline.warc.recovery import writer_alive

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from redis import Redis
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

META_TOKEN = "archive_frontier_token"
META_REQUEUED = "archive_frontier_requeued"
HEARTBEAT_INTERVAL_S = 2.0
IDLE_POLL_S = 1.0
RECOVERY_ATTEMPTS = 5


def redis_url(settings: BaseSettings) -> str:
    return str(settings.get("ARCHIVE_REDIS_URL") or "").strip()


class SharedPageBudget:
    """A page budget that counts what every worker of the frontier admitted: ``max_pages=N``
    schedules N pages in total, however many workers share the crawl."""

    def __init__(self, frontier: Frontier, limit: int) -> None:
        self.frontier = frontier
        self.limit = limit

    @classmethod
    def for_crawler(cls, crawler: Crawler, limit: int) -> SharedPageBudget | None:
        """None without a shared frontier: the spider counts its own pages."""
        if not redis_url(crawler.settings) or crawler.spider is None:
            return None
        return cls(FrontierLink.for_crawler(crawler).frontier(crawler.spider), limit)

    def admit(self, keys: list[str]) -> list[int]:
        return self.frontier.admit(keys, self.limit)


class FrontierLink:
    """What this crawl's frontier components share: one Redis connection, one Frontier."""

    def __init__(self, crawler: Crawler, server: Redis, prefix: str, timeout_s: float) -> None:
        self.crawler = crawler
        self.server = server
        self.prefix = prefix
        self.timeout_ms = max(int(timeout_s * 1000), 3 * int(HEARTBEAT_INTERVAL_S * 1000))
        self._frontier: Frontier | None = None

    @classmethod
    def for_crawler(cls, crawler: Crawler) -> FrontierLink:
        return _LINKS(crawler)

    @classmethod
    def _made_for(cls, crawler: Crawler) -> FrontierLink:
        settings = crawler.settings
        prefix = str(settings.get("ARCHIVE_REDIS_PREFIX") or "newsvault")
        timeout_s = settings.getfloat("ARCHIVE_REDIS_WORKER_TIMEOUT", 15.0)
        return cls(crawler, connect(redis_url(settings)), prefix, timeout_s)

    def frontier(self, spider: Spider) -> Frontier:
        if self._frontier is None:
            args = getattr(spider, "archive_args", {}) or {}
            name = frontier_name(self.prefix, spider.name, args)
            self._frontier = Frontier(self.server, name, timeout_ms=self.timeout_ms)
            logger.info("frontier: %s (worker %s)", name, self._frontier.worker)
        return self._frontier


class FrontierDupeFilter(RFPDupeFilter):
    """scrapy-redis's fingerprints; marking seen happens inside the scheduler's enqueue script."""


class FrontierQueue(PriorityQueue):
    """scrapy-redis's request encoding; pushes and pops go through the Frontier's scripts."""

    def encode(self, request: Request) -> bytes:
        return bytes(self._encode_request(request))

    def decode(self, data: bytes) -> Request:
        request: Request = self._decode_request(data)
        return request


class FrontierScheduler(RedisScheduler):
    def __init__(self, crawler: Crawler, link: FrontierLink) -> None:
        super().__init__(link.server, persist=True, serializer=picklecompat)
        self.crawler = crawler
        self.link = link
        self.stats = crawler.stats
        self.frontier: Frontier | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierScheduler:
        return cls(crawler, FrontierLink.for_crawler(crawler))

    def open(self, spider: Spider) -> None:
        self.spider = spider
        self.frontier = self.link.frontier(spider)
        self.queue = FrontierQueue(
            self.server, spider, self.frontier.keys.queue, serializer=picklecompat
        )
        self.df = FrontierDupeFilter(self.server, self.frontier.keys.seen)
        queued = self.frontier.queued()
        if queued:
            logger.info("frontier: %d request(s) queued by earlier or other workers", queued)

    def close(self, reason: str) -> None:
        """The frontier stays in Redis: the extension decides when a crawl is over."""

    def enqueue_request(self, request: Request) -> bool:
        assert self.frontier is not None
        # A request this worker holds coming back (a retry) leaves its in-flight hash as it goes.
        token = str(request.meta.pop(META_TOKEN, "") or "")
        request.meta.pop(META_REQUEUED, None)
        queued = self.frontier.push(
            self.df.request_fingerprint(request),
            -request.priority,
            self.queue.encode(request),
            filter_seen=not request.dont_filter,
            token=token,
        )
        if not queued:
            self.df.log(request, self.spider)
            return False
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        assert self.frontier is not None
        popped = self.frontier.pop()
        if popped is None:
            return None
        token, data = popped
        requeued = data.startswith(REQUEUED_MARK)
        try:
            request = self.queue.decode(data[1:] if requeued else data)
        except Exception as error:  # e.g. a callback this spider no longer has
            logger.error("frontier: cannot decode a queued request (%s); dropped", error)
            self.frontier.ack([token])
            return None
        request.meta[META_TOKEN] = token
        if requeued:
            request.meta[META_REQUEUED] = True
            self.stats.inc_value("archive/frontier/requeued_popped")
        self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        return self.frontier is not None and self.frontier.queued() > 0


class FrontierSeedMiddleware:
    """Spider middleware: only the worker that claims the seeding runs ``Spider.start()``."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierSeedMiddleware:
        if not redis_url(crawler.settings):
            # no ARCHIVE_REDIS_URL: ordinary, so no message (Scrapy logs one as a warning).
            raise NotConfigured
        return cls(crawler)

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        spider = self.crawler.spider
        assert spider is not None
        frontier = FrontierLink.for_crawler(self.crawler).frontier(spider)
        if not frontier.claim_seeding():
            logger.info("frontier: joining (%d request(s) queued)", frontier.queued())
            return
        logger.info("frontier: seeding from this worker's arguments")
        async for output in start:
            yield output
        frontier.mark_seeded()


class FrontierExtension:
    def __init__(self, crawler: Crawler, link: FrontierLink) -> None:
        self.crawler = crawler
        self.link = link
        self.frontier: Frontier | None = None
        self.done_tokens: list[str] = []
        self.finished = False
        self.reaping: asyncio.Task[None] | None = None
        self.beat = LoopingCall(self.tick)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierExtension:
        if not redis_url(crawler.settings):
            # no ARCHIVE_REDIS_URL: ordinary, so no message (Scrapy logs one as a warning).
            raise NotConfigured
        extension = cls(crawler, FrontierLink.for_crawler(crawler))
        connect_signal = crawler.signals.connect
        connect_signal(extension.spider_opened, signal=signals.spider_opened)
        connect_signal(extension.spider_idle, signal=signals.spider_idle)
        connect_signal(extension.spider_closed, signal=signals.spider_closed)
        connect_signal(extension.item_done, signal=signals.item_scraped)
        connect_signal(extension.item_done, signal=signals.item_dropped)
        connect_signal(extension.item_done, signal=signals.item_error)
        connect_signal(extension.spider_error, signal=signals.spider_error)
        return extension

    @property
    def runtime(self) -> ArchiveRuntime:
        return ArchiveRuntime.for_crawler(self.crawler)

    def spider_opened(self, spider: Spider) -> None:
        self.frontier = self.link.frontier(spider)
        crawl_id = self.runtime.crawl_id
        shared = self.frontier.register(crawl_id)
        if crawl_id is not None and shared is not None:
            # Every worker's crawl row names the first worker's: `scrapy stats` shows one crawl.
            with self.runtime.session() as session, session.begin():
                join_shared_crawl(session, crawl_id, shared)
            logger.info("frontier: crawl %s is worker of crawl %s", crawl_id, shared)
        self.beat.start(HEARTBEAT_INTERVAL_S, now=False)
        # An idle worker asks the shared frontier for work at each engine heartbeat (5 s in
        # Scrapy, no setting): once a second, a worker waiting for another's links starts soon.
        engine = self.crawler.engine
        if engine is not None:
            engine._SLOT_HEARTBEAT_INTERVAL = IDLE_POLL_S

    # -- acknowledgements ---------------------------------------------------------------------

    def item_done(self, item: Any, response: Response | Failure, **_: Any) -> None:
        self._done(getattr(response, "request", None))

    def spider_error(self, failure: Failure, response: Response, **_: Any) -> None:
        self._done(getattr(response, "request", None))

    def _done(self, request: Request | None) -> None:
        token = request.meta.get(META_TOKEN) if request is not None else None
        if token:
            # Flushed at the next heartbeat: by then the links the same response yielded are
            # queued (they are scheduled as the callback yields them, the item waits for the
            # index), and one command acknowledges many requests.
            self.done_tokens.append(str(token))

    def flush_acks(self) -> None:
        if self.frontier is not None and self.done_tokens:
            tokens, self.done_tokens = self.done_tokens, []
            self.frontier.ack(tokens)

    # -- heartbeat and dead workers -----------------------------------------------------------

    def tick(self) -> None:
        if self.frontier is None:
            return
        try:
            self.frontier.heartbeat()
            self.flush_acks()
            if self.reaping is None or self.reaping.done():
                self.reaping = asyncio.ensure_future(self.reap())
        except Exception as error:  # Redis away for a moment: the next tick tries again
            logger.error("frontier: heartbeat failed: %s", error)

    async def reap(self) -> None:
        """Requeue what dead workers held, after indexing what they archived (this host)."""
        frontier = self.frontier
        assert frontier is not None
        for dead in frontier.dead_workers():
            if dead.worker == frontier.worker or not frontier.claim_reap(dead.worker):
                continue
            try:
                await self.reap_one(frontier, dead)
            except Exception as error:  # Redis or the index failed: the next tick tries again
                logger.error("frontier: cannot take over from %s yet: %s", dead.worker, error)
            finally:
                frontier.release_reap(dead.worker)

    async def reap_one(self, frontier: Frontier, dead: WorkerInfo) -> None:
        same_host = dead.host == socket.gethostname()
        if same_host and writer_alive(dead.pid, None):
            logger.warning("frontier: %s missed its heartbeat but runs", dead.worker)
            return
        if same_host:  # its .open WARC files can be closed and indexed from here
            await self.recover_after(dead.worker)
        count = frontier.requeue(dead.worker)
        if dead.crawl_id is not None:
            await asyncio.to_thread(self.mark_died, dead.crawl_id)
        frontier.forget(dead.worker)
        self.crawler.stats.inc_value("archive/frontier/requeued", count)
        logger.warning(
            "frontier: worker %s is gone: %d request(s) it held are queued again",
            dead.worker,
            count,
        )

    def mark_died(self, crawl_id: int) -> None:
        try:
            with self.runtime.session() as session, session.begin():
                mark_crawl_died(session, crawl_id)
        except SQLAlchemyError as error:  # only the label in `scrapy stats` is missing
            logger.error("frontier: cannot mark crawl %s as died: %s", crawl_id, error)

    async def recover_after(self, worker: str) -> None:
        """Index what the dead worker archived; retried when the index was busy (a deadlock
        with a live worker's batch), given up after a few tries: the next start-up does it."""
        runtime = self.runtime
        if runtime.session_factory is None or runtime.crawl_id is None:
            return
        for attempt in range(1, RECOVERY_ATTEMPTS + 1):
            try:
                recovered = await asyncio.to_thread(
                    recover_archive,
                    runtime.session_factory,
                    runtime.config.warc_dir,
                    runtime.crawl_id,
                    runtime.policy,
                )
            except SQLAlchemyError as error:
                reason = str(getattr(error, "orig", None) or error).splitlines()[0]
                logger.warning("frontier: recovery after %s failed: %s", worker, reason)
                await asyncio.sleep(0.5 * attempt)
                continue
            if recovered:
                logger.warning("frontier: archive recovered after %s: %s", worker, dict(recovered))
            return
        logger.error(
            "frontier: what %s archived but did not index waits for the next crawl's start-up",
            worker,
        )

    # -- the end ------------------------------------------------------------------------------

    def spider_idle(self, spider: Spider) -> None:
        frontier = self.frontier
        if frontier is None:
            return
        # Idle: the engine holds nothing, so every token of this worker is done.
        self.done_tokens = []
        frontier.server.delete(frontier.keys.inflight(frontier.worker))
        if self.reaping is not None and not self.reaping.done():
            raise DontCloseSpider("reaping a dead worker")
        if not frontier.is_seeded() or frontier.queued() or frontier.busy_workers():
            raise DontCloseSpider("the shared frontier is not done")
        self.finished = True

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.beat.running:
            self.beat.stop()
        frontier = self.frontier
        if frontier is None:
            return
        if self.reaping is not None and not self.reaping.done():
            await self.reaping
        self.flush_acks()
        # Stopped before the end (Ctrl-C, a limit): what this worker still holds goes back.
        held = frontier.requeue(frontier.worker)
        if held:
            logger.info("frontier: %d request(s) this worker held are queued again", held)
        frontier.forget(frontier.worker)
        if self.finished and not frontier.workers():
            frontier.drop()
            logger.info("frontier: crawl finished, frontier removed")


class RequeuedFromArchiveMiddleware:
    """Downloader middleware: a requeued request whose page a worker of this frontier archived
    is answered from the WARC files (the archive rule: a captured URL is not fetched again)."""

    def __init__(self, crawler: Crawler, link: FrontierLink) -> None:
        self.crawler = crawler
        self.link = link
        self.pages: dict[str, ArchivedPage] = {}
        self.loaded_at_reap = -1

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RequeuedFromArchiveMiddleware:
        if not redis_url(crawler.settings):
            # no ARCHIVE_REDIS_URL: ordinary, so no message (Scrapy logs one as a warning).
            raise NotConfigured
        return cls(crawler, FrontierLink.for_crawler(crawler))

    def process_request(self, request: Request) -> Response | None:
        if not request.meta.get(META_REQUEUED):
            return None
        runtime = ArchiveRuntime.for_crawler(self.crawler)
        spider = self.crawler.spider
        assert spider is not None
        frontier = self.link.frontier(spider)
        reaps = frontier.reap_count()
        if reaps != self.loaded_at_reap:  # more was requeued (and recovered) since: reload
            with runtime.session() as session:
                self.pages = archived_pages(session, frontier.crawl_ids())
            self.loaded_at_reap = reaps
        page = self.pages.get(request.url)
        if page is None:
            return None
        response = serve_from_archive(runtime, request, page)
        if response is not None:
            self.crawler.stats.inc_value("archive/frontier/served_from_archive")
        return response


# Every component of a crawl that asks for it gets the same one.
_LINKS = PerCrawler(FrontierLink._made_for)
