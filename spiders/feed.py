"""`scrapy crawl feed -a url=FEED`: RSS, Atom, RDF (RSS 1.0) and JSON Feed, and the pages they list.

The feed document is archived as well (not as an article), so what the feed said is on record.
Parsing is spiders.feed_entries (feedparser); a feed that is not well-formed is read as far as
feedparser can and logged as a warning; a feed cut off in transit is a parse failure row while
its complete entries are followed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from scrapy.http import Response

from spiders.feed_entries import FeedDocument, FeedError, read_feed
from spiders.web_common import (
    ArgumentError,
    SpiderOutput,
    WebSpider,
    check_http_url,
    follows_redirects,
)

__all__ = ["FeedError", "FeedSpider", "feed_links"]


def feed_links(body: bytes, base_url: str) -> tuple[str, list[str]]:
    """(dialect, absolute entry URLs in feed order, duplicates removed) of a feed document."""
    document = read_feed(body, base_url)
    return document.dialect, [entry.link for entry in document.entries]


def _read_feed(response: Response) -> FeedDocument:
    content_type = response.headers.get(b"Content-Type")
    return read_feed(
        response.body, response.url, content_type.decode("latin-1") if content_type else None
    )


class FeedSpider(WebSpider):
    name = "feed"
    summary = "an RSS, Atom, RDF or JSON feed and its pages: -a url=URL"

    def __init__(self, url: str = "", *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.feed_url = url
        self.archive_args = {"url": url}
        try:
            check_http_url(url, "url")
        except ArgumentError as error:
            self.argument_error = str(error)  # `scrapy crawl` refuses it before the crawl

    async def start(self) -> AsyncIterator[Any]:
        if self.argument_error:
            yield self.rejected(self.feed_url, self.argument_error)
            return
        yield self.request(self.feed_url, self.parse)

    @follows_redirects
    def parse(self, response: Response) -> SpiderOutput:
        item, document = self.parse_captured(response, _read_feed, FeedError)
        if document is None:
            yield item
            return
        if document.warning:
            self.logger.warning("feed: %s: %s", response.url, document.warning)
            self.crawler.stats.inc_value("archive/feed/not_well_formed")
        if document.problem:
            self.logger.warning("feed: %s: %s", response.url, document.problem)
            item.fail("parse", document.problem)
        if document.without_link:
            self.crawler.stats.inc_value("archive/feed/entries_without_link", document.without_link)
        self.logger.info(
            "feed: %s is %s with %d entries (%d without a link)",
            response.url,
            document.version,
            len(document.entries),
            document.without_link,
        )
        yield item
        for entry in document.entries:
            yield self.checked_request(entry.link, "feed entry", self.parse_entry)

    # Its own name, not parse_page: requests queued in a JOBDIR by earlier runs name it.
    parse_entry = WebSpider.parse_page
