"""robots.txt for every request: each request waits for its host's rules, fetched once per host.

This replaces Scrapy's RobotsTxtMiddleware (2.19). Its waiters share one Deferred, and awaiting a
Deferred consumes its result (``Deferred.asFuture`` under the asyncio reactor, Twisted's coroutine
driver under the others: both leave ``None`` behind): the third and later requests waiting for a
host got ``None`` (no rules) and were downloaded whatever robots.txt said. Here every waiter gets
a Deferred of its own, all fired with the same parser, so it holds for any number of waiters.

A robots.txt that cannot be fetched is handled exactly as Scrapy 2.19's RobotsTxtMiddleware does
(its documentation says nothing about it; this follows its source):

- any HTTP response, whatever its status (404, 403, or a 5xx once RetryMiddleware has given up),
  has its body parsed as robots.txt; an error page holds no rules, so the host is allowed;
- a download error (connection refused or closed, timeout, DNS), once RetryMiddleware has given
  up, allows every URL of the host and is logged as an error;
- an IgnoreRequest raised for the robots.txt request itself allows the host without a log line.

The robots.txt request goes through the downloader middlewares (retries, redirects) with meta
``dont_obey_robotstxt``, by which the capture extension archives and indexes it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler, load_object
from twisted.internet.defer import Deferred

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.robotstxt import RobotParser

logger = logging.getLogger(__name__)

# spiders.base.describe_failure turns an IgnoreRequest naming "robots.txt" into its failure row.
FORBIDDEN_MESSAGE = "Forbidden by robots.txt"
DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"


class HostRules:
    """The robots.txt rules of one host: pending until its one fetch ends, then settled for good.

    ``parser`` None once settled means no rules (robots.txt could not be fetched): all allowed.
    """

    def __init__(self) -> None:
        self.settled = False
        self.parser: RobotParser | None = None
        self.fetch: Deferred[None] | None = None  # keeps the running fetch referenced
        self._waiters: list[Deferred[RobotParser | None]] = []

    def wait(self) -> Deferred[RobotParser | None]:
        """A Deferred for this caller alone: awaiting it may consume it without robbing others."""
        waiter: Deferred[RobotParser | None] = Deferred()
        if self.settled:
            waiter.callback(self.parser)
        else:
            self._waiters.append(waiter)
        return waiter

    def settle(self, parser: RobotParser | None) -> None:
        if self.settled:
            return
        self.settled = True
        self.parser = parser
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.called:  # a cancelled waiter (its request dropped) has fired already
                waiter.callback(parser)


class RobotsTxtMiddleware:
    """Drop-in for scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware (same settings,
    same stats, same ``robots_parsed`` signal), registered in its place in pipeline.settings."""

    DOWNLOAD_PRIORITY = 1000

    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("ROBOTSTXT_OBEY"):
            # ROBOTSTXT_OBEY is off: ordinary, so no message (Scrapy logs one as a warning).
            raise NotConfigured
        self.crawler = crawler
        self._default_useragent: str = crawler.settings["USER_AGENT"]
        self._robotstxt_useragent: str | None = crawler.settings["ROBOTSTXT_USER_AGENT"]
        self._parser_class: type[RobotParser] = load_object(crawler.settings["ROBOTSTXT_PARSER"])
        # Fails at start, not at the first page, when the parser's library is missing.
        self._parse(b"")
        self._hosts: dict[str, HostRules] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RobotsTxtMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        if request.meta.get("dont_obey_robotstxt"):
            return
        if request.url.startswith(("data:", "file:")):
            return
        rules = self._rules_for(request)
        parser = rules.parser if rules.settled else await maybe_deferred_to_future(rules.wait())
        self._check(parser, request)

    def _rules_for(self, request: Request) -> HostRules:
        netloc = urlparse_cached(request).netloc
        rules = self._hosts.get(netloc)
        if rules is None:
            rules = self._hosts[netloc] = HostRules()
            # The fetch runs on its own, so no single waiting request owns (or can cancel) it.
            rules.fetch = deferred_from_coro(self._fetch(rules, request))
        return rules

    async def _fetch(self, rules: HostRules, request: Request) -> None:
        url = urlparse_cached(request)
        robots_request = Request(
            f"{url.scheme}://{url.netloc}/robots.txt",
            priority=self.DOWNLOAD_PRIORITY,
            meta={"dont_obey_robotstxt": True},
            callback=NO_CALLBACK,
        )
        self._inc("robotstxt/request_count")
        try:
            parser = await self._download_rules(robots_request, request)
        except BaseException:
            # Cancelled (the crawl is closing): no waiter hangs, and none goes through unchecked.
            rules.settle(self._parse(DISALLOW_ALL))
            raise
        rules.settle(parser)

    async def _download_rules(
        self, robots_request: Request, request: Request
    ) -> RobotParser | None:
        try:
            response = await self.crawler.engine.download_async(robots_request)
        except IgnoreRequest:
            return None
        except Exception as error:
            self._inc(f"robotstxt/exception_count/{type(error)}")
            logger.error(
                "robots.txt could not be fetched, every URL of %s is allowed: %s: %s",
                urlparse_cached(request).netloc,
                type(error).__name__,
                error,
                extra={"spider": self.crawler.spider},
            )
            return None
        self._inc("robotstxt/response_count")
        self._inc(f"robotstxt/response_status_count/{response.status}")
        try:
            parser = self._parse(response.body)
        except Exception as error:
            self._inc(f"robotstxt/exception_count/{type(error)}")
            logger.error("robots.txt of %s could not be parsed: %s", robots_request.url, error)
            return None
        await self.crawler.signals.send_catch_log_async(
            signal=signals.robots_parsed, robotparser=parser, request=request
        )
        return parser

    def _parse(self, body: bytes) -> RobotParser:
        parser: RobotParser = build_from_crawler(self._parser_class, self.crawler, body)
        return parser

    def _check(self, parser: RobotParser | None, request: Request) -> None:
        if parser is None:
            return
        useragent: str | bytes | None = self._robotstxt_useragent
        if not useragent:
            useragent = request.headers.get(b"User-Agent", self._default_useragent)
            assert useragent is not None
        if not parser.allowed(request.url, useragent):
            logger.debug(
                "Forbidden by robots.txt: %s", request, extra={"spider": self.crawler.spider}
            )
            self._inc("robotstxt/forbidden")
            raise IgnoreRequest(FORBIDDEN_MESSAGE)

    def _inc(self, key: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key)
