"""End-to-end crawl speed against the bare extractor, on the same generated pages.

    .venv/bin/python bench/crawl_speed.py [--pages 1000] [--db sqlite|postgresql] [--workers N]

Serves ``--pages`` generated article pages (bench.article_pages: 2-50 kB of HTML, gzip, every
fourth chunked, every payload distinct) on 127.0.0.1 from a process of its own, runs the real
``scrapy crawl urls`` over them as a whole process with politeness off, then, in this process,
plain single-process ``trafilatura.extract(html, favor_precision=True, include_comments=False)``
over the same pages, decompressed and in memory. Prints both rates, their ratio, the crawl's
main-process CPU per document, peak RSS of the main process and of the largest extraction worker,
and checks that every page was fetched once and indexed as exactly one document (exit 1 if not).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import trafilatura

from bench.archive_audit import index_counts
from bench.crawl_run import archive_env, crawl_args, run_folder, scrapy_command, start
from bench.crawl_wrapper import RUSAGE_ENV
from bench.loopback_site import ServedSite, Site, build_site, serve
from bench.scratch_db import POSTGRES_SERVER, scratch_database


@dataclass
class CrawlRun:
    seconds: float
    exit_code: int
    usage: dict[str, Any]  # numbers, and "children_by_name": name -> numbers
    log: Path


def run_crawl(
    served: ServedSite, folder: Path, db_url: str, workers: int | None, timeout: float
) -> CrawlRun:
    urls = served.write_url_list(folder / "urls.txt")
    env = archive_env(folder / "archive", db_url, workers)
    usage_file = folder / "rusage.json"
    env[RUSAGE_ENV] = str(usage_file)
    command = scrapy_command(crawl_args("urls", {"urls": str(urls)}), measured=True)
    log = folder / "crawl.log"
    with log.open("wb") as log_file:
        began = time.perf_counter()
        process = start(command, env, log_file)
        try:
            code = process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            message = f"crawl_speed: the crawl took longer than {timeout:.0f} s; log {log}"
            raise SystemExit(message) from None
        seconds = time.perf_counter() - began
    usage = json.loads(usage_file.read_text()) if usage_file.is_file() else {}
    return CrawlRun(seconds, code, usage, log)


def bare_extraction(site: Site) -> tuple[float, int]:
    """(seconds, pages with text) of trafilatura alone over the decompressed pages in memory."""
    pages = [gzip.decompress(site.routes[page.path].body).decode("utf-8") for page in site.articles]
    began = time.perf_counter()
    with_text = 0
    for html in pages:
        if trafilatura.extract(html, favor_precision=True, include_comments=False):
            with_text += 1
    return time.perf_counter() - began, with_text


def check_result(served: ServedSite, db_url: str) -> list[str]:
    """What is wrong with the crawl's result: pages not fetched once, not indexed once."""
    problems = []
    hits = served.article_hits()
    if any(count != 1 for count in hits):
        fetched_again = sum(1 for count in hits if count > 1)
        never = sum(1 for count in hits if count == 0)
        problems.append(f"{never} pages never fetched, {fetched_again} fetched more than once")
    counts = index_counts(db_url)
    urls = served.article_urls
    missing = [url for url in urls if counts.documents[url] == 0]
    doubled = [url for url in urls if counts.documents[url] > 1]
    if missing or doubled:
        problems.append(f"{len(missing)} pages without a document, {len(doubled)} with several")
    if counts.failures:
        problems.append(f"{counts.failures} failure rows")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres-server", default=POSTGRES_SERVER)
    parser.add_argument("--workers", type=int, default=None, help="ARCHIVE_EXTRACT_WORKERS")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=3600.0, help="crawl time limit (s)")
    parser.add_argument("--keep", action="store_true", help="keep the run's folder (log, archive)")
    options = parser.parse_args()
    if options.pages < 1:
        parser.error("--pages must be at least 1")

    began = time.perf_counter()
    site = build_site(options.pages, options.seed)
    sizes = sorted(len(p.html.encode()) for p in site.articles)
    wire = sum(len(site.routes[p.path].body) for p in site.articles)
    print(
        f"pages: {len(sizes)} generated in {time.perf_counter() - began:.1f} s from "
        f"{site.text_source}; HTML {sizes[0] / 1000:.1f}-{sizes[-1] / 1000:.1f} kB "
        f"(median {sizes[len(sizes) // 2] / 1000:.1f} kB, total {sum(sizes) / 1e6:.1f} MB, "
        f"{wire / 1e6:.1f} MB gzip on the wire)",
        flush=True,
    )
    workers = "project default" if options.workers is None else options.workers
    load_before = os.getloadavg()[0]
    with run_folder("nv_crawl_speed_", options.keep) as folder:
        with (
            scratch_database(options.db, folder, options.postgres_server) as db_url,
            serve(site) as served,
        ):
            crawl = run_crawl(served, folder, db_url, options.workers, options.timeout)
            if crawl.exit_code != 0:
                tail = crawl.log.read_text(errors="replace")[-3000:]
                print(f"crawl exited with {crawl.exit_code}:\n{tail}", file=sys.stderr)
                return 1
            problems = check_result(served, db_url)
        bare_seconds, with_text = bare_extraction(site)

    pages = len(site.articles)
    crawl_rate, bare_rate = pages / crawl.seconds, pages / bare_seconds
    usage = crawl.usage
    print(
        f"database: {options.db}; extraction workers: {workers}; machine load average "
        f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after (1-minute, all processes)"
    )
    print(f"crawl (whole process): {crawl.seconds:6.1f} s  {crawl_rate:6.1f} documents/s")
    if "crawl_wall_s" in usage:
        print(
            f"  of which spider open->closed {usage['crawl_wall_s']:.1f} s "
            f"({pages / usage['crawl_wall_s']:.1f} documents/s)"
        )
    print(f"bare trafilatura:      {bare_seconds:6.1f} s  {bare_rate:6.1f} documents/s")
    print(f"ratio crawl/bare:      {crawl_rate / bare_rate:.2f}x")
    if usage:
        print(
            f"main process CPU:      {usage['cpu_s'] * 1000 / pages:.2f} ms/document whole "
            f"process, {usage.get('crawl_cpu_s', float('nan')) * 1000 / pages:.2f} ms/document "
            "spider open->closed"
        )
        if "crawl_gc_cpu_s" in usage:
            print(
                f"  of which garbage collection {usage['crawl_gc_cpu_s'] * 1000 / pages:.2f} "
                f"ms/document ({usage['crawl_gc_count']:.0f} collections open->closed)"
            )
        print(
            f"peak RSS:              main {usage['max_rss_kb'] / 1024:.0f} MB "
            f"(children's CPU {usage['children_cpu_s']:.1f} s)"
        )
        for name, child in sorted(usage.get("children_by_name", {}).items()):
            print(
                f"  {name}: {child['processes']:.0f} process(es), CPU {child['cpu_s']:.1f} s "
                f"({child['cpu_s'] * 1000 / pages:.2f} ms/document), peak RSS "
                f"{child['max_rss_kb'] / 1024:.0f} MB"
            )
    if with_text != pages:
        problems.append(f"bare trafilatura found no text in {pages - with_text} pages")
    if problems:
        print("RESULT CHECK FAILED: " + "; ".join(problems))
        return 1
    print(f"result check: every page fetched once and indexed as one document ({pages})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
