"""Full-text search over documents: one interface, SQLite FTS5 or PostgreSQL tsvector.

The syntax is defined in ``search_query`` (words, OR, -word, "phrases", prefix*), the words
the index holds in ``search_words`` (stemmed for each document's language), the query's words
stemmed for the archive's languages and translated into each engine's match language in
``search_match``, the engine-specific statements in ``search_sqlite`` and
``search_postgresql``, snippets in ``search_snippet``. Both engines index the same words
(migration 0012), so a query matches the same documents on either; only the scores differ
(bm25 on SQLite, ts_rank on PostgreSQL).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

import pipeline.db.search_postgresql as search_postgresql
import pipeline.db.search_sqlite as search_sqlite
from pipeline.db import search_snippet
from pipeline.db.models import Document
from pipeline.db.search_filters import SearchFilters, search_filters, site_filter
from pipeline.db.search_languages import archive_stemmers
from pipeline.db.search_match import IndexQuery, index_query
from pipeline.db.search_query import QueryError, SearchQuery, parse_query
from pipeline.db.search_settings import COUNT_LIMIT, COUNT_SECONDS

__all__ = [
    "MatchCount",
    "QueryError",
    "SearchHit",
    "count_matches",
    "search_documents",
    "site_filter",
]


class _Engine(Protocol):
    """What ``search_sqlite`` and ``search_postgresql`` each provide."""

    def ranked_ids(
        self,
        session: Session,
        query: IndexQuery,
        filters: SearchFilters,
        limit: int,
        candidates: int | None = ...,
    ) -> list[tuple[int, float]]: ...

    def count(
        self,
        session: Session,
        query: IndexQuery,
        filters: SearchFilters,
        cap: int,
        seconds: float | None = ...,
    ) -> tuple[int, bool]: ...


@dataclass(frozen=True)
class SearchHit:
    document_id: int
    url: str
    title: str | None
    site: str | None
    published: datetime | None
    first_seen: datetime
    snippet: str
    score: float
    duplicate_of: int | None
    story_id: int | None


@dataclass(frozen=True)
class MatchCount:
    """``documents`` match; when not ``exact``, counting stopped there and more match.

    ``stopped``: counting ran out of time (PostgreSQL, common words); at least ``documents``
    match, and whether more do is unknown.
    """

    documents: int
    exact: bool
    stopped: bool = False


def search_documents(
    session: Session,
    query: str,
    *,
    site: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 20,
    collapse_duplicates: bool = True,
) -> list[SearchHit]:
    """Documents matching ``query``, best first (see ``search_settings.RANK_CANDIDATES``).

    ``site`` matches documents.site (case-insensitive) or the URL host (with or without
    "www."); ``since`` and ``until`` bound coalesce(published, first_seen), both inclusive.
    """
    if limit < 1:
        raise QueryError(f"limit must be at least 1, got {limit}")
    parsed, filters = _prepare(query, site, since, until, collapse_duplicates)
    ranked = _engine(session).ranked_ids(session, _indexed(session, parsed), filters, limit)
    if not ranked:
        return []
    ids = [document_id for document_id, _ in ranked]
    # Columns, not ORM objects: the page of results is read, never changed.
    rows = {
        row.id: row for row in session.execute(select(*_HIT_COLUMNS).where(Document.id.in_(ids)))
    }
    texts = {i: (row.text, row.language) for i, row in rows.items()}
    snippets = search_snippet.snippets(texts, parsed)
    return [_hit(rows[i], snippets.get(i, ""), score) for i, score in ranked]


def count_matches(
    session: Session,
    query: str,
    *,
    site: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    collapse_duplicates: bool = True,
    cap: int = COUNT_LIMIT,
    seconds: float | None = COUNT_SECONDS,
) -> MatchCount:
    """How many documents ``search_documents`` with the same arguments could return.

    ``seconds``: where counting tests rows one by one (PostgreSQL, common words), it stops
    after about this long (None: never).
    """
    if cap < 1:
        raise QueryError(f"count cap must be at least 1, got {cap}")
    parsed, filters = _prepare(query, site, since, until, collapse_duplicates)
    indexed = _indexed(session, parsed)
    counted, stopped = _engine(session).count(session, indexed, filters, cap + 1, seconds)
    if stopped and counted <= cap:
        return MatchCount(counted, exact=False, stopped=True)
    return MatchCount(min(counted, cap), exact=counted <= cap)


def _prepare(
    query: str, site: str | None, since: datetime | None, until: datetime | None, collapse: bool
) -> tuple[SearchQuery, SearchFilters]:
    if not isinstance(query, str):
        raise QueryError(f"search query must be text, not {type(query).__name__}")
    return parse_query(query), search_filters(site, since, until, collapse)


def _indexed(session: Session, query: SearchQuery) -> IndexQuery:
    """``query`` in the index's words: stemmed for every language the archive holds."""
    return index_query(query, archive_stemmers(session))


def _engine(session: Session) -> _Engine:
    if session.get_bind().dialect.name == "sqlite":
        return search_sqlite
    return search_postgresql


_HIT_COLUMNS = (
    Document.id,
    Document.url,
    Document.title,
    Document.site,
    Document.published,
    Document.first_seen,
    Document.duplicate_of,
    Document.story_id,
    Document.text,
    Document.language,
)


def _hit(row: Row[*tuple[Any, ...]], snippet: str, score: float) -> SearchHit:
    return SearchHit(
        document_id=row.id,
        url=row.url,
        title=row.title,
        site=row.site,
        published=row.published,
        first_seen=row.first_seen,
        snippet=snippet,
        score=score,
        duplicate_of=row.duplicate_of,
        story_id=row.story_id,
    )
