"""The extraction process pool: workers that die with their parent, and a pool that outlives them.

concurrent.futures breaks the whole pool when one worker dies (BrokenProcessPool for every task
in it, and every later one). Here a broken pool is replaced by a fresh one, and each task that was
in it runs again alone, in a one-worker quarantine pool: a task that kills that worker too is the
one that kills workers, and fails on its own (a page that crashes the parser must not stop the
crawl); the others were bystanders and complete. Workers ask the kernel to kill them when their
parent dies, so a crawl killed with SIGKILL leaves no extraction process (nor multiprocessing's
resource tracker, which lives as long as someone holds its pipe) behind.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
PR_SET_NAME = 15
# What `ps`, `top` and /proc/PID/comm call the crawl's child processes (at most 15 bytes).
EXTRACTION_PROCESS_NAME = "nv-extract"
INDEX_PROCESS_NAME = "nv-index"
Result = TypeVar("Result")


class WorkerDiedError(Exception):
    """The task's worker process died (killed, or crashed in native code) every time."""


def die_with_parent(parent_pid: int, name: str = EXTRACTION_PROCESS_NAME) -> None:
    """Worker initializer: SIGKILL this process when its parent dies (Linux), checked once.

    Ctrl-C in a terminal signals the whole process group: the parent stops the crawl cleanly
    and still needs its workers to finish what is in flight, so they ignore SIGINT.

    The process also takes ``name`` as its name in ``ps`` and ``top``: every child of a crawl
    is otherwise the same ``python -c "from multiprocessing.spawn ..."`` line.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        libc.prctl(PR_SET_NAME, ctypes.c_char_p(name.encode()[:15]), 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the watchdog thread below still works
        pass
    # The parent may have died before prctl took effect.
    if os.getppid() != parent_pid:
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()


def start_extraction_worker(parent_pid: int, niceness: int) -> None:
    """Extraction pool initializer: ``niceness`` lower CPU priority, then die_with_parent.

    Every page passes through the crawl's reactor and its one index writer in turn, while the
    extraction workers share the pages among themselves: when the CPU is short, a serial stage
    kept waiting leaves the workers without pages (or piles extracted items up in memory
    before the index writer), where a worker kept waiting costs only its own share.
    """
    # Lowered before die_with_parent names the process: whoever finds an `nv-extract` finds it
    # at its priority.
    if niceness > 0:
        os.nice(niceness)
    die_with_parent(parent_pid)


def _watch_parent(parent_pid: int) -> None:
    import time

    while os.getppid() == parent_pid:
        time.sleep(1.0)
    os._exit(1)


@contextmanager
def children_ignore_sigint() -> Iterator[None]:
    """Processes started inside ignore SIGINT from their first instruction.

    Ctrl-C reaches the whole process group; a worker still importing when it came would die
    with a traceback before its initializer could ignore it. Meanwhile SIGINT is blocked in
    this process, not ignored: one that comes is delivered to the restored handler after (on
    Linux a blocked signal stays pending whatever its disposition). Only the main thread may
    set signal handlers; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def starting_workers(executor: ProcessPoolExecutor) -> AbstractContextManager[None]:
    """children_ignore_sigint around a submission that may start a worker process.

    A spawn pool starts its workers as tasks come, until it has all of them; after that a
    submission starts none, and the four signal calls per task are skipped. Should the
    executor's internals differ from CPython's, every submission is guarded.
    """
    processes = getattr(executor, "_processes", None)
    size = getattr(executor, "_max_workers", None)
    if isinstance(processes, dict) and isinstance(size, int) and len(processes) >= size:
        return nullcontext()
    return children_ignore_sigint()


class ExtractionPool:
    """A spawn process pool with ``workers`` processes, each ``niceness`` below this process in
    CPU priority; ``run`` awaits one task."""

    def __init__(self, workers: int, niceness: int = 0) -> None:
        if workers < 1:
            raise ValueError(f"an extraction pool needs at least one worker, got {workers}")
        if niceness < 0:
            raise ValueError(f"a pool's workers cannot run above their parent, got {niceness}")
        self._workers = workers
        self._niceness = niceness
        self._executor: ProcessPoolExecutor | None = None
        self._quarantine: ProcessPoolExecutor | None = None
        self._quarantine_lock = asyncio.Lock()
        self._generation = 0
        self.restarts = 0

    def _current(self) -> tuple[ProcessPoolExecutor, int]:
        if self._executor is None:
            self._executor = self._new_executor(self._workers)
        return self._executor, self._generation

    def _new_executor(self, workers: int) -> ProcessPoolExecutor:
        # spawn: forking a process that runs a reactor and threads is not safe.
        return ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=start_extraction_worker,
            initargs=(os.getpid(), self._niceness),
        )

    def _replace(self, generation: int) -> None:
        """Drop a broken pool, once for all the tasks that saw it break."""
        if generation != self._generation or self._executor is None:
            return
        broken, self._executor = self._executor, None
        self._generation += 1
        self.restarts += 1
        logger.warning("extract: a worker process died; starting a new pool")
        broken.shutdown(wait=False, cancel_futures=True)

    async def run(self, function: Callable[..., Result], *args: Any) -> Result:
        loop = asyncio.get_running_loop()
        executor, generation = self._current()
        try:
            with starting_workers(executor):
                pending = loop.run_in_executor(executor, function, *args)
            return await pending
        except BrokenProcessPool:
            self._replace(generation)
        # A worker died under this task or under another one: run it alone to tell which.
        async with self._quarantine_lock:
            if self._quarantine is None:
                self._quarantine = self._new_executor(1)
            try:
                with children_ignore_sigint():
                    pending = loop.run_in_executor(self._quarantine, function, *args)
                return await pending
            except BrokenProcessPool:
                self._quarantine.shutdown(wait=False, cancel_futures=True)
                self._quarantine = None
        raise WorkerDiedError("the extraction worker died on this input (alone in its pool)")

    def close(self) -> None:
        for executor in (self._executor, self._quarantine):
            if executor is not None:
                executor.shutdown(wait=True, cancel_futures=False)
        self._executor = self._quarantine = None
