"""Extraction workers spawned against workers forked from the preloaded fork server: how long a
pool takes to give its first results, what starting costs, and CPU per page after that.

    .venv/bin/python bench/worker_start.py [--rounds 3] [--workers 2] [--passes 2]

Each measurement runs in a child process of its own (the fork server and its preload list
belong to a process), alternating between the two ways for ``--rounds`` rounds, since the
machine is shared. In each: a ``pipeline.workers.ExtractionPool`` of ``--workers`` workers at the
crawl's niceness; the time from creating it to the first result of every worker (one dev-set
page each, pages that declare their language), with the CPU of every process it started by then
(workers, and the fork server with what it preloaded: the language model among it, which a
spawned worker loads later, at its first page without a declared language); then, after one
pass over the dev set's 119 HTML pages (by which each spawned worker has loaded the model), the
workers' CPU per page over ``--passes`` more passes (``pipeline.analysis.extract_for_archive``,
8 in flight), read from /proc.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.process_tree import cpu_seconds, descendants

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT.parent / "shared" / "devsets" / "fundus"
URL = "https://example.invalid/news/article"
WAYS = ("spawned", "forked")


def processes_cpu(pids: list[int]) -> float:
    """CPU seconds the processes have used so far (all of them are alive: the pool holds them)."""
    return sum(cpu_seconds(pid) or 0.0 for pid in pids)


def measure(way: str, workers: int, passes: int) -> dict[str, Any]:
    from pipeline.analysis import extract_for_archive
    from pipeline.archive_settings import DEFAULT_EXTRACT_NICENESS
    from pipeline.crawl.pipelines import WORKER_PRELOAD
    from pipeline.workers import ExtractionPool, start_fork_server, worker_context

    pages = [path.read_bytes() for path in sorted(PAGES.glob("*.html"))]
    context = worker_context() if way == "forked" else multiprocessing.get_context("spawn")
    if way == "forked" and context.get_start_method() != "forkserver":
        raise SystemExit("worker_start: no fork server on this platform")
    began = time.perf_counter()
    if way == "forked":
        start_fork_server(WORKER_PRELOAD)
    pool = ExtractionPool(workers, DEFAULT_EXTRACT_NICENESS, context=context)

    async def run(batch: list[bytes], in_flight: int) -> None:
        limit = asyncio.Semaphore(in_flight)

        async def one(body: bytes) -> None:
            async with limit:
                await pool.run(extract_for_archive, body, URL, None, "text/html", None)

        await asyncio.gather(*(one(body) for body in batch))

    try:
        # One page per worker, all at once: each worker takes one.
        asyncio.run(run(pages[:workers], workers))
        ready = time.perf_counter() - began
        started = [process.pid for process in descendants(os.getpid())]
        start_cpu = processes_cpu(started)
        extraction = list(pool._current()[0]._processes)  # the pool's workers
        asyncio.run(run(pages, 8))
        before = processes_cpu(extraction)
        asyncio.run(run(pages * passes, 8))
        per_page = (processes_cpu(extraction) - before) / (len(pages) * passes)
    finally:
        pool.close()
    return {"ready_s": ready, "start_cpu_s": start_cpu, "page_ms": per_page * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--child", choices=WAYS, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        print(json.dumps(measure(options.child, options.workers, options.passes)))
        return
    results: dict[str, list[dict[str, Any]]] = {way: [] for way in WAYS}
    for _ in range(options.rounds):
        for way in WAYS:
            command = [
                sys.executable, __file__, "--child", way,
                "--workers", str(options.workers), "--passes", str(options.passes),
            ]  # fmt: skip
            out = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
            results[way].append(json.loads(out.stdout))
            print(f"{way}: {results[way][-1]}", flush=True)
    print(f"{options.workers} workers, {options.rounds} rounds; best / median of the rounds")
    for way in WAYS:
        runs = results[way]
        line = [f"{way:8}"]
        for key, label, unit in (
            ("ready_s", "first result of every worker", "s"),
            ("start_cpu_s", "CPU of the processes started by then", "s"),
            ("page_ms", "workers' CPU per page after", "ms"),
        ):
            values = [run[key] for run in runs]
            line.append(f"{label} {min(values):.2f} / {statistics.median(values):.2f} {unit}")
        print(";  ".join(line))


if __name__ == "__main__":
    main()
