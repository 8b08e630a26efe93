"""`python bench/crawl_wrapper.py ARGS...` runs `scrapy ARGS...` in this process and, at exit,
writes this process's resource use to the JSON file named by $NEWSVAULT_BENCH_RUSAGE.

The figures: CPU seconds and peak RSS of this (the crawl's main) process; peak RSS of its largest
reaped child (the extraction workers, joined when the crawl closes); CPU of this process between
``spider_opened`` and ``spider_closed`` (the crawl itself, without start-up and shut-down), and
how much of it the cyclic garbage collector took (CPU of the thread that ran each collection).
"""

from __future__ import annotations

import gc
import json
import os
import resource
import sys
import time
from typing import Any

from pydispatch import dispatcher
from scrapy import signals
from scrapy.cmdline import execute

RUSAGE_ENV = "NEWSVAULT_BENCH_RUSAGE"
marks: dict[str, float] = {}
# CPU seconds of garbage collections, and how many, so far; the start of the one running.
collector = {"cpu_s": 0.0, "count": 0.0, "began": 0.0}


def _collection(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        collector["began"] = time.thread_time()
    else:
        collector["cpu_s"] += time.thread_time() - collector["began"]
        collector["count"] += 1


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _opened(**_: Any) -> None:
    marks["opened_cpu"], marks["opened_wall"] = _cpu(), time.perf_counter()
    marks["opened_gc_cpu"], marks["opened_gc_count"] = collector["cpu_s"], collector["count"]


def _closed(**_: Any) -> None:
    marks["closed_cpu"], marks["closed_wall"] = _cpu(), time.perf_counter()
    marks["closed_gc_cpu"], marks["closed_gc_count"] = collector["cpu_s"], collector["count"]


def _write_usage(path: str) -> None:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    usage = {
        "cpu_s": own.ru_utime + own.ru_stime,
        "max_rss_kb": own.ru_maxrss,
        "children_cpu_s": children.ru_utime + children.ru_stime,
        "children_max_rss_kb": children.ru_maxrss,
    }
    if "opened_cpu" in marks and "closed_cpu" in marks:
        usage["crawl_cpu_s"] = marks["closed_cpu"] - marks["opened_cpu"]
        usage["crawl_wall_s"] = marks["closed_wall"] - marks["opened_wall"]
        usage["crawl_gc_cpu_s"] = marks["closed_gc_cpu"] - marks["opened_gc_cpu"]
        usage["crawl_gc_count"] = marks["closed_gc_count"] - marks["opened_gc_count"]
    with open(path, "w", encoding="utf-8") as file:
        json.dump(usage, file)


def main() -> None:
    gc.callbacks.append(_collection)
    # Any sender: the crawler's signal manager sends through the same dispatcher.
    dispatcher.connect(_opened, signal=signals.spider_opened, weak=False)
    dispatcher.connect(_closed, signal=signals.spider_closed, weak=False)
    target = os.environ.get(RUSAGE_ENV)
    try:
        execute(["scrapy", *sys.argv[1:]])
    finally:
        if target:
            _write_usage(target)


if __name__ == "__main__":
    main()
