"""The extraction process pool: workers that die with their parent, and a pool that outlives them.

concurrent.futures breaks the whole pool when one worker dies (BrokenProcessPool for every task
in it, and every later one). Here a broken pool is replaced by a fresh one, and each task that was
in it runs again alone, in a one-worker quarantine pool: a task that kills that worker too is the
one that kills workers, and fails on its own (a page that crashes the parser must not stop the
crawl); the others were bystanders and complete. Workers die with the crawl (the kernel kills
them when their parent dies; a worker whose parent is the fork server also watches the crawl),
so a crawl killed with SIGKILL leaves no extraction process behind, nor the fork server or
multiprocessing's resource tracker, which live as long as someone holds their pipes.

Where the platform has one, workers are forked from multiprocessing's fork server, which
imported what they need once (``start_fork_server``): a worker then starts with its modules
loaded, where a spawned one runs the program's main script again and imports them itself
(about a second of CPU each, paid again by every replacement).
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
PR_SET_NAME = 15
# What `ps`, `top` and /proc/PID/comm call the crawl's child processes (at most 15 bytes).
EXTRACTION_PROCESS_NAME = "nv-extract"
INDEX_PROCESS_NAME = "nv-index"
Result = TypeVar("Result")


def worker_context() -> multiprocessing.context.BaseContext:
    """Fork server where there is one, spawn elsewhere; never a fork of this process, which
    runs a reactor and threads."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")


def start_fork_server(preload: Sequence[str]) -> None:
    """Start the fork server now, importing the ``preload`` modules, so that it loads them while
    this process is still busy starting up. Once it runs, later preload lists are not read.
    Does nothing where workers are spawned."""
    context = worker_context()
    if context.get_start_method() != "forkserver":
        return
    from multiprocessing import forkserver

    context.set_forkserver_preload(list(preload))
    # The server's handlers are the ones its workers start with: it must ignore Ctrl-C too.
    with children_ignore_sigint():
        forkserver.ensure_running()


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


def start_extraction_worker(crawl_pid: int, niceness: int) -> None:
    """Extraction pool initializer: ``niceness`` lower CPU priority, then die with the crawl.

    Every page passes through the crawl's reactor and its one index writer in turn, while the
    extraction workers share the pages among themselves: when the CPU is short, a serial stage
    kept waiting leaves the workers without pages (or piles extracted items up in memory
    before the index writer), where a worker kept waiting costs only its own share.

    A spawned worker's parent is the crawl. A worker forked by the fork server has the server
    as its parent, and the server lives while any of its workers does (each holds the pipe
    whose end tells the server that its clients are gone): such a worker watches the crawl
    itself, and dies with the server too should that be killed.
    """
    # Lowered before the worker is named: whoever finds an `nv-extract` finds it at its
    # priority.
    if niceness > 0:
        os.nice(niceness)
    parent = os.getppid()
    if parent != crawl_pid and _parent_of(parent) not in (crawl_pid, None):
        os._exit(1)  # the server's crawl is gone already
    die_with_parent(parent)
    if parent != crawl_pid:
        die_with_process(crawl_pid)


def die_with_process(pid: int) -> None:
    """Exit as soon as process ``pid`` (not this one's parent) has ended: a daemon thread waits
    on a pidfd of it (Linux 5.3 and later), or else checks every second that it still exists."""
    try:
        handle: int | None = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):  # no pidfd here
        handle = None
    threading.Thread(target=_watch_process, args=(pid, handle), daemon=True).start()


def _watch_process(pid: int, handle: int | None) -> None:
    import select
    import time

    if handle is not None:
        select.select([handle], [], [])  # readable once the process has ended
        os._exit(1)
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:  # it exists, under another user: not ours, but alive
            pass
        time.sleep(1.0)


def _parent_of(pid: int) -> int | None:
    """The parent of process ``pid`` (from /proc), or None where that cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2 :].split()[1])


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
    """A process pool with ``workers`` processes, each ``niceness`` below this process in CPU
    priority; ``run`` awaits one task. Workers come from ``context``: by default the fork
    server (started here if ``start_fork_server`` did not start it first), or spawned."""

    def __init__(
        self,
        workers: int,
        niceness: int = 0,
        context: multiprocessing.context.BaseContext | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError(f"an extraction pool needs at least one worker, got {workers}")
        if niceness < 0:
            raise ValueError(f"a pool's workers cannot run above their parent, got {niceness}")
        self._workers = workers
        self._niceness = niceness
        self._context = context if context is not None else worker_context()
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
        return ProcessPoolExecutor(
            max_workers=workers,
            mp_context=self._context,
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
