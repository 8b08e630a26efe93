"""Crash and resume: SIGKILL a crawl at seeded random moments, resume it with the same command
each time until a run ends by itself, then count what was archived, lost and doubled.

    .venv/bin/python bench/crash_resume.py [--pages 2000] [--kills 20] [--seed 1]
        [--spider urls|site|files] [--kill main|group|worker] [--workers N] [--db sqlite|postgresql]

The site is bench.loopback_site (generated articles, gzip, some chunked) on 127.0.0.1 in a process
of its own; ``files`` archives the same pages written to a folder. Every run is
``scrapy crawl SPIDER ... -s JOBDIR=...`` with politeness off. Kill moments (bench.kill_resume):
after a random number of answered requests (``files``: pages' worth of WARC bytes written) plus a
random delay. Prints per run how it ended; then, per page, documents in the index and records in the
WARC files (warcio): archived once, lost, doubled; `scrapy verify`'s exit code and summary;
`warcio check` of every WARC file; ``.open`` files left; orphan processes. Exit 0 only when all
of it is clean.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.archive_audit import audit_archive
from bench.crawl_run import FAST_SETTINGS, archive_env, crawl_args, run_folder, scrapy_command
from bench.kill_resume import KILL_TARGETS, KillResumeLoop, random_plans, warc_progress
from bench.loopback_site import ServedSite, Site, build_site, hub_paths, serve
from bench.scratch_db import POSTGRES_SERVER, scratch_database

SPIDERS = ("urls", "site", "files")


def scenario(
    spider: str, site: Site, served: ServedSite, folder: Path
) -> tuple[dict[str, str], list[str], Callable[[], int]]:
    """The spider's arguments, the URIs it must archive, and its measure of progress."""
    if spider == "files":
        # Resource records hold the pages gzip-compressed, much as they are on the wire.
        average_gzip = sum(len(site.routes[p.path].body) for p in site.articles) // len(
            site.articles
        )
        files = site.write_files(folder / "pages")
        expected = [path.resolve().as_uri() for path in files]
        progress = warc_progress(folder / "archive" / "warc", average_gzip)
        return {"path": str(folder / "pages")}, expected, progress
    if spider == "urls":
        urls = served.write_url_list(folder / "urls.txt")
        return {"urls": str(urls)}, served.article_urls, served.total_hits
    budget = len(site.routes) + len(hub_paths()) + 10
    spider_args = {"url": served.url("/"), "max_depth": "2", "max_pages": str(budget)}
    return spider_args, served.article_urls, served.total_hits


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--spider", choices=SPIDERS, default="urls")
    parser.add_argument("--kill", choices=KILL_TARGETS, default="main", help="what a kill hits")
    parser.add_argument("--workers", type=int, default=None, help="ARCHIVE_EXTRACT_WORKERS")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres-server", default=POSTGRES_SERVER)
    parser.add_argument("--max-delay", type=float, default=1.5, help="longest delay of a kill (s)")
    parser.add_argument("--run-timeout", type=float, default=900.0, help="time limit of one run")
    parser.add_argument("--keep", action="store_true", help="keep the run's folder (logs, archive)")
    options = parser.parse_args()
    if options.pages < 1 or options.kills < 0:
        parser.error("--pages must be at least 1 and --kills at least 0")
    site = build_site(options.pages, options.seed)
    plans = random_plans(options.kills, options.seed, options.pages, options.max_delay)
    print(
        f"{options.pages} pages, spider {options.spider}, {options.kills} kills of the "
        f"{options.kill} process(es), seed {options.seed}, database {options.db}",
        flush=True,
    )
    began = time.monotonic()
    with (
        run_folder("nv_crash_resume_", options.keep) as folder,
        scratch_database(options.db, folder, options.postgres_server) as db_url,
        serve(site) as served,
    ):
        env = archive_env(folder / "archive", db_url, options.workers)
        spider_args, expected, progress = scenario(options.spider, site, served, folder)
        settings = (*FAST_SETTINGS, f"JOBDIR={folder / 'job'}")
        command = scrapy_command(crawl_args(options.spider, spider_args, settings))
        loop = KillResumeLoop(
            command,
            env,
            folder,
            target=options.kill,
            progress=progress,
            run_timeout=options.run_timeout,
            seed=options.seed,
        )
        report = loop.run(plans)
        print("\n".join(report.report_lines()))
        fetched = served.article_hits()
        if options.spider != "files":
            print(
                f"site: {sum(fetched)} article requests answered, "
                f"{sum(1 for n in fetched if n > 1)} articles fetched more than once"
            )
        audit = audit_archive(folder / "archive", db_url, expected, env)
        print("\n".join(audit.report_lines()))
    print(f"total time {time.monotonic() - began:.0f} s")
    clean = audit.clean and report.ended_by_itself and not report.orphans
    print("RESULT: " + ("clean" if clean else "NOT clean"))
    return 0 if clean else 1


if __name__ == "__main__":
    raise SystemExit(main())
