"""`scrapy stats`: what the archive holds: sources, days, duplicates, failures, WARC files."""

from __future__ import annotations

import argparse
import json

from pipeline.cli.command_support import ArchiveCommand
from pipeline.db.queries import archive_stats
from pipeline.db.queries_crawls import DIED, FINISHED, CrawlWorker, LastCrawl
from pipeline.db.queries_stats import ArchiveStats
from pipeline.json_output import iso_day, iso_time, iso_time_or_none

TOP_SOURCES = 20
LAST_DAYS = 14


def stats_json(stats: ArchiveStats) -> dict[str, object]:
    """The documented shape (README, "JSON output"): named fields, ISO 8601 times and days."""
    crawl = stats.last_crawl
    return {
        "documents": stats.documents,
        "near_duplicates": stats.near_duplicates,
        "stories": stats.stories,
        "second_sightings": stats.second_sightings,
        "captures": dict(sorted(stats.captures.items())),
        "revisits": stats.revisits,
        "same_text_links": stats.same_text_links,
        "failures": stats.failures,
        "failures_by_stage": dict(sorted(stats.failures_by_stage.items())),
        "by_source": [{"source": s, "documents": n} for s, n in stats.by_source],
        "by_day": [{"day": iso_day(day), "documents": n} for day, n in stats.by_day],
        "warc_files": [{"name": name, "bytes": size} for name, size in stats.warc_files],
        "warc_bytes": stats.warc_bytes,
        "last_crawl": None
        if crawl is None
        else {
            "id": crawl.id,
            "started": iso_time(crawl.started),
            "finished": iso_time_or_none(crawl.finished),
            "scaled_out": crawl.scaled_out,
            "workers": [worker_json(worker) for worker in crawl.workers],
        },
    }


def worker_json(worker: CrawlWorker) -> dict[str, object]:
    return {
        "crawl_id": worker.crawl_id,
        "host": worker.host,
        "pid": worker.pid,
        "started": iso_time(worker.started),
        "finished": iso_time_or_none(worker.finished),
        "outcome": worker.outcome,
        "pages": worker.pages,
        "documents": worker.documents,
        "revisits": worker.revisits,
        "failures": worker.failures,
    }


def stats_lines(stats: ArchiveStats) -> list[str]:
    captures = ", ".join(f"{kind} {count}" for kind, count in sorted(stats.captures.items()))
    lines = [
        f"documents                 {stats.documents}",
        f"  near-duplicates         {stats.near_duplicates}",
        f"  stories                 {stats.stories}",
        f"  seen more than once     {stats.second_sightings}",
        f"captures                  {sum(stats.captures.values())}  ({captures or 'none'})",
        f"  payload revisits        {stats.revisits}",
        f"  same text, other place  {stats.same_text_links}",
        f"failures                  {stats.failures}",
    ]
    lines += [f"  {stage:<22}  {count}" for stage, count in sorted(stats.failures_by_stage.items())]
    lines.append("by source")
    lines += [f"  {source:<40}  {count}" for source, count in stats.by_source[:TOP_SOURCES]]
    if len(stats.by_source) > TOP_SOURCES:
        lines.append(f"  ... {len(stats.by_source) - TOP_SOURCES} more sources")
    lines.append("by day")
    lines += [f"  {day.isoformat()}  {count}" for day, count in stats.by_day[-LAST_DAYS:]]
    lines.append(f"WARC files                {len(stats.warc_files)}  ({stats.warc_bytes:,} bytes)")
    lines += [f"  {name}  {size:,}" for name, size in stats.warc_files]
    if stats.last_crawl is not None:
        lines += last_crawl_lines(stats.last_crawl)
    return lines


def last_crawl_lines(crawl: LastCrawl) -> list[str]:
    finished = iso_time(crawl.finished) if crawl.finished else "not finished"
    line = f"last crawl                {crawl.id}: {iso_time(crawl.started)} .. {finished}"
    if not crawl.scaled_out:
        return [line]
    lines = [f"{line}, {len(crawl.workers)} worker(s)"]
    for worker in crawl.workers:
        lines += worker_lines(worker)
    return lines


def worker_state(worker: CrawlWorker) -> str:
    if worker.outcome is None:
        return "not finished (running, or killed with no worker left to notice)"
    if worker.outcome in (FINISHED, DIED):
        return worker.outcome
    return f"stopped ({worker.outcome})"


def worker_lines(worker: CrawlWorker) -> list[str]:
    """Two lines: who and when, then what the worker added to the index."""
    ended = iso_time(worker.finished) if worker.finished else "-"
    return [
        f"  worker crawl {worker.crawl_id}  {worker.host or '?'} pid {worker.pid or '?'}  "
        f"{iso_time(worker.started)} .. {ended}  {worker_state(worker)}",
        f"    pages {worker.pages}  documents {worker.documents}  "
        f"revisits {worker.revisits}  failures {worker.failures}",
    ]


class Command(ArchiveCommand):
    def short_desc(self) -> str:
        return "Archive statistics: sources, days, duplicates, failures, WARC files"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def execute(self, args: list[str], opts: argparse.Namespace) -> None:
        with self.session() as session:
            stats = archive_stats(session)
        if opts.json:
            print(json.dumps(stats_json(stats), ensure_ascii=False))
            return
        print("\n".join(stats_lines(stats)))
