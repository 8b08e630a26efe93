"""`scrapy crawl feed -a url=FEED`: RSS 2.0, Atom and RDF (RSS 1.0) feeds and the pages they list.

The feed document is archived as well (not as an article), so what the feed said is on record.
Feeds are parsed with lxml directly: one function reads all three dialects, which XMLFeedSpider's
one-itertag-per-spider model does not.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urljoin

import lxml.etree
from scrapy.http import Response

from spiders.web_common import (
    ArgumentError,
    SpiderOutput,
    WebSpider,
    check_http_url,
    follows_redirects,
)

RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


class FeedError(ValueError):
    """The document is not a readable RSS/Atom/RDF feed; the message says why."""


def _local(tag: object) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _children(node: lxml.etree._Element, name: str) -> list[lxml.etree._Element]:
    return [child for child in node if _local(child.tag) == name]


def _atom_link(entry: lxml.etree._Element) -> str | None:
    links = _children(entry, "link")
    for link in links:
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return link.get("href")
    return None


def _rss_link(item: lxml.etree._Element) -> str | None:
    for link in _children(item, "link"):
        if (link.text or "").strip():
            return (link.text or "").strip()
    for guid in _children(item, "guid"):
        if guid.get("isPermaLink", "true").lower() == "true" and (guid.text or "").strip():
            return (guid.text or "").strip()
    return (item.get(f"{{{RDF_NS}}}about") or "").strip() or None


def feed_links(body: bytes, base_url: str) -> tuple[str, list[str]]:
    """(dialect, absolute entry URLs in feed order, duplicates removed) of a feed document."""
    parser = lxml.etree.XMLParser(
        recover=True, resolve_entities=False, no_network=True, remove_comments=True
    )
    try:
        root = lxml.etree.fromstring(body, parser=parser)
    except lxml.etree.XMLSyntaxError as error:
        raise FeedError(f"not XML: {error}") from None
    if root is None:
        raise FeedError("not a feed: empty or unreadable XML")
    kind = _local(root.tag)
    if kind == "feed":
        raw = [_atom_link(entry) for entry in _children(root, "entry")]
        dialect = "atom"
    elif kind in ("rss", "RDF"):
        channel = _children(root, "channel")
        items = _children(channel[0], "item") if kind == "rss" and channel else []
        raw = [_rss_link(item) for item in items or _children(root, "item")]
        dialect = "rss" if kind == "rss" else "rdf"
    else:
        raise FeedError(f"not a feed: root element is {kind!r}, not rss/feed/RDF")
    links = list(dict.fromkeys(urljoin(base_url, link) for link in raw if link))
    return dialect, links


def _read_feed(response: Response) -> tuple[str, list[str]]:
    return feed_links(response.body, response.url)


class FeedSpider(WebSpider):
    name = "feed"

    def __init__(self, url: str = "", *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.feed_url = url
        self.archive_args = {"url": url}

    async def start(self) -> AsyncIterator[Any]:
        try:
            check_http_url(self.feed_url, "url")
        except ArgumentError as error:
            yield self.rejected(self.feed_url, str(error))
            return
        yield self.request(self.feed_url, self.parse)

    @follows_redirects
    def parse(self, response: Response) -> SpiderOutput:
        item, parsed = self.parse_captured(response, _read_feed, FeedError)
        if parsed is None:
            yield item
            return
        dialect, links = parsed
        self.logger.info("feed: %s is %s with %d entries", response.url, dialect, len(links))
        yield item
        for link in links:
            yield self.checked_request(link, "feed entry", self.parse_entry)

    # Its own name, not parse_page: requests queued in a JOBDIR by earlier runs name it.
    parse_entry = WebSpider.parse_page
