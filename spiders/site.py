"""`scrapy crawl site -a url=START [-a max_depth=2 -a max_pages=100 -a allow=RE -a deny=RE
-a same_host=true]`: a bounded crawl of one site.

Every fetched page is archived; only pages whose content and metadata make them articles are
indexed as articles (spiders.article_signals), hubs and tag pages are captured only. ``url`` may
list several start URLs separated by spaces or commas. The page budget lives in ``self.state``
so a crawl resumed with JOBDIR keeps counting where it stopped; with a shared frontier
(``ARCHIVE_REDIS_URL``) it lives in Redis, so all workers together admit ``max_pages`` pages.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

from scrapy.http import HtmlResponse, Response
from scrapy.linkextractors import LinkExtractor
from w3lib.url import canonicalize_url

from pipeline.crawl.frontier import OVER_BUDGET
from pipeline.crawl.frontier_scrapy import SharedPageBudget
from spiders.web_common import (
    META_DEPTH,
    ArgumentError,
    SpiderOutput,
    WebSpider,
    check_http_url,
    follows_redirects,
    page_item,
    parse_bool,
    parse_int,
    parse_regex,
)


class SiteSpider(WebSpider):
    name = "site"
    summary = "a bounded crawl of one site: -a url=URL [-a max_depth=2 -a max_pages=100 ...]"

    def __init__(
        self,
        url: str = "",
        max_depth: str = "2",
        max_pages: str = "100",
        allow: str | None = None,
        deny: str | None = None,
        same_host: str = "true",
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.archive_args = {
            "url": url, "max_depth": max_depth, "max_pages": max_pages,
            "allow": allow, "deny": deny, "same_host": same_host,
        }  # fmt: skip
        self.argument_error: str | None = None
        try:
            self.start_urls_checked = [
                check_http_url(u, "url") for u in url.replace(",", " ").split()
            ]
            if not self.start_urls_checked:
                raise ArgumentError("url: no start URL: give -a url=URL (several: space-separated)")
            self.max_depth = parse_int(max_depth, "max_depth")
            self.max_pages = parse_int(max_pages, "max_pages", minimum=1)
            allow_re, deny_re = parse_regex(allow, "allow"), parse_regex(deny, "deny")
            self.same_host = parse_bool(same_host, "same_host")
        except ArgumentError as error:
            self.argument_error = str(error)
            return
        self.hosts = {urlsplit(u).netloc.lower() for u in self.start_urls_checked}
        self.links = LinkExtractor(
            allow=[allow_re.pattern] if allow_re else (),
            deny=[deny_re.pattern] if deny_re else (),
        )

    def _budget(self) -> dict[str, Any]:
        # SpiderState (JOBDIR) sets self.state at spider_opened; without JOBDIR a dict will do.
        if not hasattr(self, "state"):
            self.state: dict[str, Any] = {}
        self.state.setdefault("seen", set())
        return self.state

    def _admit(self, urls: list[str]) -> list[str]:
        """The URLs of ``urls`` the page budget admits (each URL once, ``max_pages`` in all)."""
        budget = self._budget()
        fresh: dict[str, str] = {}
        for url in urls:
            key = canonicalize_url(url)
            if key not in budget["seen"] and key not in fresh:
                fresh[key] = url
        shared = self._shared_budget()
        if shared is not None:
            # A URL another worker admitted is requested again all the same: that worker may
            # have died before queueing it; the frontier's duplicate filter drops the second.
            # Each answer is remembered: it never changes during the crawl.
            answers = shared.admit(list(fresh))
            budget["seen"].update(fresh)
            over = sum(1 for answer in answers if answer == OVER_BUDGET)
            admitted = [url for url, answer in zip(fresh.values(), answers, strict=True)
                        if answer != OVER_BUDGET]  # fmt: skip
        else:
            room = max(self.max_pages - len(budget["seen"]), 0)
            admitted = list(fresh.values())[:room]
            over = len(fresh) - len(admitted)
            budget["seen"].update(list(fresh)[:room])
        if over:
            self.crawler.stats.inc_value("archive/site/over_page_limit", over)
        return admitted

    def _shared_budget(self) -> SharedPageBudget | None:
        if not hasattr(self, "shared_budget"):
            self.shared_budget = SharedPageBudget.for_crawler(self.crawler, self.max_pages)
        return self.shared_budget

    async def start(self) -> AsyncIterator[Any]:
        if self.argument_error:
            yield self.rejected(self.archive_args["url"] or "", self.argument_error)
            return
        for url in self._admit(self.start_urls_checked):
            yield self.request(url, self.parse, meta={META_DEPTH: 0})

    @follows_redirects
    def parse(self, response: Response) -> SpiderOutput:
        item = page_item(response)
        yield item
        depth = int(response.meta.get(META_DEPTH, 0))
        if item.failure or depth >= self.max_depth or not isinstance(response, HtmlResponse):
            return
        found = [
            link.url
            for link in self.links.extract_links(response)
            if not self.same_host or urlsplit(link.url).netloc.lower() in self.hosts
        ]
        for url in self._admit(found):
            yield self.request(url, self.parse, meta={META_DEPTH: depth + 1})
