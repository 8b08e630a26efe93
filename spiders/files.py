"""`scrapy crawl files [-a path=DIR_OR_GLOB]`: archive local files via Scrapy's file:// handler."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import scrapy
from scrapy.http import Response
from scrapy.settings import BaseSettings
from twisted.python.failure import Failure

from pipeline.crawl.archived_answers import FailedEarlier
from pipeline.crawl.spider_arguments import SpiderArgumentError
from pipeline.items import ArchiveItem
from spiders.base import META_FILENAME, archive_item, error_item, failure_item
from spiders.local_files import check_pattern, local_entries, path_text


class FilesSpider(scrapy.Spider):
    name = "files"
    summary = "local files: -a path=DIR_OR_GLOB (default seeds/)"
    custom_settings: dict[str, Any] | None = {  # noqa: RUF012 - Scrapy's own declaration
        "ROBOTSTXT_OBEY": False,
        "AUTOTHROTTLE_ENABLED": False,
    }

    def __init__(self, path: str = "seeds", *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.path = path
        self.archive_args = {"path": path}

    @classmethod
    def check_arguments(cls, settings: BaseSettings, path: str = "seeds", **_: Any) -> None:
        """Before the crawl: the path must name something (a typo is refused, nothing written)."""
        try:
            check_pattern(path)
        except FileNotFoundError as error:
            raise SpiderArgumentError(f"path: {error}") from None

    async def start(self) -> AsyncIterator[Any]:
        max_size = self.settings.getint("ARCHIVE_MAX_FILE_SIZE")
        try:
            entries = list(local_entries(self.path, max_size))
        except (FileNotFoundError, OSError) as error:
            self.logger.error("files: %s", error)
            yield failure_item(self.path, "input", str(error))
            return
        # Listed and handed over: what a stopped crawl had not started
        # (pipeline/crawl/crawl_counts.py).
        self.crawler.stats.set_value("archive/inputs/listed", len(entries))
        for entry in entries:
            self.crawler.stats.inc_value("archive/inputs/taken")
            uri = entry.path.as_uri()
            if entry.refusal is not None:
                self.logger.warning("files: refused %s: %s", entry.path, entry.refusal)
                item = failure_item(uri, "input", entry.refusal)
                item.filename = path_text(entry.path)
                yield item
                continue
            yield scrapy.Request(
                uri,
                callback=self.parse,
                errback=self.on_error,
                meta={META_FILENAME: path_text(entry.path)},
                dont_filter=False,
            )

    def parse(self, response: Response) -> ArchiveItem:
        return archive_item(response)

    def on_error(self, failure: Failure) -> ArchiveItem | None:
        if failure.check(FailedEarlier):
            return None  # its failure row is in the index already
        return error_item(failure)
