"""Search on PostgreSQL: the generated ``documents.search_vector`` and its GIN index (0004)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import ColumnElement, func, literal, literal_column, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnClause

from pipeline.db.models import Document
from pipeline.db.search_filters import SearchFilters
from pipeline.db.search_match import PG_SEARCH_CONFIG, tsquery_text
from pipeline.db.search_query import SearchQuery
from pipeline.db.search_settings import (
    PG_TEXT_CHARS,
    RANK_CANDIDATES,
    SNIPPET_CLOSE,
    SNIPPET_ELLIPSIS,
    SNIPPET_OPEN,
)

_CONFIG: ColumnClause[Any] = literal_column(f"'{PG_SEARCH_CONFIG}'::regconfig")
_VECTOR: ColumnClause[Any] = literal_column("documents.search_vector")
_HEADLINE_OPTIONS = (
    f"StartSel={SNIPPET_OPEN}, StopSel={SNIPPET_CLOSE}, MaxWords=35, MinWords=15, "
    f'MaxFragments=2, FragmentDelimiter=" {SNIPPET_ELLIPSIS} "'
)


# Up to this many estimated matches, the GIN bitmap beats walking documents newest first.
# Testing @@ on a row reads (detoasts) its whole tsvector, which the planner does not cost: it
# walks the primary key, testing rows, even when the bitmap would fetch far fewer rows.
GIN_FIRST_MATCHES = 50 * RANK_CANDIDATES


def _tsquery(query: SearchQuery) -> ColumnElement[Any]:
    return func.to_tsquery(_CONFIG, tsquery_text(query))


_ESTIMATE = text(
    "EXPLAIN (FORMAT JSON) SELECT 1 FROM documents "
    "WHERE search_vector @@ to_tsquery(CAST(:config AS regconfig), :query)"
)


def _estimated_matches(session: Session, query: SearchQuery) -> float:
    """The planner's estimate of the documents matching ``query`` (from ANALYZE statistics)."""
    parameters = {"config": PG_SEARCH_CONFIG, "query": tsquery_text(query)}
    plan = session.execute(_ESTIMATE, parameters).scalar_one()
    return float(plan[0]["Plan"]["Plan Rows"])


# Within the transaction only (set_config's is_local): no row tests, no ordered index walks.
_BITMAP_ONLY = text(
    "SELECT set_config('enable_seqscan', :setting, true), "
    "set_config('enable_indexscan', :setting, true)"
)


@contextmanager
def _plan_for(session: Session, query: SearchQuery) -> Iterator[None]:
    """Plans that test rows only when the query's words are common enough to stop early."""
    if _estimated_matches(session, query) > GIN_FIRST_MATCHES:
        yield
        return
    session.execute(_BITMAP_ONLY, {"setting": "off"})
    # No finally: an error aborts the transaction, which undoes these transaction-local
    # settings, and a statement sent then would only hide the error behind another one.
    yield
    session.execute(_BITMAP_ONLY, {"setting": "on"})


def ranked_ids(
    session: Session,
    query: SearchQuery,
    filters: SearchFilters,
    limit: int,
    candidates: int | None = RANK_CANDIDATES,
) -> list[tuple[int, float]]:
    """The best ``limit`` of the newest ``candidates`` matches (None: all), best first, scored.

    The candidates carry their vector, not its rank: ts_rank() reads the whole vector, so it
    runs on the RANK_CANDIDATES rows only, never on every match of a common word.
    """
    tsquery = _tsquery(query)
    newest = (
        select(Document.id.label("id"), _VECTOR.label("vector"))
        .where(_VECTOR.op("@@")(tsquery), *filters.all())
        .order_by(Document.id.desc())
        .limit(candidates)
        .subquery()
    )
    score = func.ts_rank(newest.c.vector, tsquery).label("score")
    statement = (
        select(newest.c.id, score)
        # Ties newest first, as on SQLite.
        .order_by(literal_column("score").desc(), newest.c.id.desc())
        .limit(limit)
    )
    with _plan_for(session, query):
        return [(int(row.id), float(row.score)) for row in session.execute(statement)]


def snippets(session: Session, query: SearchQuery, ids: list[int]) -> dict[int, str]:
    # Headlines re-parse the text, so only the page of results gets one.
    headline = func.ts_headline(
        _CONFIG, func.left(Document.text, PG_TEXT_CHARS), _tsquery(query), _HEADLINE_OPTIONS
    )
    statement = select(Document.id, headline).where(Document.id.in_(ids))
    return {int(document_id): text or "" for document_id, text in session.execute(statement)}


def count(session: Session, query: SearchQuery, filters: SearchFilters, cap: int) -> int:
    """How many documents match, counting no further than ``cap``."""
    matches = (
        select(literal(1))
        # Named: without filters (--all) no other clause would bring in the table.
        .select_from(Document)
        .where(_VECTOR.op("@@")(_tsquery(query)), *filters.all())
        .limit(cap)
        .subquery()
    )
    with _plan_for(session, query):
        return int(session.scalar(select(func.count()).select_from(matches)) or 0)
