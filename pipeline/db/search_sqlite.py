"""Search on SQLite: the FTS5 external-content table ``documents_fts`` (migration 0004)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    column,
    func,
    literal,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnClause

from pipeline.db.models import Document
from pipeline.db.search_filters import SearchFilters
from pipeline.db.search_match import fts5_match
from pipeline.db.search_query import SearchQuery
from pipeline.db.search_settings import (
    RANK_CANDIDATES,
    SNIPPET_CLOSE,
    SNIPPET_ELLIPSIS,
    SNIPPET_OPEN,
    SNIPPET_TOKENS,
    TITLE_WEIGHT,
)

_FTS_TABLE = table("documents_fts", column("rowid"))
_FTS: ColumnClause[Any] = literal_column("documents_fts")  # FTS5 functions take the table itself


# A canonical has duplicate_of NULL. SQLite stores that column after the text, so reading it
# from the row walks the text's overflow pages; ix_documents_duplicate_of holds (duplicate_of,
# id) and answers without the row. The planner prefers the primary key, hence INDEXED BY.
_CANONICAL = text(
    "EXISTS (SELECT 1 FROM documents INDEXED BY ix_documents_duplicate_of "
    "WHERE documents.duplicate_of IS NULL AND documents.id = documents_fts.rowid)"
)


def _matching(query: SearchQuery, filters: SearchFilters, *columns: Any) -> Select[Any]:
    """SELECT ``columns`` of the matches of ``query`` that pass ``filters``.

    The documents table is joined only for filters on its row.
    """
    statement = select(*columns).select_from(_FTS_TABLE)
    if filters.row:
        statement = statement.join(Document, Document.id == _FTS_TABLE.c.rowid)
    statement = statement.where(_match(query), *filters.row)
    if filters.collapse:
        statement = statement.where(_CANONICAL)
    return statement


def _match(query: SearchQuery) -> ColumnElement[bool]:
    return _FTS.op("MATCH")(fts5_match(query))


def ranked_ids(
    session: Session,
    query: SearchQuery,
    filters: SearchFilters,
    limit: int,
    candidates: int | None = RANK_CANDIDATES,
) -> list[tuple[int, float]]:
    """The best ``limit`` of the newest ``candidates`` matches (None: all), best first, scored.

    FTS5 yields matches in rowid order, so the candidate scan stops after RANK_CANDIDATES rows
    however common the words are; bm25() is computed for those rows only.
    """
    # bm25() is lower for better matches; negate it so that higher scores rank first.
    score = (-func.bm25(_FTS, TITLE_WEIGHT, 1.0)).label("score")
    newest = (
        _matching(query, filters, _FTS_TABLE.c.rowid.label("id"), score)
        .order_by(_FTS_TABLE.c.rowid.desc())
        .limit(candidates)
        .subquery()
    )
    statement = (
        select(newest.c.id, newest.c.score)
        .order_by(newest.c.score.desc(), newest.c.id)
        .limit(limit)
    )
    return [(int(row.id), float(row.score)) for row in session.execute(statement)]


def snippets(session: Session, query: SearchQuery, ids: list[int]) -> dict[int, str]:
    snippet = func.snippet(_FTS, 1, SNIPPET_OPEN, SNIPPET_CLOSE, SNIPPET_ELLIPSIS, SNIPPET_TOKENS)
    statement = select(_FTS_TABLE.c.rowid, snippet).where(
        _match(query), _FTS_TABLE.c.rowid.in_(ids)
    )
    return {int(rowid): text or "" for rowid, text in session.execute(statement)}


def count(session: Session, query: SearchQuery, filters: SearchFilters, cap: int) -> int:
    """How many documents match, counting no further than ``cap``."""
    matches = _matching(query, filters, literal(1)).limit(cap).subquery()
    return int(session.scalar(select(func.count()).select_from(matches)) or 0)
