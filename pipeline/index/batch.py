"""Index writes in batches: one transaction for many items, decided and stored in order.

In order and in one transaction, each decision sees the rows of the items before it: two
near-copies in one batch are linked, the same text twice is one document. An item whose rows
cannot be written (a constraint another worker won the race for) is rolled back to its savepoint
alone and decided once more; the rest of the batch goes on. A batch whose commit fails fails
every item in it: their WARC records are written, so the next crawl's start-up recovers them.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from pipeline.index.deciding import IndexPolicy
from pipeline.index.storing import index_item
from pipeline.items import ArchiveItem

logger = logging.getLogger(__name__)
# PostgreSQL's deadlock_detected and serialization_failure: another transaction won, try again.
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})
BATCH_ATTEMPTS = 5


@dataclass(frozen=True)
class IndexedItem:
    """What indexing made of one item, sent back to the crawl that submitted it."""

    outcome: str | None
    document_id: int | None
    duplicate_of: int | None
    similarity: float | None
    story_id: int | None
    error: str | None = None  # set when the item's rows were not written

    @classmethod
    def of(cls, item: ArchiveItem) -> IndexedItem:
        return cls(
            item.outcome, item.document_id, item.duplicate_of, item.similarity, item.story_id
        )

    def apply_to(self, item: ArchiveItem) -> None:
        item.outcome = self.outcome
        item.document_id = self.document_id
        item.duplicate_of = self.duplicate_of
        item.similarity = self.similarity
        item.story_id = self.story_id


def index_batch(
    factory: sessionmaker[Session],
    items: list[ArchiveItem],
    *,
    crawl_id: int | None,
    policy: IndexPolicy,
) -> list[IndexedItem]:
    """Index ``items`` in one transaction; one result per item, in order.

    A deadlock or serialization failure with another worker's batch (PostgreSQL) rolls the
    whole batch back: it is decided and written again from the start, a few times.
    """
    for attempt in range(1, BATCH_ATTEMPTS + 1):
        try:
            return _index_batch_once(factory, items, crawl_id, policy)
        except TransientConflict as conflict:
            if attempt == BATCH_ATTEMPTS:
                error: Exception = conflict
                break
            logger.warning("index: batch of %d item(s): %s; again", len(items), conflict)
            for item in items:
                item.decision = None  # decided again against what the other batch wrote
            time.sleep(0.1 * attempt)
        except Exception as failure:
            error = failure
            break
    logger.error("index: a batch of %d item(s) was not committed: %s", len(items), error)
    return [_failed(f"not committed: {error}") for _ in items]


class TransientConflict(Exception):
    """Another transaction won a lock or serialization race; the batch may simply run again."""


def _index_batch_once(
    factory: sessionmaker[Session],
    items: list[ArchiveItem],
    crawl_id: int | None,
    policy: IndexPolicy,
) -> list[IndexedItem]:
    results: list[IndexedItem] = []
    try:
        with factory() as session, session.begin():
            for item in items:
                problem = _index_one(session, item, crawl_id, policy)
                results.append(IndexedItem.of(item) if problem is None else _failed(problem))
    except DBAPIError as error:  # the commit itself can lose the race too
        if _is_transient(error):
            raise TransientConflict(str(error.orig).strip().splitlines()[0]) from error
        raise
    return results


def _is_transient(error: DBAPIError) -> bool:
    return getattr(error.orig, "sqlstate", None) in TRANSIENT_SQLSTATES


def _failed(problem: str) -> IndexedItem:
    return IndexedItem(None, None, None, None, None, error=problem)


def _index_one(
    session: Session, item: ArchiveItem, crawl_id: int | None, policy: IndexPolicy
) -> str | None:
    for attempt in (1, 2):
        savepoint = session.begin_nested()
        try:
            index_item(session, item, item.analysis, crawl_id, policy)
            savepoint.commit()
            return None
        except IntegrityError as error:
            # Another worker indexed the same text meanwhile: decide again against its row.
            savepoint.rollback()
            item.decision = None
            if attempt == 2:
                return f"{type(error).__name__}: {error.orig}"
        except DBAPIError as error:
            if _is_transient(error):
                raise TransientConflict(str(error.orig).strip().splitlines()[0]) from error
            savepoint.rollback()
            logger.error("index: %s: %s", item.url, error)
            return f"{type(error).__name__}: {error}"
        except Exception as error:
            savepoint.rollback()
            logger.error("index: %s: %s", item.url, error)
            return f"{type(error).__name__}: {error}"
    return None
