"""Archive statistics: one summary of what the index holds."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
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


def url_host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").removeprefix("www.")
    except ValueError:
        return ""


def outlet_of(site: str | None, url: str) -> str:
    """What names the outlet of a document: its site name, else its URL host, else "local"."""
    return site or url_host(url) or "local"


def _count(session: Session, statement: Any) -> int:
    return int(session.scalar(statement) or 0)


def _grouped(session: Session, column: Any) -> dict[str, int]:
    rows = session.execute(select(column, func.count()).group_by(column).order_by(column))
    return {str(key): int(count) for key, count in rows}


def _by_source(session: Session) -> list[tuple[str, int]]:
    counts: Counter[str] = Counter()
    by_site = select(Document.site, func.count()).where(Document.site.is_not(None))
    for site, count in session.execute(by_site.group_by(Document.site)):
        counts[outlet_of(site, "")] += count
    # Hosts come from URLs, which SQL cannot parse portably; stream only the site-less rows.
    no_site = select(Document.url).where(Document.site.is_(None)).execution_options(yield_per=2000)
    for url in session.scalars(no_site):
        counts[outlet_of(None, url)] += 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _by_day(session: Session) -> list[tuple[date, int]]:
    when = func.coalesce(Document.published, Document.first_seen)
    if session.get_bind().dialect.name == "sqlite":
        day: Any = func.substr(when, 1, 10)  # stored as "YYYY-MM-DD hh:mm:ss" in UTC
    else:
        day = func.date(func.timezone("UTC", when))
    rows = session.execute(select(day, func.count()).group_by(day).order_by(day))
    return [(d if isinstance(d, date) else date.fromisoformat(d), int(n)) for d, n in rows]


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
        by_source=_by_source(session),
        by_day=_by_day(session),
        warc_files=warc_files,
        warc_bytes=sum(size for _name, size in warc_files),
        last_crawl=last_crawl(session),
        second_sightings=twice,
    )
