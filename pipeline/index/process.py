"""The index writer: a process of its own that gathers items into batches and commits them.

Deciding duplicates and writing rows costs a few milliseconds of Python per item. On the
crawl's main process that time is taken from the reactor, which then cannot feed the
extraction workers, and a thread would not help: it would hold the GIL the reactor waits for.
So the crawl hands each item (its WARC records already written and flushed, the write-ahead
rule) to this process and awaits the result; the process gathers up to ``max_items`` items or
whatever arrived within ``max_wait`` seconds of the first, and indexes them in one transaction
(pipeline.index.batch).

If the process dies, the items it held fail (their WARC records are on disk: the crawl's own
close, or the next crawl's start-up, indexes them) and a new process takes the next items.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import os
import queue
import threading
import time
from concurrent.futures import Future
from typing import Any

from pipeline.index.batch import IndexedItem, index_batch
from pipeline.index.deciding import IndexPolicy
from pipeline.items import ArchiveItem
from pipeline.workers import children_ignore_sigint

logger = logging.getLogger(__name__)

DEFAULT_MAX_ITEMS = 200
DEFAULT_MAX_WAIT = 0.25
# How often the result reader checks that the process is still there.
LIVENESS_SECONDS = 1.0

Submission = tuple[int, ArchiveItem]


class IndexWriteError(Exception):
    """The index could not take an item; its WARC records are written and will be recovered."""


def serve(
    db_url: str,
    crawl_id: int | None,
    policy: IndexPolicy,
    requests: Any,
    results: Any,
    parent_pid: int,
    max_items: int,
    max_wait: float,
) -> None:
    """The process's main loop (a top-level function: it is started with spawn)."""
    from pipeline.db.session import make_engine, make_session_factory
    from pipeline.workers import INDEX_PROCESS_NAME, die_with_parent

    die_with_parent(parent_pid, INDEX_PROCESS_NAME)
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    stopping = False
    try:
        while not stopping:
            first: Submission | None = requests.get()
            if first is None:
                break
            batch = [first]
            deadline = time.monotonic() + max_wait
            while len(batch) < max_items:
                try:
                    pending = requests.get(timeout=max(deadline - time.monotonic(), 0))
                except queue.Empty:
                    break
                if pending is None:
                    stopping = True
                    break
                batch.append(pending)
            indexed = index_batch(
                factory, [item for _, item in batch], crawl_id=crawl_id, policy=policy
            )
            results.put([(seq, result) for (seq, _), result in zip(batch, indexed, strict=True)])
    finally:
        engine.dispose()
        results.put(None)


class IndexWriterProcess:
    """Parent side: ``submit`` an item, get a future of what indexing made of it."""

    def __init__(
        self,
        db_url: str,
        *,
        crawl_id: int | None,
        policy: IndexPolicy,
        max_items: int = DEFAULT_MAX_ITEMS,
        max_wait: float = DEFAULT_MAX_WAIT,
    ) -> None:
        self._args = (db_url, crawl_id, policy)
        self._limits = (max_items, max_wait)
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._futures: dict[int, Future[IndexedItem]] = {}
        self._seq = 0
        self._closed = False
        self.restarts = 0
        self._start()

    def _start(self) -> None:
        self._requests = self._context.Queue()
        self._results = self._context.Queue()
        self._process = self._context.Process(
            target=serve,
            args=(*self._args, self._requests, self._results, os.getpid(), *self._limits),
            name="newsvault-index",
            daemon=True,
        )
        with children_ignore_sigint():
            self._process.start()
        self._reader = threading.Thread(
            target=self._read_results,
            args=(self._process, self._results),
            name="newsvault-index-results",
            daemon=True,
        )
        self._reader.start()

    def submit(self, item: ArchiveItem) -> Future[IndexedItem]:
        future: Future[IndexedItem] = Future()
        with self._lock:
            if self._closed:
                future.set_exception(IndexWriteError("the index writer is closed"))
                return future
            if not self._process.is_alive():
                self._fail_pending("the index writer process died")
                self.restarts += 1
                logger.warning("index: the index writer process died; starting a new one")
                self._abandon_requests()
                self._start()
            self._seq += 1
            self._futures[self._seq] = future
            # The body is in the WARC file and extraction is done: do not copy it over.
            self._requests.put((self._seq, dataclasses.replace(item, body=b"")))
        return future

    def _read_results(self, process: Any, results: Any) -> None:
        while True:
            try:
                batch = results.get(timeout=LIVENESS_SECONDS)
            except queue.Empty:
                if process.is_alive():
                    continue
                with self._lock:
                    if process is self._process:
                        self._fail_pending("the index writer process died")
                return
            if batch is None:
                return
            with self._lock:
                done = [(self._futures.pop(seq, None), result) for seq, result in batch]
            for future, result in done:
                if future is not None:
                    future.set_result(result)

    def _abandon_requests(self) -> None:
        """The process is gone: what its queue still holds is never read.

        The queue's feeder thread may be blocked writing into the full pipe, which no one
        reads now; at exit multiprocessing would wait for it forever, and the crawl, finished,
        would never end. The items failed with the process (the WARC files hold them).
        """
        self._requests.cancel_join_thread()

    def _fail_pending(self, reason: str) -> None:
        pending, self._futures = self._futures, {}
        for future in pending.values():
            future.set_exception(IndexWriteError(reason))

    def close(self) -> None:
        """Index what was submitted, then stop the process."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._process.is_alive():
                self._requests.put(None)
        self._reader.join()
        self._process.join(timeout=30)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._abandon_requests()
        with self._lock:
            self._fail_pending("the index writer stopped before indexing it")
