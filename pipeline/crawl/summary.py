"""A crawl's own terminal lines: where it writes, its progress every few seconds, its summary.

Scrapy's log shows warnings and errors only unless ``-L INFO`` (settings.LOG_LEVEL); these lines
go to stdout whatever the log level. What each count means: pipeline/crawl/crawl_counts.py.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

from scrapy import signals
from sqlalchemy.engine import make_url
from twisted.internet import task

from pipeline.crawl.crawl_counts import CrawlCounts, crawl_counts, finish_words
from pipeline.crawl.runtime import ArchiveRuntime

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

MAX_FAILURES_SHOWN = 10
LABEL_WIDTH = 24


def shown_url(db_url: str) -> str:
    try:
        return make_url(db_url).render_as_string(hide_password=True)
    except Exception:  # a URL SQLAlchemy cannot parse is shown as given
        return db_url


def start_line(runtime: ArchiveRuntime, spider_name: str) -> str:
    return (
        f"newsvault: crawl {runtime.crawl_id} ({spider_name}) started: archive "
        f"{runtime.config.archive_dir}, database {shown_url(runtime.config.db_url)}"
    )


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:.1f}/s" if seconds > 0 else "-"


def progress_line(counts: CrawlCounts, seconds: float) -> str:
    return (
        f"newsvault: {seconds:.0f} s: {counts.fetched} page(s) fetched, {counts.documents} "
        f"document(s) added, {counts.failures} failure(s), {counts.processed} input(s) done, "
        f"{rate(counts.processed, seconds)}"
    )


def row(label: str, value: object, note: str = "") -> str:
    return f"  {label:<{LABEL_WIDTH}}{value}{f'  ({note})' if note else ''}"


def outcome_lines(counts: CrawlCounts) -> list[str]:
    near = counts.near_duplicates
    lines = [
        row("inputs seen", counts.inputs),
        row("documents added", counts.documents, f"of which near-duplicates: {near}"),
        row("same text, other place", counts.same_text),
        row("payload revisits", counts.revisits),
        row("captured, not articles", counts.captured),
        row("failures", counts.failures),
    ]
    optional = [
        ("from the archive", counts.from_archive, "a resumed job's pages, indexed before"),
        ("failed before, skipped", counts.failed_earlier, "failure rows of an earlier run"),
        ("not indexed", counts.not_indexed, "indexed from the WARC files at close"),
        ("not processed", counts.not_processed, "queued or not started when the crawl stopped"),
    ]
    lines += [row(label, value, note) for label, value, note in optional if value]
    if counts.unaccounted:
        lines.append(row("unaccounted", counts.unaccounted, "inputs without an outcome: a bug"))
    return lines


def crawl_summary_lines(
    stats: dict[str, Any], runtime: ArchiveRuntime, spider: Spider, seconds: float
) -> list[str]:
    spider_name = spider.name
    counts = crawl_counts(stats)
    writer = runtime.writer
    files = len(writer.files) if writer else 0
    written = writer.bytes_written if writer else 0
    records = sum(int(v) for k, v in stats.items() if k.startswith("archive/records/"))
    reason = finish_words(str(stats.get("finish_reason", "unknown")))
    lines = [
        f"newsvault: crawl {runtime.crawl_id} ({spider_name}) {reason} after {seconds:.1f} s "
        f"({rate(counts.processed, seconds)})",
        *outcome_lines(counts),
    ]
    read = int(stats.get("archive/import/records_read", 0) or 0)
    if read:  # a WARC import: records that were no input of their own are named here
        joined = int(stats.get("archive/import/request", 0) or 0)
        before = int(stats.get("archive/import/already_indexed", 0) or 0)
        note = f"requests kept with their response: {joined}, indexed before: {before}"
        lines.append(row("WARC records read", read, note))
    if counts.page_limit:
        budget = f"max_pages={getattr(spider, 'max_pages', '?')}"
        lines.append(
            row("page limit reached", f"{budget}: {counts.page_limit} link(s) not followed")
        )
    lines += [
        row("stories touched", len(runtime.stories_touched)),
        row("WARC records written", f"{records} in {files} file(s), {written:,} bytes"),
        row("archive", runtime.config.archive_dir),
        row("database", shown_url(runtime.config.db_url)),
    ]
    return lines


class CrawlSummaryExtension:
    def __init__(self, crawler: Crawler, progress_seconds: float) -> None:
        self.crawler = crawler
        self.runtime = ArchiveRuntime.for_crawler(crawler)
        self.failures: list[tuple[str, str]] = []
        self.progress_seconds = progress_seconds
        self.progress: task.LoopingCall | None = None
        self.started = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlSummaryExtension:
        seconds = crawler.settings.getfloat("ARCHIVE_PROGRESS_INTERVAL", 5.0)
        extension = cls(crawler, seconds)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def stats(self) -> dict[str, Any]:
        return dict(self.crawler.stats.get_stats()) if self.crawler.stats else {}

    def spider_opened(self, spider: Spider) -> None:
        self.started = time.monotonic()
        if self.runtime.crawl_id is None:
            return  # the archive did not open: the crawl command says why
        print(start_line(self.runtime, spider.name), flush=True)
        if self.progress_seconds > 0:
            self.progress = task.LoopingCall(self.print_progress)
            self.progress.start(self.progress_seconds, now=False)

    def print_progress(self) -> None:
        counts = crawl_counts(self.stats())
        print(progress_line(counts, time.monotonic() - self.started), flush=True)

    def item_scraped(self, item: Any) -> None:
        failure = getattr(item, "failure", None)
        if failure is not None and len(self.failures) < MAX_FAILURES_SHOWN:
            self.failures.append((getattr(item, "url", "?"), failure))

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.progress is not None and self.progress.running:
            self.progress.stop()
        if self.runtime.start_error is not None:
            return  # nothing ran; the crawl command says why
        stats = self.stats()
        stats.setdefault("finish_reason", reason)
        seconds = time.monotonic() - self.started
        lines = crawl_summary_lines(stats, self.runtime, spider, seconds)
        for url, failure in self.failures:
            lines.append(f"    failed: {url}: {failure}")
        print("\n".join(lines), file=sys.stdout, flush=True)
