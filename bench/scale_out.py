"""Scale-out: 1, 2 and 4 crawl workers on one Redis frontier and one PostgreSQL index, crawling
the same generated loopback site (`scrapy crawl site`), against one plain crawl without Redis.

Each run gets a fresh PostgreSQL database, archive folder and Redis key prefix. Printed per run:
wall time from the first start to the last exit, documents/s, each worker's share of the articles
and CPU seconds (main process, and its extraction and index-writer children), and the check that
every article was fetched once in total and indexed as one document.

    .venv/bin/python -m bench.scale_out --pages 600 --workers 1 2 4
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bench.archive_audit import index_counts
from bench.crawl_run import archive_env, run_folder
from bench.loopback_site import ServedSite, build_site, hub_paths, serve
from bench.scale_workers import (
    WorkerRun,
    captures_per_crawl,
    redis_keys,
    redis_prefix,
    run_workers,
    worker_env,
)
from bench.scratch_db import POSTGRES_SERVER, scratch_database

REDIS_SERVER = "redis://127.0.0.1:6379/15"


def one_run(
    count: int, served: ServedSite, folder: Path, options: argparse.Namespace
) -> tuple[WorkerRun, list[str], list[int]]:
    """``count`` workers (0: one crawl without Redis); (run, problems, articles per worker)."""
    pages = len(served.site.articles)
    budget = str(3 * len(served.site.routes))  # all workers' pages, with room for 404 links
    spider_args = {"url": served.base + "/", "max_depth": "3", "max_pages": budget}
    before = served.article_hits()
    with (
        scratch_database("postgresql", folder, options.postgres_server) as db_url,
        redis_prefix(options.redis) as prefix,
    ):
        env = archive_env(folder / "archive", db_url, options.extract_workers)
        if count:
            env = worker_env(env, options.redis, prefix)
        run = run_workers(max(count, 1), spider_args, env, folder, timeout=options.timeout)
        hits = [a - b for a, b in zip(served.article_hits(), before, strict=True)]
        documents = index_counts(db_url).documents
        shares = captures_per_crawl(db_url, set(served.article_urls))
        leftover = redis_keys(options.redis, prefix) if count else []
    problems = []
    if any(code != 0 for code in run.codes()):
        problems.append(f"exit codes {run.codes()}")
    if hits != [1] * pages:
        problems.append(f"{sum(1 for h in hits if h != 1)} article(s) not fetched exactly once")
    doubled = sum(1 for url in served.article_urls if documents[url] != 1)
    if doubled:
        problems.append(f"{doubled} article(s) without exactly one document")
    if leftover:
        problems.append(f"{len(leftover)} Redis key(s) left behind")
    return run, problems, shares


def report(label: str, pages: int, run: WorkerRun, shares: list[int], baseline: float) -> None:
    rate = pages / run.wall_s
    print(
        f"{label:>10}: {run.wall_s:6.1f} s  {rate:6.1f} documents/s  ({rate / baseline:.2f}x "
        f"the plain crawl)  articles per worker {shares}"
    )
    for worker in run.workers:
        usage = worker.usage()
        print(
            f"            worker {worker.number}: CPU main {usage.get('cpu_s', 0):5.1f} s, "
            f"extraction + index writer {usage.get('children_cpu_s', 0):5.1f} s"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=600)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--extract-workers", type=int, default=1, help="per crawl worker")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--redis", default=os.environ.get("ARCHIVE_TEST_REDIS_URL", REDIS_SERVER))
    parser.add_argument("--postgres-server", default=POSTGRES_SERVER)
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--keep", action="store_true", help="keep the runs' folders")
    options = parser.parse_args()
    if options.pages < 1 or any(n < 1 for n in options.workers):
        parser.error("--pages and --workers must be at least 1")

    site = build_site(options.pages, options.seed)
    print(
        f"site: {options.pages} articles, {len(hub_paths())} hubs; extraction workers per crawl "
        f"worker: {options.extract_workers}; cores: {os.cpu_count()}; load average "
        f"{os.getloadavg()[0]:.1f}",
        flush=True,
    )
    failed = False
    with serve(site) as served, run_folder("nv_scale_out_", options.keep) as folder:
        baseline_run, problems, shares = one_run(0, served, folder / "plain", options)
        baseline = options.pages / baseline_run.wall_s
        report("no Redis", options.pages, baseline_run, shares, baseline)
        for problem in problems:
            failed = True
            print(f"            CHECK FAILED: {problem}")
        for count in options.workers:
            run, problems, shares = one_run(count, served, folder / f"w{count}", options)
            report(f"{count} worker(s)", options.pages, run, shares, baseline)
            for problem in problems:
                failed = True
                print(f"            CHECK FAILED: {problem}")
            sys.stdout.flush()
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    if failed:
        print("RESULT CHECK FAILED")
        return 1
    print("result check: every run fetched each article once and indexed it as one document")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
