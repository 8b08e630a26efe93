"""`python bench/crawl_wrapper.py ARGS...` runs `scrapy ARGS...` in this process and, at exit,
writes this process's resource use to the JSON file named by $NEWSVAULT_BENCH_RUSAGE.

The figures: CPU seconds and peak RSS (VmHWM) of this, the crawl's main, process; ru_maxrss of
its largest reaped child (inflated: a spawned child starts as a fork of this process, and Linux
keeps ru_maxrss across execve); CPU of this process between ``spider_opened`` and
``spider_closed`` (the crawl itself, without start-up and shut-down), and how much of it the
cyclic garbage collector took (CPU of the thread that ran each collection); and per kind of
process below it (by its name in /proc: ``nv-index``, ``nv-extract``, the resource tracker, the
workers' fork server) its own CPU seconds and peak RSS (VmHWM), read from /proc every half
second while the crawl runs (a process's last half second before it exits may be missed).
Every $NEWSVAULT_BENCH_TIMELINE seconds (if set) a sample of the crawl so far goes into a
timeline: documents added, CPU seconds and RSS of this process and of each kind of child, so
that cost per document can be read per stretch of a long crawl.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydispatch import dispatcher
from scrapy import signals
from scrapy.cmdline import execute

RUSAGE_ENV = "NEWSVAULT_BENCH_RUSAGE"
TIMELINE_ENV = "NEWSVAULT_BENCH_TIMELINE"
marks: dict[str, float] = {}
# The running crawler (set when the spider opens), whose stats the timeline reads.
running: dict[str, Any] = {}
timeline: list[dict[str, Any]] = []
# CPU seconds of garbage collections, and how many, so far; the start of the one running.
collector = {"cpu_s": 0.0, "count": 0.0, "began": 0.0}


def _collection(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        collector["began"] = time.thread_time()
    else:
        collector["cpu_s"] += time.thread_time() - collector["began"]
        collector["count"] += 1


# pid -> (name, CPU seconds, peak RSS kB, current RSS kB) of each child process, as last read.
child_usage: dict[int, tuple[str, float, int, int]] = {}
TICKS = os.sysconf("SC_CLK_TCK")


def _status_kb(status: str, field: str) -> int:
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith(field)), 0)


def _read_child(pid: int) -> tuple[str, float, int, int] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    name = stat[stat.index("(") + 1 : stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2 :].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime
    return name, cpu, _status_kb(status, "VmHWM:"), _status_kb(status, "VmRSS:")


def _documents_so_far() -> int | None:
    crawler = running.get("crawler")
    if crawler is None or crawler.stats is None:
        return None
    try:
        from pipeline.crawl.crawl_counts import crawl_counts
    except ImportError:  # a tree from before pipeline/crawl/, measured with PYTHONPATH=DIR
        from pipeline.crawl_counts import crawl_counts  # type: ignore[no-redef]

    for _ in range(3):  # the reactor thread may add a key while the stats are copied
        try:
            return crawl_counts(dict(crawler.stats.get_stats())).documents
        except RuntimeError:
            continue
    return None


def _sample(began: float) -> None:
    documents = _documents_so_far()
    own = _read_child(os.getpid())
    if documents is None or own is None:
        return
    kinds: dict[str, dict[str, float]] = {}
    for name, cpu, _peak, rss in child_usage.values():
        kind = kinds.setdefault(name, {"cpu_s": 0.0, "rss_kb": 0})
        kind["cpu_s"] += cpu  # exited children keep their last reading: CPU only grows
        kind["rss_kb"] = max(kind["rss_kb"], rss)
    timeline.append(
        {
            "wall_s": time.monotonic() - began,
            "documents": documents,
            "main": {"cpu_s": _cpu(), "rss_kb": own[3]},
            "children": kinds,
        }
    )


def _child_pids(own: int) -> list[int]:
    """This process's descendants (extraction workers are the fork server's children): from
    each thread's ``children`` file where the kernel has them (a tenth of the CPU of reading
    every process's stat, which this process's own CPU figure would include), else by scanning
    /proc for every process's parent once."""
    children: Callable[[int], list[int] | None]
    if Path(f"/proc/{own}/task/{own}/children").exists():
        children = _children_from_task_files
    else:
        children = _children_by_parent().get
    found: list[int] = []
    pending = [own]
    while pending:
        below = children(pending.pop()) or []
        found += below
        pending += below
    return found


def _children_from_task_files(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:  # the thread or the process ended meanwhile
            continue
    return found


def _children_by_parent() -> dict[int, list[int]]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int(entry.joinpath("stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(parent, []).append(int(entry.name))
    return parents


def _watch_children(timeline_every: float) -> None:
    own = os.getpid()
    began = marks["watch_began"] = next_sample = time.monotonic()
    while True:
        for pid in _child_pids(own):
            if (usage := _read_child(pid)) is not None:
                # A process read as it exits has no memory figures left: keep its peak.
                name, cpu, peak, rss = usage
                seen = child_usage.get(pid)
                child_usage[pid] = (name, cpu, max(peak, seen[2] if seen else 0), rss)
        if timeline_every and time.monotonic() >= next_sample:
            _sample(began)
            next_sample += timeline_every
        time.sleep(0.5)


def _children_by_name() -> dict[str, dict[str, float]]:
    kinds: dict[str, dict[str, float]] = {}
    for name, cpu, peak, _rss in child_usage.values():
        kind = kinds.setdefault(name, {"processes": 0, "cpu_s": 0.0, "max_rss_kb": 0})
        kind["processes"] += 1
        kind["cpu_s"] += cpu
        kind["max_rss_kb"] = max(kind["max_rss_kb"], peak)
    return kinds


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _opened(spider: Any = None, **_: Any) -> None:
    running["crawler"] = getattr(spider, "crawler", None)
    marks["opened_cpu"], marks["opened_wall"] = _cpu(), time.perf_counter()
    marks["opened_gc_cpu"], marks["opened_gc_count"] = collector["cpu_s"], collector["count"]


def _closed(**_: Any) -> None:
    if timeline:  # the last stretch ends where the crawl does
        _sample(marks["watch_began"])
    marks["closed_cpu"], marks["closed_wall"] = _cpu(), time.perf_counter()
    marks["closed_gc_cpu"], marks["closed_gc_count"] = collector["cpu_s"], collector["count"]


def _own_peak_rss_kb(usage: resource.struct_rusage) -> int:
    """This process's peak RSS: VmHWM where /proc has it.

    Not ru_maxrss: Linux keeps that across execve, so a crawl started by a benchmark holding
    thousands of generated pages reported the benchmark's RSS at the fork as its own peak.
    """
    peak = _read_child(os.getpid())
    return peak[2] if peak is not None and peak[2] else usage.ru_maxrss


def _write_usage(path: str) -> None:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    usage = {
        "cpu_s": own.ru_utime + own.ru_stime,
        "max_rss_kb": _own_peak_rss_kb(own),
        "children_cpu_s": children.ru_utime + children.ru_stime,
        "children_max_rss_kb": children.ru_maxrss,
        "children_by_name": _children_by_name(),
        "timeline": timeline,
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
    if target and sys.platform == "linux":
        every = float(os.environ.get(TIMELINE_ENV) or 0)
        threading.Thread(target=_watch_children, args=(every,), daemon=True).start()
    try:
        execute(["scrapy", *sys.argv[1:]])
    finally:
        if target:
            _write_usage(target)


if __name__ == "__main__":
    main()
