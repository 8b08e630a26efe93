"""Crawl rows, one per process, and the scaled-out crawl several of them make together.

Every worker of a shared frontier (``ARCHIVE_REDIS_URL``) writes a crawl row of its own, with
``shared_crawl_id`` set to the first worker's crawl id: rows with the same value are one crawl.
A crawl of one process (no Redis) is a crawl of one worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session, aliased

from pipeline.db.models import SOURCE_RECORD_TYPES, Capture, Crawl, Failure

DIED = "died"
FINISHED = "finished"
# Records that stand for one fetched page (or read file): its bytes, or a revisit of bytes seen.
PAGE_RECORD_TYPES = (*SOURCE_RECORD_TYPES, "revisit")


@dataclass(frozen=True)
class CrawlWorker:
    """One process of a crawl and what it added to the index."""

    crawl_id: int
    host: str | None
    pid: int | None
    started: datetime
    finished: datetime | None
    # Scrapy's finish reason ("finished", "shutdown", ...), "died" (another worker found it
    # dead), or None: still running, or killed with nobody left to notice.
    outcome: str | None
    pages: int  # response, resource and revisit records indexed under this crawl
    documents: int  # documents whose first capture this crawl made
    revisits: int
    failures: int


@dataclass(frozen=True)
class LastCrawl:
    id: int  # the crawl id; for a scaled-out crawl the first worker's
    started: datetime
    finished: datetime | None  # when the last worker finished, once every worker has ended
    scaled_out: bool
    workers: list[CrawlWorker]


def join_shared_crawl(session: Session, crawl_id: int, shared_crawl_id: int) -> None:
    session.execute(
        update(Crawl).where(Crawl.id == crawl_id).values(shared_crawl_id=shared_crawl_id)
    )


def mark_crawl_died(session: Session, crawl_id: int) -> bool:
    """Record that a worker died; False when its row had ended already (or is unknown)."""
    result = session.execute(
        update(Crawl).where(Crawl.id == crawl_id, Crawl.outcome.is_(None)).values(outcome=DIED)
    )
    return bool(getattr(result, "rowcount", 0))


def _per_crawl(session: Session, statement: Any) -> dict[int, int]:
    return {int(crawl): int(count) for crawl, count in session.execute(statement)}


def _first_captures(session: Session, ids: list[int]) -> dict[int, int]:
    """Per crawl, the documents whose earliest source capture it made."""
    earlier = aliased(Capture)
    before = (
        select(earlier.id)
        .where(
            earlier.document_id == Capture.document_id,
            earlier.record_type.in_(SOURCE_RECORD_TYPES),
            earlier.id < Capture.id,
        )
        .correlate(Capture)
    )
    statement = (
        select(Capture.crawl_id, func.count())
        .where(
            Capture.crawl_id.in_(ids),
            Capture.document_id.is_not(None),
            Capture.record_type.in_(SOURCE_RECORD_TYPES),
            ~exists(before),
        )
        .group_by(Capture.crawl_id)
    )
    return _per_crawl(session, statement)


def crawl_workers(session: Session, crawls: list[Crawl]) -> list[CrawlWorker]:
    ids = [crawl.id for crawl in crawls]
    by_type = select(Capture.crawl_id, func.count()).where(Capture.crawl_id.in_(ids))
    pages = _per_crawl(
        session,
        by_type.where(Capture.record_type.in_(PAGE_RECORD_TYPES)).group_by(Capture.crawl_id),
    )
    revisits = _per_crawl(
        session, by_type.where(Capture.record_type == "revisit").group_by(Capture.crawl_id)
    )
    failures = _per_crawl(
        session,
        select(Failure.crawl_id, func.count())
        .where(Failure.crawl_id.in_(ids))
        .group_by(Failure.crawl_id),
    )
    documents = _first_captures(session, ids)
    return [
        CrawlWorker(
            crawl_id=crawl.id,
            host=crawl.host,
            pid=crawl.pid,
            started=crawl.started_at,
            finished=crawl.finished_at,
            outcome=crawl.outcome,
            pages=pages.get(crawl.id, 0),
            documents=documents.get(crawl.id, 0),
            revisits=revisits.get(crawl.id, 0),
            failures=failures.get(crawl.id, 0),
        )
        for crawl in crawls
    ]


def last_crawl(session: Session) -> LastCrawl | None:
    """The crawl that started last, with every worker of it when it was scaled out."""
    latest = session.scalar(select(Crawl).order_by(Crawl.started_at.desc(), Crawl.id.desc()))
    if latest is None:
        return None
    shared = latest.shared_crawl_id
    rows = [latest]
    if shared is not None:
        rows = list(
            session.scalars(select(Crawl).where(Crawl.shared_crawl_id == shared).order_by(Crawl.id))
        )
    workers = crawl_workers(session, rows)
    ended = all(w.outcome is not None or w.finished is not None for w in workers)
    finish_times = [worker.finished for worker in workers if worker.finished is not None]
    return LastCrawl(
        id=shared if shared is not None else latest.id,
        started=min(worker.started for worker in workers),
        finished=max(finish_times) if ended and finish_times else None,
        scaled_out=shared is not None,
        workers=workers,
    )
