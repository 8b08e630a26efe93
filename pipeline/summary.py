"""The one-screen summary printed when a crawl ends."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from scrapy import signals

from pipeline.runtime import ArchiveRuntime

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

MAX_FAILURES_SHOWN = 10


def crawl_summary_lines(
    stats: dict[str, Any], runtime: ArchiveRuntime, spider_name: str
) -> list[str]:
    def stat(key: str) -> int:
        return int(stats.get(f"archive/{key}", 0) or 0)

    seen = stat("files_seen") or int(stats.get("response_received_count", 0) or 0)
    writer = runtime.writer
    files = len(writer.files) if writer else 0
    written = writer.bytes_written if writer else 0
    records = sum(int(v) for k, v in stats.items() if k.startswith("archive/records/"))
    new = stat("outcome/new")
    near = stat("outcome/near-duplicate")
    return [
        f"newsvault: crawl {runtime.crawl_id} ({spider_name}) finished: "
        f"{stats.get('finish_reason', 'unknown')}",
        f"  inputs seen             {seen}",
        f"  documents added         {new + near}  (of which near-duplicates: {near})",
        f"  same text, other place  {stat('outcome/same-text')}",
        f"  payload revisits        {stat('outcome/revisit')}",
        f"  captured, not articles  {stat('outcome/captured')}",
        f"  failures                {stat('outcome/failed')}",
        f"  stories touched         {len(runtime.stories_touched)}",
        f"  WARC records written    {records} in {files} file(s), {written:,} bytes",
        f"  archive                 {runtime.config.archive_dir}",
    ]


class CrawlSummaryExtension:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.runtime = ArchiveRuntime.for_crawler(crawler)
        self.failures: list[tuple[str, str]] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlSummaryExtension:
        extension = cls(crawler)
        crawler.signals.connect(extension.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def item_scraped(self, item: Any) -> None:
        failure = getattr(item, "failure", None)
        if failure is not None and len(self.failures) < MAX_FAILURES_SHOWN:
            self.failures.append((getattr(item, "url", "?"), failure))

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.runtime.start_error is not None:
            return  # nothing ran; the crawl command says why
        stats = dict(self.crawler.stats.get_stats()) if self.crawler.stats else {}
        stats.setdefault("finish_reason", reason)
        lines = crawl_summary_lines(stats, self.runtime, spider.name)
        for url, failure in self.failures:
            lines.append(f"    failed: {url}: {failure}")
        print("\n".join(lines), file=sys.stdout, flush=True)
