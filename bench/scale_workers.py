"""Several `scrapy crawl` worker processes on one shared Redis frontier and one PostgreSQL index:
how tests/test_scale_out.py and bench/scale_out.py start, watch, kill and count them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.crawl_run import FAST_SETTINGS, crawl_args, scrapy_command, start
from bench.crawl_wrapper import RUSAGE_ENV

REDIS_TEST_ENV = "ARCHIVE_TEST_REDIS_URL"


@dataclass
class Worker:
    number: int
    process: subprocess.Popen[bytes]
    log_path: Path
    usage_path: Path
    killed: bool = False

    def usage(self) -> dict[str, Any]:
        try:
            return dict(json.loads(self.usage_path.read_text("utf-8")))
        except (OSError, ValueError):
            return {}

    def log(self) -> str:
        return self.log_path.read_text("utf-8", "replace")


@dataclass
class WorkerRun:
    workers: list[Worker] = field(default_factory=list)
    wall_s: float = 0.0

    def codes(self) -> list[int | None]:
        return [w.process.returncode for w in self.workers]

    def logs_tail(self, lines: int = 25) -> str:
        parts = []
        for worker in self.workers:
            tail = "\n".join(worker.log().splitlines()[-lines:])
            parts.append(
                f"--- worker {worker.number} (exit {worker.process.returncode}) ---\n{tail}"
            )
        return "\n".join(parts)


@contextmanager
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of its own for one run; every key under it is deleted afterwards."""
    import redis

    prefix = f"nvtest-{uuid.uuid4().hex[:10]}"
    server = redis.Redis.from_url(redis_url)
    try:
        yield prefix
    finally:
        keys = list(server.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            server.delete(*keys)
        server.close()


def redis_keys(redis_url: str, prefix: str) -> list[str]:
    import redis

    server = redis.Redis.from_url(redis_url)
    try:
        return sorted(k.decode() for k in server.scan_iter(match=f"{prefix}:*", count=1000))
    finally:
        server.close()


def worker_env(base: dict[str, str], redis_url: str, prefix: str) -> dict[str, str]:
    env = dict(base)
    env["ARCHIVE_REDIS_URL"] = redis_url
    env["ARCHIVE_REDIS_PREFIX"] = prefix
    return env


def run_workers(
    count: int,
    spider_args: dict[str, str],
    env: dict[str, str],
    folder: Path,
    *,
    timeout: float,
    settings: tuple[str, ...] = FAST_SETTINGS,
    kill_when: Callable[[], bool] | None = None,
) -> WorkerRun:
    """Start ``count`` workers with the same command at once and wait for all to end; when
    ``kill_when`` turns true, worker 0 is killed with SIGKILL (once)."""
    folder.mkdir(parents=True, exist_ok=True)
    command = scrapy_command(crawl_args("site", spider_args, settings), measured=True)
    run = WorkerRun()
    began = time.perf_counter()
    for number in range(count):
        log_path = folder / f"worker{number}.log"
        usage_path = folder / f"worker{number}.rusage.json"
        worker_env_ = {**env, RUSAGE_ENV: str(usage_path)}
        with log_path.open("wb") as log:
            process = start(command, worker_env_, log)
        run.workers.append(Worker(number, process, log_path, usage_path))
    deadline = began + timeout
    try:
        while any(w.process.poll() is None for w in run.workers):
            if time.perf_counter() > deadline:
                raise TimeoutError(f"workers still running after {timeout:.0f} s")
            victim = run.workers[0]
            if kill_when is not None and not victim.killed and kill_when():
                os.killpg(victim.process.pid, signal.SIGKILL)
                victim.process.wait(10)
                victim.killed = True
            time.sleep(0.05)
    finally:
        for worker in run.workers:
            if worker.process.poll() is None:
                os.killpg(worker.process.pid, signal.SIGKILL)
                worker.process.wait(10)
    run.wall_s = time.perf_counter() - began
    return run


def captures_per_crawl(db_url: str, urls: set[str]) -> list[int]:
    """How many of ``urls`` each crawl (worker) fetched, largest first: a response record, or a
    revisit where the same bytes had come under another URL before."""
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT crawl_id, uri FROM captures"
                    " WHERE record_type IN ('response', 'revisit')"
                )
            ).all()
    finally:
        engine.dispose()
    per_crawl: dict[int, int] = {}
    for crawl_id, uri in rows:
        if uri in urls:
            per_crawl[crawl_id] = per_crawl.get(crawl_id, 0) + 1
    return sorted(per_crawl.values(), reverse=True)
