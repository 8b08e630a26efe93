"""Index writes in batches: one transaction for many items, decided and stored in order.

In order and in one transaction, each decision sees the rows of the items before it: two
near-copies in one batch are linked, the same text twice is one document. An item whose rows
cannot be written (a constraint another worker won the race for) is rolled back to its savepoint
alone and decided once more; the rest of the batch goes on. A batch whose commit fails fails
every item in it: their WARC records are written, so the next crawl's start-up recovers them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from pipeline.index.deciding import IndexPolicy
from pipeline.index.storing import index_item
from pipeline.items import ArchiveItem

logger = logging.getLogger(__name__)


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
    """Index ``items`` in one transaction; one result per item, in order."""
    results: list[IndexedItem] = []
    try:
        with factory() as session, session.begin():
            for item in items:
                problem = _index_one(session, item, crawl_id, policy)
                results.append(IndexedItem.of(item) if problem is None else _failed(problem))
    except Exception as error:
        logger.error("index: a batch of %d item(s) was not committed: %s", len(items), error)
        return [_failed(f"not committed: {error}") for _ in items]
    return results


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
        except Exception as error:
            savepoint.rollback()
            logger.error("index: %s: %s", item.url, error)
            return f"{type(error).__name__}: {error}"
    return None
