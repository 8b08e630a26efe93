"""Archive statistics: one summary of what the index holds."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from pipeline.db.models import (
    SOURCE_RECORD_TYPES,
    Capture,
    Document,
    Failure,
    Story,
    WarcFile,
)
from pipeline.db.queries_crawls import LastCrawl, last_crawl
from pipeline.urls import url_host


@dataclass(frozen=True)
class ArchiveStats:
    documents: int
    captures: dict[str, int]  # by record type
    revisits: int
    same_text_links: int  # resource/response captures of a document beyond its first
    near_duplicates: int  # documents with duplicate_of set
    stories: int
    failures: int
    failures_by_stage: dict[str, int]
    by_source: list[tuple[str, int]]  # (site, else URL host), most documents first
    by_day: list[tuple[date, int]]  # day of coalesce(published, first_seen) in UTC, ascending
    warc_files: list[tuple[str, int]]  # (name, size), by name
    warc_bytes: int
    last_crawl: LastCrawl | None
    second_sightings: int  # documents captured more than once (including revisits)


def outlet_of(site: str | None, url: str) -> str:
    """What names the outlet of a document: its site name, else its URL host, else "local"."""
    return site or url_host(url) or "local"


def _count(session: Session, statement: Any) -> int:
    return int(session.scalar(statement) or 0)


def _grouped(session: Session, column: Any) -> dict[str, int]:
    rows = session.execute(select(column, func.count()).group_by(column).order_by(column))
    return {str(key): int(count) for key, count in rows}


def _by_source_and_day(session: Session) -> tuple[list[tuple[str, int]], list[tuple[date, int]]]:
    """Documents by source (site, else URL host) and by day, in one pass over the table.

    One statement, not one per grouping: on PostgreSQL a documents row holds its search vector
    (migration 0010), and each pass reads the whole table (4.7 GB for the million documents of
    bench/search_speed.py).
    """
    when = func.coalesce(Document.published, Document.first_seen)
    if session.get_bind().dialect.name == "sqlite":
        day: Any = func.substr(when, 1, 10)  # stored as "YYYY-MM-DD hh:mm:ss" in UTC
    else:
        day = func.date(func.timezone("UTC", when))
    # Hosts come from URLs, which SQL cannot parse portably: a site-less row keeps its URL.
    url_without_site = case((Document.site.is_(None), Document.url))
    grouped = (
        select(Document.site, url_without_site, day, func.count())
        .group_by(Document.site, url_without_site, day)
        .execution_options(yield_per=2000)
    )
    sources: Counter[str] = Counter()
    days: Counter[date] = Counter()
    for site, url, on, count in session.execute(grouped):
        sources[outlet_of(site, url or "")] += count
        days[on if isinstance(on, date) else date.fromisoformat(on)] += count
    by_source = sorted(sources.items(), key=lambda item: (-item[1], item[0]))
    return by_source, sorted(days.items())


def _source_captures_per_document(session: Session) -> Any:
    return (
        select(Capture.document_id, func.count().label("n"))
        .where(Capture.document_id.is_not(None))
        .group_by(Capture.document_id)
    )


def _links(session: Session) -> tuple[int, int]:
    """(same-text links, documents seen more than once)."""
    sources = (
        _source_captures_per_document(session)
        .where(Capture.record_type.in_(SOURCE_RECORD_TYPES))
        .subquery()
    )
    links = _count(session, select(func.coalesce(func.sum(sources.c.n - 1), 0)))
    seen = (
        _source_captures_per_document(session)
        .where(Capture.record_type.in_((*SOURCE_RECORD_TYPES, "revisit")))
        .subquery()
    )
    twice = _count(session, select(func.count()).select_from(seen).where(seen.c.n > 1))
    return links, twice


def archive_stats(session: Session) -> ArchiveStats:
    captures = _grouped(session, Capture.record_type)
    failures_by_stage = _grouped(session, Failure.stage)
    warc_files = [
        (name, int(size))
        for name, size in session.execute(
            select(WarcFile.name, WarcFile.size).order_by(WarcFile.name)
        )
    ]
    links, twice = _links(session)
    by_source, by_day = _by_source_and_day(session)
    duplicates = select(func.count()).where(Document.duplicate_of.is_not(None))
    return ArchiveStats(
        documents=_count(session, select(func.count()).select_from(Document)),
        captures=captures,
        revisits=captures.get("revisit", 0),
        same_text_links=links,
        near_duplicates=_count(session, duplicates),
        stories=_count(session, select(func.count()).select_from(Story)),
        failures=sum(failures_by_stage.values()),
        failures_by_stage=failures_by_stage,
        by_source=by_source,
        by_day=by_day,
        warc_files=warc_files,
        warc_bytes=sum(size for _name, size in warc_files),
        last_crawl=last_crawl(session),
        second_sightings=twice,
    )
