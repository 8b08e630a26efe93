"""What handing a page to the extraction pool costs the crawl's main process.

    .venv/bin/python bench/pool_handoff.py [--tasks 3000] [--body-kb 17] [--workers 2]

Runs ``--tasks`` trivial tasks (the worker returns 2 kB of the page) through
``pipeline.workers.ExtractionPool`` with 32 in flight, as the crawl does, and reports the CPU
this (the main) process spent per task: submitting, the executor's feeder and manager threads,
pickling the page and unpickling the result. Baseline in the same run: the same arguments and
result pickled and unpickled in-process, the least any process pool can cost.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pickle
import resource
import time

from pipeline.workers import ExtractionPool


def first_part(body: bytes, url: str) -> tuple[str, bytes]:
    return url, body[:2048]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def through_pool(tasks: int, body: bytes, workers: int) -> tuple[float, float]:
    pool = ExtractionPool(workers)
    try:
        await asyncio.gather(*[pool.run(first_part, body, "warm-up") for _ in range(workers * 4)])
        in_flight = asyncio.Semaphore(32)

        async def one(number: int) -> tuple[str, bytes]:
            async with in_flight:
                return await pool.run(first_part, body, f"page-{number}")

        cpu, wall = cpu_seconds(), time.perf_counter()
        await asyncio.gather(*[one(number) for number in range(tasks)])
        return cpu_seconds() - cpu, time.perf_counter() - wall
    finally:
        pool.close()


def pickled_in_process(tasks: int, body: bytes) -> float:
    cpu = cpu_seconds()
    for number in range(tasks):
        args = pickle.loads(pickle.dumps((first_part, body, f"page-{number}")))
        pickle.loads(pickle.dumps(first_part(args[1], args[2])))
    return cpu_seconds() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=3000)
    parser.add_argument("--body-kb", type=int, default=17, help="page size (median HTML ~17 kB)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    body = os.urandom(args.body_kb * 1024)
    pool_cpu, pool_wall = asyncio.run(through_pool(args.tasks, body, args.workers))
    baseline_cpu = pickled_in_process(args.tasks, body)
    load = os.getloadavg()[0]
    print(f"tasks: {args.tasks}, page {args.body_kb} kB, {args.workers} workers, load {load:.1f}")
    print(
        f"extraction pool: {pool_cpu * 1000 / args.tasks:.3f} ms main-process CPU per task "
        f"({pool_wall * 1000 / args.tasks:.3f} ms wall)"
    )
    print(f"pickling alone (baseline): {baseline_cpu * 1000 / args.tasks:.3f} ms CPU per task")


if __name__ == "__main__":
    main()
