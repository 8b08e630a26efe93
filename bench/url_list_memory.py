"""The crawl's main-process memory against the length of its URL list.

    .venv/bin/python bench/url_list_memory.py [--urls 50000] [--baseline DIR]

Runs the real ``scrapy crawl urls -a urls=FILE`` (politeness off) over ``--urls`` URLs of a
loopback server that answers every one with a small 404 page, so the crawl does little per URL
besides scheduling, fetching and archiving it, and prints the main process's peak RSS (VmHWM)
and the scheduler's peak (the ``scheduler/pending_peak`` crawl stat), for this tree and, with
``--baseline DIR`` (a source tree, e.g. ``git archive HEAD | tar -x -C DIR``), for that tree in
the same run. A list held in the scheduler costs 1-2 kB of Request per URL.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.baseline_tree import ROOT, tree_env
from bench.crawl_run import archive_env, crawl_args, run_folder, scrapy_command
from bench.crawl_wrapper import RUSAGE_ENV
from bench.loopback_site import Site, serve


def crawl(tree: Path, folder: Path, urls: Path, timeout: float) -> dict[str, float]:
    archive = folder / "archive"
    env = archive_env(archive, None, None)
    env["PYTHONPATH"] = tree_env(tree)["PYTHONPATH"]  # the tree's pipeline and settings first
    usage_file = folder / "rusage.json"
    env[RUSAGE_ENV] = str(usage_file)
    command = scrapy_command(crawl_args("urls", {"urls": str(urls)}), measured=True)
    began = time.perf_counter()
    with (folder / "crawl.log").open("wb") as log:
        code = subprocess.run(
            command, cwd=tree, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=timeout
        ).returncode
    seconds = time.perf_counter() - began
    if code != 0:
        raise SystemExit(f"crawl in {tree} exited with {code}; log {folder / 'crawl.log'}")
    usage = json.loads(usage_file.read_text())
    with closing(sqlite3.connect(archive / "index.sqlite")) as db:
        failures = db.execute("select count(*) from failures").fetchone()[0]
        [(stats,)] = db.execute("select stats from crawls").fetchall()
    return {
        "seconds": seconds,
        "peak_rss_mb": usage["max_rss_kb"] / 1024,
        "cpu_s": usage["cpu_s"],
        "failure_rows": failures,
        "scheduler_peak": json.loads(stats).get("scheduler/pending_peak", float("nan")),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--urls", type=int, default=50000)
    parser.add_argument("--baseline", type=Path, action="append", default=[])
    parser.add_argument("--timeout", type=float, default=3600.0)
    options = parser.parse_args()
    if options.urls < 1:
        parser.error("--urls must be at least 1")
    trees = [ROOT, *(tree.resolve() for tree in options.baseline)]
    results = {}
    with serve(Site(routes={}, articles=[], text_source="none")) as served:
        for tree in trees:
            with run_folder("nv_url_list_memory_", keep=False) as folder:
                urls = folder / "urls.txt"
                urls.write_text(
                    "".join(served.url(f"/missing/{n}.html\n") for n in range(options.urls))
                )
                results[tree] = crawl(tree, folder, urls, options.timeout)
    print(f"{options.urls} URLs, each a 404 page; load average {os.getloadavg()[0]:.1f}")
    problems = []
    for tree, found in results.items():
        print(
            f"{tree}: {found['seconds']:.1f} s, main process peak RSS {found['peak_rss_mb']:.0f} "
            f"MB, CPU {found['cpu_s'] * 1000 / options.urls:.2f} ms/URL, scheduler peak "
            f"{found['scheduler_peak']:.0f} request(s), {found['failure_rows']} failure rows"
        )
        if found["failure_rows"] != options.urls:
            problems.append(f"{tree}: {found['failure_rows']} failure rows, not {options.urls}")
    for problem in problems:
        print(f"RESULT CHECK FAILED: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
