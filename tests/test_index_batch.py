"""Index writes in batches: one transaction, decisions that see each other, failures kept apart;
and the index writer process that runs them, surviving its own death."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from pipeline.analysis import analyse
from pipeline.db.models import Capture, Document, Failure, Story
from pipeline.index.batch import IndexedItem, index_batch
from pipeline.index.process import IndexWriteError, IndexWriterProcess
from pipeline.items import ArchiveItem
from tests.test_indexer import POLICY, article, edited, make_item, make_ref

ROOT = Path(__file__).resolve().parent.parent


def analysed(item: ArchiveItem) -> ArchiveItem:
    assert item.document is not None
    item.analysis = analyse(item.document)
    return item


def count(factory: sessionmaker[Session], model: type) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_decisions_inside_one_batch_see_each_other(session_factory: sessionmaker[Session]) -> None:
    title, paragraphs = article("002")
    other_title, other_paragraphs = article("chip", directory="articles")
    original = analysed(make_item(title, paragraphs))
    same_text = analysed(make_item("Another headline", paragraphs))
    near_copy = analysed(make_item(f"{title} - Wire", edited(paragraphs[:-1], every=60)))
    unrelated = analysed(make_item(other_title, other_paragraphs))
    batch = [original, same_text, near_copy, unrelated]

    results = index_batch(session_factory, batch, crawl_id=None, policy=POLICY)

    assert [r.error for r in results] == [None] * 4
    assert [r.outcome for r in results] == ["new", "same-text", "near-duplicate", "new"]
    assert results[1].document_id == results[0].document_id
    assert results[2].duplicate_of == results[0].document_id
    assert results[2].story_id == results[0].story_id != results[3].story_id
    assert count(session_factory, Document) == 3
    assert count(session_factory, Capture) == 4
    with session_factory() as session:
        story = session.get(Story, results[0].story_id)
        assert story is not None and story.size == 2


def test_a_failing_item_does_not_take_its_batch_down(
    session_factory: sessionmaker[Session],
) -> None:
    title, paragraphs = article("001")
    good = analysed(make_item(title, paragraphs))
    broken = analysed(make_item("Broken", edited(paragraphs, every=7)))
    # The same record id at another place of the file: the index refuses the second.
    assert broken.capture is not None and good.capture is not None
    broken.capture = replace(
        make_ref(broken.url, broken.fetched_at), record_id=good.capture.record_id
    )
    failed = make_item("Failure", [])
    failed.fail("fetch", "HTTP 404")

    results = index_batch(session_factory, [good, broken, failed], crawl_id=None, policy=POLICY)

    assert results[0].error is None and results[0].outcome == "new"
    assert results[1].error is not None and "already indexed at another place" in results[1].error
    assert results[2].error is None and results[2].outcome == "failed"
    assert count(session_factory, Document) == 1
    assert count(session_factory, Failure) == 1


def test_index_writer_process_indexes_and_survives_being_killed(migrated_url: str) -> None:
    title, paragraphs = article("000")
    writer = IndexWriterProcess(migrated_url, crawl_id=None, policy=POLICY, max_wait=0.05)
    try:
        first = writer.submit(analysed(make_item(title, paragraphs))).result(timeout=60)
        assert isinstance(first, IndexedItem) and first.outcome == "new" and first.error is None
        if sys.platform == "linux":  # named for ps and top (prctl)
            assert Path(f"/proc/{writer._process.pid}/comm").read_text().strip() == "nv-index"

        os.kill(writer._process.pid, signal.SIGKILL)
        writer._process.join(timeout=10)
        second_title, second_paragraphs = article("chip", directory="articles")
        after: Future[IndexedItem] = writer.submit(
            analysed(make_item(second_title, second_paragraphs))
        )
        result = after.result(timeout=60)
        assert result.outcome == "new" and result.document_id != first.document_id
        assert writer.restarts == 1
    finally:
        writer.close()
    closed = writer.submit(analysed(make_item(title, paragraphs)))
    with pytest.raises(IndexWriteError, match="closed"):
        closed.result(timeout=5)


def test_a_crawl_whose_index_writer_died_with_items_unread_still_exits(migrated_url: str) -> None:
    """Items queued for a writer that died unread (more than a pipe holds) never keep the
    process from exiting: multiprocessing would join the queue's blocked feeder thread."""
    program = textwrap.dedent(
        """
        import os, signal, sys
        from pipeline.index.process import IndexWriterProcess
        from tests.test_index_batch import POLICY
        from tests.test_indexer import make_item

        writer = IndexWriterProcess(sys.argv[1], crawl_id=None, policy=POLICY, max_wait=0.05)
        os.kill(writer._process.pid, signal.SIGSTOP)  # alive, reading nothing
        # About 1 MB of text: far more than the pipe to the writer holds.
        pending = writer.submit(make_item("Harbour", ["The harbour bridge. " * 50_000]))
        os.kill(writer._process.pid, signal.SIGKILL)
        writer._process.join(timeout=10)
        writer.close()
        print("closed:", type(pending.exception(timeout=30)).__name__, flush=True)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", program, migrated_url],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "closed: IndexWriteError"


def test_items_held_by_a_dying_index_writer_fail_instead_of_hanging(migrated_url: str) -> None:
    title, paragraphs = article("003")
    # A long gathering window keeps the item inside the process when it is killed.
    writer = IndexWriterProcess(migrated_url, crawl_id=None, policy=POLICY, max_wait=30)
    try:
        pending = writer.submit(analysed(make_item(title, paragraphs)))
        time.sleep(1.0)
        os.kill(writer._process.pid, signal.SIGKILL)
        with pytest.raises(IndexWriteError, match="died"):
            pending.result(timeout=30)
    finally:
        writer.close()
