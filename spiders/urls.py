"""`scrapy crawl urls -a urls=FILE` or `-a url=U`: archive a list of pages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy.http import Response
from scrapy.settings import BaseSettings

from pipeline.items import ArchiveItem
from spiders.base import archive_item
from spiders.web_common import (
    ArgumentError,
    SpiderOutput,
    WebSpider,
    check_http_url,
    follows_redirects,
    input_failure,
    read_url_lines,
)


class UrlsSpider(WebSpider):
    name = "urls"
    summary = "a list of pages: -a urls=FILE or -a url=URL"

    def __init__(self, urls: str | None = None, url: str | None = None, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.urls_file = urls
        self.single_url = url
        self.archive_args = {k: v for k, v in {"urls": urls, "url": url}.items() if v}

    @classmethod
    def check_arguments(
        cls, settings: BaseSettings, urls: str | None = None, url: str | None = None, **_: Any
    ) -> None:
        """Before the crawl: an input to read, a valid -a url, a URL file with URLs in it.

        Malformed lines of a usable URL file are not refused here: each gets a failure row.
        """
        if not urls and not url:
            raise ArgumentError("no input: give -a urls=FILE or -a url=URL")
        if url:
            check_http_url(url, "url")
        if urls and not any(True for _ in read_url_lines(urls)):
            raise ArgumentError(f"urls: {urls} lists no URLs")

    async def start(self) -> AsyncIterator[Any]:
        if not self.urls_file and not self.single_url:
            self.logger.error("urls: give -a urls=FILE or -a url=URL")
            yield input_failure("", "no input: give -a urls=FILE or -a url=URL")
            return
        entries = list(self._entries())
        # Listed and handed over: what a stopped crawl had not started
        # (pipeline/crawl/crawl_counts.py).
        self.crawler.stats.set_value("archive/inputs/listed", len(entries))
        for entry in entries:
            if not isinstance(entry, ArchiveItem):
                await self.room_for_a_start_request()
            self.crawler.stats.inc_value("archive/inputs/taken")
            yield entry if isinstance(entry, ArchiveItem) else self.request(entry, self.parse)

    def _entries(self) -> Iterator[str | ArchiveItem]:
        if self.single_url:
            yield self._checked(self.single_url, "url")
        if not self.urls_file:
            return
        try:
            lines = list(read_url_lines(self.urls_file))
        except ArgumentError as error:
            self.logger.error("%s", error)
            yield input_failure(self.urls_file, str(error))
            return
        for number, line in lines:
            yield self._checked(line, f"{self.urls_file}:{number}")

    def _checked(self, url: str, where: str) -> str | ArchiveItem:
        try:
            return check_http_url(url, where)
        except ArgumentError as error:
            self.logger.warning("%s", error)
            return input_failure(url, str(error))

    @follows_redirects
    def parse(self, response: Response) -> SpiderOutput:
        yield archive_item(response)
