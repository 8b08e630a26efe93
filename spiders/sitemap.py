"""`scrapy crawl sitemap -a url=SITEMAP_OR_ROBOTS [-a since=DATE] [-a until=DATE]`.

Sitemap indexes are followed, Google News sitemaps read (news:publication_date wins over lastmod),
robots.txt Sitemap lines used. The sitemap and robots documents are archived too, not as articles.
Entries without any date are kept even with a window: nothing says they fall outside it.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import lxml.etree
from scrapy.http import Response
from scrapy.utils.sitemap import sitemap_urls_from_robots

from spiders.base import archive_item
from spiders.web_common import (
    ArgumentError,
    SpiderOutput,
    WebSpider,
    check_http_url,
    follows_redirects,
    parse_w3c_date,
    parse_when,
)

MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemap protocol allows 50 MB uncompressed


@dataclass(frozen=True)
class SitemapEntry:
    loc: str
    when: datetime | None  # news:publication_date, else lastmod


class SitemapError(ValueError):
    """The document is not a readable sitemap; the message says why."""


def _local(tag: object) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _gunzip(body: bytes) -> bytes:
    # Not scrapy.utils.gz.gunzip: it returns whatever a truncated file inflates to, silently.
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    try:
        data = inflater.decompress(body, MAX_SITEMAP_BYTES)
    except zlib.error as error:
        raise SitemapError(f"broken gzip sitemap: {error}") from None
    if inflater.unconsumed_tail:
        raise SitemapError(f"gzip sitemap inflates to more than {MAX_SITEMAP_BYTES} bytes")
    if not inflater.eof:
        raise SitemapError("broken gzip sitemap: truncated")
    return data


def parse_sitemap(body: bytes) -> tuple[str, list[SitemapEntry]]:
    """("urlset" | "sitemapindex", entries) of a sitemap document (gzip allowed)."""
    if body[:3] == b"\x1f\x8b\x08":
        body = _gunzip(body)
    parser = lxml.etree.XMLParser(
        recover=True, resolve_entities=False, no_network=True, remove_comments=True, huge_tree=False
    )
    try:
        root = lxml.etree.fromstring(body, parser=parser)
    except lxml.etree.XMLSyntaxError as error:
        raise SitemapError(f"not XML: {error}") from None
    if root is None or _local(root.tag) not in ("urlset", "sitemapindex"):
        found = _local(root.tag) if root is not None else "nothing"
        raise SitemapError(f"not a sitemap: root element is {found!r}, not urlset/sitemapindex")
    entries = []
    for node in root:
        if _local(node.tag) not in ("url", "sitemap"):
            continue
        values = {_local(el.tag): (el.text or "").strip() for el in node.iter() if el is not node}
        if values.get("loc"):
            raw_date = values.get("publication_date") or values.get("lastmod") or ""
            entries.append(
                SitemapEntry(values["loc"], parse_w3c_date(raw_date) if raw_date else None)
            )
    return _local(root.tag), entries


def _read_sitemap(response: Response) -> tuple[str, list[SitemapEntry]]:
    return parse_sitemap(response.body)


class SitemapSpider(WebSpider):
    name = "sitemap"

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
        try:
            check_http_url(url, "url")
            self.since = parse_when(since, "since")
            self.until = parse_when(until, "until")
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
        if when is None:
            return True
        too_early = self.since is not None and when < self.since
        too_late = self.until is not None and when > self.until
        return not (too_early or too_late)

    @follows_redirects
    def parse_robots(self, response: Response) -> SpiderOutput:
        item = archive_item(response, index_as_article=False)
        urls = list(sitemap_urls_from_robots(response.body, base_url=response.url))
        if not urls and not item.failure:
            item.fail("parse", "robots.txt names no Sitemap")
        yield item
        for url in urls:
            yield self.request(url, self.parse_sitemap)

    @follows_redirects
    def parse_sitemap(self, response: Response) -> SpiderOutput:
        item, parsed = self.parse_captured(response, _read_sitemap, SitemapError)
        yield item
        if parsed is not None:
            yield from self._follow(*parsed)

    def _follow(self, kind: str, entries: list[SitemapEntry]) -> SpiderOutput:
        callback = self.parse_sitemap if kind == "sitemapindex" else self.parse_page
        for entry in entries:
            if not self.in_window(entry.when):
                self.crawler.stats.inc_value("archive/sitemap/outside_window")
                continue
            yield self.checked_request(entry.loc, "sitemap loc", callback)
