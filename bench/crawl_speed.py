"""End-to-end crawl speed against the bare extractor, on the same generated pages.

    .venv/bin/python bench/crawl_speed.py [--pages 1000] [--db sqlite|postgresql] [--workers N] \
        [--timeline SECONDS] [--bare-sample N] [--devset-copies N]

Serves ``--pages`` generated article pages (bench.article_pages: 2-50 kB of HTML, gzip, every
fourth chunked, every payload distinct) on 127.0.0.1 from a process of its own, runs the real
``scrapy crawl urls`` over them as a whole process with politeness off, then, in this process,
plain single-process ``trafilatura.extract(html, favor_precision=True, include_comments=False)``
over the same pages, decompressed and in memory. Prints both rates, their ratio, the crawl's
main-process CPU per document, peak RSS of the main process and of the largest extraction worker,
and checks that every page was fetched once and indexed as exactly one document (exit 1 if not).
With ``--db postgresql`` and the server on this machine, the CPU of the server processes serving
the crawl's database is printed too (bench.server_cpu).

For long crawls: ``--timeline S`` samples the crawl every S seconds and prints, for each tenth of
its documents, the rate, each process's CPU per document and its RSS, which shows whether the
cost per document stays flat as the archive grows; ``--bare-sample N`` times the bare extractor
on the first N pages only (a rate; the pages are alike throughout). ``--devset-copies N`` serves
N copies of each of the dev set's real pages instead (bench.real_pages: 350 kB of HTML on
average, every copy distinct) and ignores ``--pages``.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
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
from bench.crawl_wrapper import RUSAGE_ENV, TIMELINE_ENV
from bench.loopback_site import ServedSite, Site, build_site, serve
from bench.real_pages import build_real_site
from bench.scratch_db import POSTGRES_SERVER, scratch_database
from bench.server_cpu import ServerCpuSampler


@dataclass
class CrawlRun:
    seconds: float
    exit_code: int
    usage: dict[str, Any]  # numbers, and "children_by_name": name -> numbers
    log: Path
    server_cpu_s: float | None = None  # PostgreSQL on this machine: its processes for the run


def run_crawl(
    served: ServedSite,
    folder: Path,
    db_url: str,
    workers: int | None,
    timeout: float,
    timeline_every: float = 0.0,
) -> CrawlRun:
    urls = served.write_url_list(folder / "urls.txt")
    env = archive_env(folder / "archive", db_url, workers)
    usage_file = folder / "rusage.json"
    env[RUSAGE_ENV] = str(usage_file)
    if timeline_every:
        env[TIMELINE_ENV] = str(timeline_every)
    command = scrapy_command(crawl_args("urls", {"urls": str(urls)}), measured=True)
    log = folder / "crawl.log"
    with log.open("wb") as log_file:
        began = time.perf_counter()
        process = start(command, env, log_file)
        try:
            with ServerCpuSampler(db_url) as server:
                code = process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            message = f"crawl_speed: the crawl took longer than {timeout:.0f} s; log {log}"
            raise SystemExit(message) from None
        seconds = time.perf_counter() - began
    usage = json.loads(usage_file.read_text()) if usage_file.is_file() else {}
    return CrawlRun(seconds, code, usage, log, server.cpu_seconds)


def bare_extraction(site: Site, sample: int | None = None) -> tuple[float, int, int]:
    """(seconds, pages, pages with text) of trafilatura alone over the decompressed pages in
    memory: all of them, or the first ``sample``."""
    articles = site.articles[:sample] if sample else site.articles
    pages = [gzip.decompress(site.routes[page.path].body).decode("utf-8") for page in articles]
    began = time.perf_counter()
    with_text = 0
    for html in pages:
        if trafilatura.extract(html, favor_precision=True, include_comments=False):
            with_text += 1
    return time.perf_counter() - began, len(pages), with_text


def stretches(timeline: list[dict[str, Any]], parts: int = 10) -> list[tuple[dict, dict]]:
    """Pairs of timeline samples that cut the crawl's documents into about ``parts`` stretches."""
    samples = [sample for sample in timeline if sample["documents"] > 0]
    if len(samples) < 2:
        return []
    total = samples[-1]["documents"]
    marks = [samples[0]]
    for part in range(1, parts + 1):
        goal = total * part / parts
        nearest = min(samples, key=lambda sample: abs(sample["documents"] - goal))
        if nearest["documents"] > marks[-1]["documents"]:
            marks.append(nearest)
    return list(itertools.pairwise(marks))


def print_timeline(timeline: list[dict[str, Any]]) -> None:
    pairs = stretches(timeline)
    if not pairs:
        return
    names = sorted({name for sample in timeline for name in sample["children"]})
    cpu_heads = "".join(f" | {name} ms/doc" for name in names)
    rss_heads = "".join(f" / {name}" for name in names)
    print(f"\n| documents | s | docs/s | main ms/doc{cpu_heads} | RSS MB main{rss_heads} |")
    print("|---" * (4 + len(names) + 1) + "|")
    for first, last in pairs:
        documents = last["documents"] - first["documents"]

        def per_doc(before: dict, after: dict, documents: int = documents) -> str:
            return f"{(after['cpu_s'] - before['cpu_s']) * 1000 / documents:.2f}"

        empty = {"cpu_s": 0.0, "rss_kb": 0}
        cpu = "".join(
            f" | {per_doc(first['children'].get(n, empty), last['children'].get(n, empty))}"
            for n in names
        )
        rss = "".join(f" / {last['children'].get(n, empty)['rss_kb'] / 1024:.0f}" for n in names)
        seconds = last["wall_s"] - first["wall_s"]
        print(
            f"| {first['documents']:,}-{last['documents']:,} | {seconds:.0f} | "
            f"{documents / seconds:.1f} | {per_doc(first['main'], last['main'])}{cpu} | "
            f"{last['main']['rss_kb'] / 1024:.0f}{rss} |"
        )


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
    parser.add_argument(
        "--devset-copies",
        type=int,
        default=0,
        metavar="N",
        help="crawl N copies of each real dev-set page instead of generated pages",
    )
    parser.add_argument(
        "--timeline",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="sample the crawl this often and print its cost per tenth of its documents",
    )
    parser.add_argument(
        "--bare-sample",
        type=int,
        default=None,
        metavar="N",
        help="time the bare extractor on the first N pages only",
    )
    options = parser.parse_args()
    if options.pages < 1:
        parser.error("--pages must be at least 1")
    if options.bare_sample is not None and options.bare_sample < 1:
        parser.error("--bare-sample must be at least 1")
    if options.timeline < 0:
        parser.error("--timeline must not be negative")
    if options.devset_copies < 0:
        parser.error("--devset-copies must not be negative")

    began = time.perf_counter()
    if options.devset_copies:
        site = build_real_site(options.devset_copies)
    else:
        site = build_site(options.pages, options.seed)
    sizes = sorted(len(p.html.encode()) for p in site.articles)
    wire = sum(len(site.routes[p.path].body) for p in site.articles)
    print(
        f"pages: {len(sizes)} made in {time.perf_counter() - began:.1f} s from "
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
            crawl = run_crawl(
                served, folder, db_url, options.workers, options.timeout, options.timeline
            )
            if crawl.exit_code != 0:
                tail = crawl.log.read_text(errors="replace")[-3000:]
                print(f"crawl exited with {crawl.exit_code}:\n{tail}", file=sys.stderr)
                return 1
            problems = check_result(served, db_url)
        bare_seconds, bare_pages, with_text = bare_extraction(site, options.bare_sample)

    pages = len(site.articles)
    crawl_rate, bare_rate = pages / crawl.seconds, bare_pages / bare_seconds
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
    sampled = f" (first {bare_pages} pages)" if bare_pages != pages else ""
    print(f"bare trafilatura:      {bare_seconds:6.1f} s  {bare_rate:6.1f} documents/s{sampled}")
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
        print_timeline(usage.get("timeline", []))
    if crawl.server_cpu_s is not None:
        print(
            f"PostgreSQL server:     CPU {crawl.server_cpu_s:.1f} s "
            f"({crawl.server_cpu_s * 1000 / pages:.2f} ms/document; its processes serving the "
            "crawl's database, sampled every 0.2 s)"
        )
    if with_text != bare_pages:
        problems.append(f"bare trafilatura found no text in {bare_pages - with_text} pages")
    if problems:
        print("RESULT CHECK FAILED: " + "; ".join(problems))
        return 1
    print(f"result check: every page fetched once and indexed as one document ({pages})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
