"""What a crawl did, from its Scrapy stats: the counts of the summary and of the progress line.

Every input ends in exactly one of the outcome counts, so they add up (README, "A crawl's
output"):

    inputs = documents added + same text + payload revisits + captured only + failures
             + answered from the archive + failed in an earlier run + not indexed
             + not processed

``inputs`` is counted apart from the outcomes: the items that left the item pipelines (Scrapy's
own ``item_scraped_count``) and the robots.txt files indexed beside them, the requests of a
resumed job that were skipped because they failed before, the requests still queued when the
crawl stopped, and the listed inputs (files, URL lines) the spider had not handed over yet. The
outcomes are counted by the index writer as it commits rows; ``unaccounted`` is what the two
disagree by, zero unless an input was lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Scrapy's finish reasons in words a user knows.
FINISH_REASONS = {
    "finished": "completed",
    "shutdown": "stopped (interrupted)",
    "cancelled": "cancelled",
    "closespider_pagecount": "stopped at CLOSESPIDER_PAGECOUNT",
    "closespider_itemcount": "stopped at CLOSESPIDER_ITEMCOUNT",
    "closespider_timeout": "stopped at CLOSESPIDER_TIMEOUT",
    "closespider_errorcount": "stopped at CLOSESPIDER_ERRORCOUNT",
}


def stat(stats: Mapping[str, Any], key: str) -> int:
    return int(stats.get(key, 0) or 0)


@dataclass(frozen=True)
class CrawlCounts:
    items: int  # items out of the pipelines, plus robots.txt files indexed beside them
    documents: int  # new documents, near-duplicates included
    near_duplicates: int
    same_text: int
    revisits: int
    captured: int  # archived and indexed, not articles (feeds, sitemaps, hubs, robots.txt)
    failures: int
    from_archive: int  # a resumed job's pages, answered from the WARC files
    failed_earlier: int  # a resumed job's requests that failed in an earlier run: skipped
    not_indexed: int  # the index writer failed them: indexed from the WARC files at close
    queued: int  # requests scheduled and never taken from the queue (a stopped crawl)
    not_started: int  # listed inputs the spider had not handed over when the crawl stopped
    fetched: int  # responses downloaded (local files included)
    page_limit: int  # links not followed because max_pages was reached

    @property
    def not_processed(self) -> int:
        return self.queued + self.not_started

    @property
    def inputs(self) -> int:
        return self.items + self.failed_earlier + self.not_processed

    @property
    def processed(self) -> int:
        return (
            self.documents
            + self.same_text
            + self.revisits
            + self.captured
            + self.failures
            + self.from_archive
            + self.not_indexed
        )

    @property
    def unaccounted(self) -> int:
        """Inputs that left the pipelines without an outcome: zero unless one was lost."""
        return self.items - self.processed


def crawl_counts(stats: Mapping[str, Any]) -> CrawlCounts:
    near = stat(stats, "archive/outcome/near-duplicate")
    listed = stat(stats, "archive/inputs/listed")
    return CrawlCounts(
        items=stat(stats, "item_scraped_count")
        + stat(stats, "item_dropped_count")
        + stat(stats, "archive/inputs/robots_txt"),
        documents=stat(stats, "archive/outcome/new") + near,
        near_duplicates=near,
        same_text=stat(stats, "archive/outcome/same-text"),
        revisits=stat(stats, "archive/outcome/revisit"),
        captured=stat(stats, "archive/outcome/captured"),
        failures=stat(stats, "archive/outcome/failed"),
        from_archive=stat(stats, "archive/resume/from_archive"),
        failed_earlier=stat(stats, "archive/resume/failed_earlier"),
        not_indexed=stat(stats, "archive/index_errors"),
        queued=max(0, stat(stats, "scheduler/enqueued") - stat(stats, "scheduler/dequeued")),
        not_started=max(0, listed - stat(stats, "archive/inputs/taken")),
        fetched=stat(stats, "response_received_count"),
        page_limit=stat(stats, "archive/site/over_page_limit"),
    )


def finish_words(reason: str) -> str:
    return FINISH_REASONS.get(reason, reason.replace("_", " "))
