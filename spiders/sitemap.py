"""`scrapy crawl sitemap -a url=SITEMAP_OR_ROBOTS [-a since=DATE] [-a until=DATE]`.

Sitemap indexes are followed, Google News sitemaps read, plain-text sitemaps and feeds used as
sitemaps too (spiders.sitemap_entries), robots.txt Sitemap lines used. The window filters articles
on their date (news:publication_date, else lastmod; spiders.date_window), never the sitemaps of an
index: an index's lastmod says when the sitemap file changed, not when its articles appeared.
Entries without any date are kept even with a window: nothing says they fall outside it. A
sitemap cut off in transit becomes a parse failure row while its complete entries are followed.
The sitemap and robots documents are archived too, not as articles.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from scrapy.http import Response

from spiders.base import archive_item
from spiders.date_window import DateWindow, crawl_window
from spiders.sitemap_entries import (
    SitemapDocument,
    SitemapEntry,
    SitemapError,
    read_sitemap,
    sitemap_urls_from_robots,
)
from spiders.web_common import (
    ArgumentError,
    SpiderOutput,
    WebSpider,
    check_http_url,
    follows_redirects,
)

__all__ = ["SitemapEntry", "SitemapError", "SitemapSpider", "read_sitemap"]


def _read_sitemap(response: Response) -> SitemapDocument:
    content_type = response.headers.get(b"Content-Type")
    return read_sitemap(
        response.body, response.url, content_type.decode("latin-1") if content_type else None
    )


class SitemapSpider(WebSpider):
    name = "sitemap"
    summary = "a sitemap or robots.txt: -a url=URL [-a since=DATE -a until=DATE]"

    def __init__(
        self,
        url: str = "",
        since: str | None = None,
        until: str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.archive_args = {
            k: v for k, v in {"url": url, "since": since, "until": until}.items() if v
        }
        self.start_url = url
        self.argument_error: str | None = None
        self.window = DateWindow()
        try:
            check_http_url(url, "url")
            self.window = crawl_window(since, until)
        except ArgumentError as error:
            self.argument_error = str(error)

    async def start(self) -> AsyncIterator[Any]:
        if self.argument_error:
            yield self.rejected(self.start_url, self.argument_error)
            return
        if urlsplit(self.start_url).path.endswith("/robots.txt"):
            yield self.request(self.start_url, self.parse_robots)
        else:
            yield self.request(self.start_url, self.parse_sitemap)

    def in_window(self, when: datetime | None) -> bool:
        return self.window.contains(when)

    @follows_redirects
    def parse_robots(self, response: Response) -> SpiderOutput:
        item = archive_item(response, index_as_article=False)
        urls = [] if item.failure else sitemap_urls_from_robots(response.body, response.url)
        if not urls and not item.failure:
            item.fail("parse", "robots.txt names no Sitemap")
        yield item
        for url in urls:
            yield self.checked_request(url, "robots.txt Sitemap", self.parse_sitemap)

    @follows_redirects
    def parse_sitemap(self, response: Response) -> SpiderOutput:
        item, document = self.parse_captured(response, _read_sitemap, SitemapError)
        if document is None:
            yield item
            return
        if document.problem:
            self.logger.warning("sitemap: %s: %s", response.url, document.problem)
            item.fail("parse", document.problem)
        if document.warning:
            self.logger.warning("sitemap: %s: %s", response.url, document.warning)
        self.logger.info(
            "sitemap: %s is %s with %d entries", response.url, document.kind, len(document.entries)
        )
        yield item
        yield from self._follow(document)

    def _follow(self, document: SitemapDocument) -> SpiderOutput:
        if document.kind == "sitemapindex":
            for entry in document.entries:
                yield self.checked_request(entry.loc, "sitemap loc", self.parse_sitemap)
            return
        for entry in document.entries:
            if not self.in_window(entry.when):
                self.crawler.stats.inc_value("archive/sitemap/outside_window")
                continue
            yield self.checked_request(entry.loc, "sitemap loc", self.parse_page)
