"""The extraction process pool: a dead worker is replaced and its task tried again, a task that
kills every worker fails alone, and workers die with their parent."""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bench.process_tree import descendants, process_name
from pipeline.workers import (
    EXTRACTION_PROCESS_NAME,
    ExtractionPool,
    WorkerDiedError,
    starting_workers,
)
from tests.cli import PROJECT_DIR, SCRAPY, archive_env

ROOT = Path(__file__).resolve().parent.parent


def square(number: int) -> int:
    time.sleep(0.2)
    return number * number


def kill_own_worker(marker: str) -> int:
    """Dies the first time only: the marker file says it already did."""
    path = Path(marker)
    if not path.exists():
        path.write_text("died once")
        os.kill(os.getpid(), signal.SIGKILL)
    return 42


def own_process_name() -> str:
    return Path("/proc/self/comm").read_text().strip()


def own_niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, 0)


def always_die() -> int:
    os.kill(os.getpid(), signal.SIGKILL)
    return 0


async def gather(pool: ExtractionPool, *calls: tuple[object, ...]) -> list[object]:
    results = await asyncio.gather(
        *(pool.run(call[0], *call[1:]) for call in calls),  # type: ignore[arg-type]
        return_exceptions=True,
    )
    return list(results)


def test_dead_worker_is_replaced_and_its_task_retried(tmp_path: Path) -> None:
    pool = ExtractionPool(2)
    try:
        calls = [(square, n) for n in range(6)] + [(kill_own_worker, str(tmp_path / "m"))]
        results = asyncio.run(gather(pool, *calls))
    finally:
        pool.close()
    assert results == [0, 1, 4, 9, 16, 25, 42]
    assert pool.restarts >= 1


@pytest.mark.skipif(sys.platform != "linux", reason="process names are set with Linux's prctl")
def test_extraction_workers_are_named_for_ps_and_top() -> None:
    pool = ExtractionPool(1)
    try:
        assert asyncio.run(gather(pool, (own_process_name,))) == ["nv-extract"]
    finally:
        pool.close()


def test_extraction_workers_run_below_their_parent_in_cpu_priority() -> None:
    here = os.getpriority(os.PRIO_PROCESS, 0)
    lowered, level = ExtractionPool(1, niceness=3), ExtractionPool(1)
    try:
        assert asyncio.run(gather(lowered, (own_niceness,))) == [min(here + 3, 19)]
        assert asyncio.run(gather(level, (own_niceness,))) == [here]
    finally:
        lowered.close()
        level.close()
    with pytest.raises(ValueError, match="cannot run above their parent"):
        ExtractionPool(1, niceness=-1)


def test_a_task_that_kills_every_worker_fails_alone() -> None:
    pool = ExtractionPool(2)
    try:
        results = asyncio.run(gather(pool, (always_die,), (square, 3), (square, 4)))
        after = asyncio.run(gather(pool, (square, 5)))
    finally:
        pool.close()
    assert isinstance(results[0], WorkerDiedError)
    assert results[1:] == [9, 16] and after == [25]
    assert pool.restarts == 1


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs /proc to list processes")
def test_workers_die_with_their_parent() -> None:
    """Every process the pool started (workers, and their fork server where there is one, which
    lives while a worker holds its pipe) ends once the parent is killed."""
    program = textwrap.dedent(
        """
        import asyncio, os, sys, time
        from pipeline.workers import ExtractionPool
        from tests.test_workers import square

        pool = ExtractionPool(2)

        async def main():
            await asyncio.gather(pool.run(square, 1), pool.run(square, 2))

        asyncio.run(main())
        print(os.getpid(), flush=True)
        time.sleep(600)
        """
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", program], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None
        parent_pid = int(parent.stdout.readline())
        below = [process.pid for process in descendants(parent_pid)]
        names = [process_name(pid) for pid in below]
        assert names.count(EXTRACTION_PROCESS_NAME) == 2, names
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(pid) for pid in below):
        time.sleep(0.1)
    assert [pid for pid in below if alive(pid)] == []


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def worker_sigint_handler() -> str:
    return str(signal.getsignal(signal.SIGINT))


def test_workers_ignore_sigint_and_full_pools_skip_the_guard() -> None:
    # Whatever the test run started with: a shell starting it in the background ignores SIGINT.
    handler_before = signal.getsignal(signal.SIGINT)
    pool = ExtractionPool(2)
    try:
        executor, _ = pool._current()
        assert not isinstance(starting_workers(executor), contextlib.nullcontext)
        # Every worker, started one by one as tasks came, ignores Ctrl-C from its start.
        results = asyncio.run(gather(pool, *[(worker_sigint_handler,)] * 6, (square, 3)))
        assert results[-1] == 9
        assert set(results[:-1]) == {str(signal.SIG_IGN)}
        if len(executor._processes) == 2:  # type: ignore[attr-defined]
            assert isinstance(starting_workers(executor), contextlib.nullcontext)
    finally:
        pool.close()
    # The parent's own handler is back.
    assert signal.getsignal(signal.SIGINT) is handler_before


def test_the_extraction_worker_imports_no_database_or_crawler_code() -> None:
    """What a worker runs (extraction, fingerprints, credit lines, derived records) needs neither
    the database package nor Scrapy: importing them cost each worker some 35 MB and 0.3 s."""
    probe = textwrap.dedent(
        """
        import sys
        import pipeline.analysis, pipeline.extract.document
        heavy = ("pipeline.db", "sqlalchemy", "alembic", "scrapy", "twisted")
        print(" ".join(name for name in heavy if name in sys.modules))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == []


def _extraction_workers_niceness(crawl: int) -> dict[int, tuple[int, int]]:
    """pid -> (niceness, parent pid) of each `nv-extract` process of the crawl alive now."""
    found = {}
    for child in descendants(crawl):
        if process_name(child.pid) == EXTRACTION_PROCESS_NAME:
            with contextlib.suppress(OSError):  # ended meanwhile
                found[child.pid] = (os.getpriority(os.PRIO_PROCESS, child.pid), child.parent)
    return found


@pytest.mark.skipif(sys.platform != "linux", reason="reads the crawl's processes from /proc")
def test_a_crawls_extraction_workers_take_the_niceness_setting_and_come_from_its_fork_server(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    articles = sorted((PROJECT_DIR / "tests" / "data" / "articles").glob("*.txt"))
    for copy in range(20):  # a few seconds of work: the workers live until the crawl closes
        for path in articles:
            text = path.read_text(encoding="utf-8")
            (folder / f"{copy}-{path.name}").write_text(f"{text}\nCopy {copy}.\n", "utf-8")
    env = archive_env(tmp_path / "archive", workers=1)
    env["ARCHIVE_EXTRACT_NICENESS"] = "4"
    crawl = subprocess.Popen(
        [str(SCRAPY), "crawl", "files", "-a", f"path={folder}"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    seen: dict[int, tuple[int, int]] = {}
    try:
        while crawl.poll() is None and not seen:
            seen = _extraction_workers_niceness(crawl.pid)
            time.sleep(0.01)
        _, err = crawl.communicate(timeout=180)
    finally:
        if crawl.poll() is None:
            crawl.kill()
    assert crawl.returncode == 0, err.decode()[-3000:]
    here = os.getpriority(os.PRIO_PROCESS, 0)
    assert seen and {nice for nice, _ in seen.values()} == {min(here + 4, 19)}, seen
    if "forkserver" in multiprocessing.get_all_start_methods():
        # Forked by the crawl's fork server, not spawned by the crawl itself.
        assert crawl.pid not in {parent for _, parent in seen.values()}, seen


def what_the_worker_had_loaded() -> tuple[int, bool, int]:
    """(parent pid, extraction code imported, language models loaded) before any page."""
    import pipeline.extract.language as language

    loaded = language._identifier.cache_info().currsize
    return os.getppid(), "pipeline.analysis" in sys.modules, loaded


@pytest.mark.skipif(
    "forkserver" not in multiprocessing.get_all_start_methods(), reason="workers are spawned here"
)
def test_workers_come_from_a_fork_server_with_the_extraction_code_loaded() -> None:
    """The crawl starts the server early with the extraction code and the language model, and
    each worker is forked from it ready, never importing or loading them itself."""
    program = textwrap.dedent(
        """
        import asyncio, json, os
        from pipeline.crawl.pipelines import WORKER_PRELOAD
        from pipeline.workers import ExtractionPool, start_fork_server
        from tests.test_workers import what_the_worker_had_loaded

        start_fork_server(WORKER_PRELOAD)
        pool = ExtractionPool(2)
        report = asyncio.run(pool.run(what_the_worker_had_loaded))
        pool.close()
        print(json.dumps([os.getpid(), *report]))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    crawl, worker_parent, extraction_loaded, models = json.loads(result.stdout)
    assert worker_parent != crawl  # forked by the server, not spawned by the crawl
    assert extraction_loaded and models == 1
