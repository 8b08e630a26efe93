"""Search on PostgreSQL: ``documents.search_vector`` of ``search_words``' words, GIN-indexed."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, cast, func, literal, literal_column, select, text
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnClause

from pipeline.db.models import Document
from pipeline.db.search_filters import SearchFilters
from pipeline.db.search_match import IndexQuery, tsquery_text
from pipeline.db.search_settings import (
    COUNT_FIRST_IDS,
    RANK_CANDIDATES,
    SCORED_TERM_MAX_DOCUMENTS,
)

_VECTOR: ColumnClause[Any] = literal_column("documents.search_vector")
_ROW_ADDRESS: ColumnClause[Any] = literal_column("documents.ctid")


def _tsquery(query: IndexQuery) -> ColumnElement[Any]:
    # A literal: its words are the index's already, for no text search configuration to change.
    return cast(literal(tsquery_text(query)), TSQUERY)


def _matches(query: IndexQuery, filters: SearchFilters) -> Select[Any]:
    return (
        select(literal(1))
        # Named: without filters (--all) no other clause would bring in the table.
        .select_from(Document)
        .where(_VECTOR.op("@@")(_tsquery(query)), *filters.all())
    )


def _estimated_matches(session: Session, query: IndexQuery, filters: SearchFilters) -> float:
    """The planner's estimate of the documents matching (from ANALYZE statistics)."""
    compiled = _matches(query, filters).compile(dialect=session.get_bind().dialect)
    explain = f"EXPLAIN (FORMAT JSON) {compiled}"
    plan = session.connection().exec_driver_sql(explain, compiled.params).scalar_one()
    return float(plan[0]["Plan"]["Plan Rows"])


# PostgreSQL's estimate for a word missing from the column's statistics (DEFAULT_TS_MATCH_SEL of
# ts_selfuncs.c; half the least common listed word's share when that is smaller). Only an
# estimate above it comes from the statistics' count of the words themselves.
_UNLISTED_WORD_SHARE = 0.005
_TABLE_ROWS = text("SELECT reltuples FROM pg_class WHERE oid = 'documents'::regclass")
# Counting tests rows newest first for a query in at least this share of the documents: on the
# 1M-document index of `bench/search_speed.py`, query by query, its words in 28-87 % of the
# documents counted to 5,001 in 38-117 ms that way and 104-166 ms through the bitmap; words in
# 1-7 % in 33-54 ms through the bitmap and 550-1,080 ms (or stopped) that way.
_WALK_COUNT_SHARE = 0.2
# The newest-ids window holds this many times the candidates the estimate promises in it: a
# window too small costs a second search over every id; each extra candidate, a heap page
# (1.5 against 2: two-word p95 39-51 against 49-64 ms at 1M documents, bench/README.md).
_WINDOW_MARGIN = 1.5
# ... and is used only up to this share of the rows, where it holds about this share of the
# matches. The range's bitmap comes from the BRIN index on id (0011): ~16 ns an id (~9.5 ms for
# 600,000 ids at 1M documents), against ~2.5 us for a heap page in the buffers and 10-40 us from
# the OS cache for each match it leaves out. At half the rows (3,000 matches for 1,000
# candidates) it costs ~4 ms more than it saves when every page is in the buffers, and saves
# 15-60 ms when they come from the OS cache: the case that makes searches slow.
_WINDOW_MAX_SHARE = 0.5
# Counting walks ranges of ids of at most this many, so that it stops near COUNT_SECONDS.
_COUNT_MAX_IDS = 40_000


@dataclass(frozen=True)
class _Estimate:
    """The planner's estimate of a query's matches (with its filters), and of the table's rows."""

    matches: float
    rows: float

    @property
    def common(self) -> bool:
        """Too many matches to score: SQLite's rule for its terms, for the whole query.

        Scoring reads (detoasts) each candidate's whole tsvector, and GIN returns matches
        unordered, so finding the newest 1,000 of a common word's matches fetches every match.
        The filters count: a common word on a small site is a short list. A query is common
        only when the statistics say so, never on the planner's default guess: walking newest
        first for a rare word would read the whole table.
        """
        return (
            self.matches >= SCORED_TERM_MAX_DOCUMENTS
            and self.matches > _UNLISTED_WORD_SHARE * self.rows
        )

    def window(self, needed: int) -> int | None:
        """How many of the newest ids should hold ``needed`` matches, if far fewer than all."""
        if self.matches < 1:
            return None
        window = math.ceil(_WINDOW_MARGIN * needed * self.rows / self.matches)
        return window if window <= _WINDOW_MAX_SHARE * self.rows else None


def _estimate(session: Session, query: IndexQuery, filters: SearchFilters) -> _Estimate:
    rows = max(float(session.execute(_TABLE_ROWS).scalar_one()), 0.0)
    return _Estimate(_estimated_matches(session, query, filters), rows)


# Within the transaction only (set_config's is_local). Testing @@ on a row reads its whole
# tsvector, which the planner does not cost: left alone, it walks the primary key testing rows
# even when the GIN bitmap would fetch far fewer, and for a rare word walks the whole table.
# No parallel workers and no JIT either: starting a worker takes ~5 ms, more than the whole
# search of a rare word (since 0010 widened the heap the planner chose one for words of a few
# dozen matches), and compiling a statement ~7 ms, for statements that run in tens of ms.
_PLAN = text(
    "SELECT set_config('enable_seqscan', 'off', true), "
    "set_config('enable_indexscan', :walk, true), "
    "set_config('enable_bitmapscan', :bitmap, true), "
    "set_config('max_parallel_workers_per_gather', '0', true), "
    "set_config('jit', 'off', true)"
)
_PLAN_SETTINGS = (
    "enable_seqscan",
    "enable_indexscan",
    "enable_bitmapscan",
    "max_parallel_workers_per_gather",
    "jit",
)
# Each back to the server's value, in one round trip (no parameters: psycopg sends it whole).
_DEFAULT_PLAN = text("; ".join(f"SET LOCAL {name} TO DEFAULT" for name in _PLAN_SETTINGS))


@contextmanager
def _plan(session: Session, *, walk_newest: bool) -> Iterator[None]:
    """Matches found by walking the primary key newest first, or through the GIN bitmap only.

    Walking stops after the rows it needs, so it suits common words; the bitmap reads every
    match but never a row that does not match, so it suits the rest.
    """
    on_off = {True: "on", False: "off"}
    session.execute(_PLAN, {"walk": on_off[walk_newest], "bitmap": on_off[not walk_newest]})
    # No finally: an error aborts the transaction, which undoes these transaction-local
    # settings, and a statement sent then would only hide the error behind another one.
    yield
    session.execute(_DEFAULT_PLAN)


def _prefixes_only(query: IndexQuery) -> bool:
    """Every term a prefix: as on SQLite, where prefixes are never scored."""
    return all(term.prefix for term in query.terms())


def ranked_ids(
    session: Session,
    query: IndexQuery,
    filters: SearchFilters,
    limit: int,
    candidates: int | None = RANK_CANDIDATES,
) -> list[tuple[int, float]]:
    """The best ``limit`` of the newest ``candidates`` matches (None: all), best first, scored.

    As on SQLite, a query matching SCORED_TERM_MAX_DOCUMENTS documents or more (by the
    planner's estimate) or made of prefixes only is not scored: its newest ``limit`` matches
    come first, score 0. Other queries are scored with ts_rank on their newest ``candidates``
    matches. Common queries walk the primary key newest first; the others take the GIN bitmap,
    first ANDed with the newest ids that should hold the candidates (``_Estimate.window``), so
    that only those rows are fetched, and over every id when the window holds too few.
    """
    if candidates is None:
        with _plan(session, walk_newest=False):
            return _scores(_ranked(session, query, filters, None, limit, None))
    estimate = _estimate(session, query, filters)
    if estimate.common:
        with _plan(session, walk_newest=True):
            return _scores(_newest(session, query, filters, min(limit, candidates), None))
    scored = not _prefixes_only(query)
    needed = candidates if scored else min(limit, candidates)

    def find(since_id: int | None) -> list[tuple[int, float, int]]:
        if scored:
            return _ranked(session, query, filters, candidates, limit, since_id)
        return _newest(session, query, filters, needed, since_id)

    window = estimate.window(needed)
    # Before the bitmap-only plan, under which max() would read the whole primary key.
    newest_id = session.scalar(select(func.max(Document.id))) if window is not None else None
    with _plan(session, walk_newest=False):
        if window is not None and newest_id is not None:
            found = find(newest_id - window)
            if found and found[0][2] >= needed:
                return _scores(found)
        return _scores(find(None))


def _scores(found: list[tuple[int, float, int]]) -> list[tuple[int, float]]:
    return [(document_id, score) for document_id, score, _ in found]


def _matching(
    query: IndexQuery, filters: SearchFilters, since_id: int | None, *columns: Any
) -> Select[Any]:
    window = () if since_id is None else (Document.id > since_id,)
    return (
        select(*columns)
        # Named: a row's address (ctid) is a literal column, which brings in no table.
        .select_from(Document)
        .where(_VECTOR.op("@@")(_tsquery(query)), *filters.all(), *window)
        .order_by(Document.id.desc())
    )


def _newest(
    session: Session,
    query: IndexQuery,
    filters: SearchFilters,
    limit: int,
    since_id: int | None,
) -> list[tuple[int, float, int]]:
    """The newest ``limit`` matches with ids above ``since_id``, score 0, and how many."""
    ids = [
        int(document_id)
        for document_id in session.scalars(
            _matching(query, filters, since_id, Document.id).limit(limit)
        )
    ]
    return [(document_id, 0.0, len(ids)) for document_id in ids]


def _ranked(
    session: Session,
    query: IndexQuery,
    filters: SearchFilters,
    candidates: int | None,
    limit: int,
    since_id: int | None,
) -> list[tuple[int, float, int]]:
    """The best ``limit`` of the newest ``candidates`` matches above ``since_id``, and how many
    candidates there were."""
    # The candidates are chosen by id alone: sorting the matches with their vectors (2-8 kB each,
    # kept in the row since 0010) spilled the sort to disk (30-40 ms for 9,000 matches).
    newest = (
        _matching(query, filters, since_id, _ROW_ADDRESS.label("row_address"))
        .limit(candidates)
        .subquery()
    )
    # ts_rank() reads the whole vector: it runs on the candidates only, fetched again by their
    # address in the table (a TID scan, within the one statement: the same row versions), not
    # by id: 1,000 lookups in the primary key read ~750 of its pages when it is not in the
    # buffers, ~20 ms at a million documents. OFFSET 0 keeps PostgreSQL from merging this query
    # into the outer one, where ts_rank would run above the window aggregate, which would then
    # store every candidate's vector.
    scored = (
        select(Document.id.label("id"), func.ts_rank(_VECTOR, _tsquery(query)).label("score"))
        .join(newest, newest.c.row_address == _ROW_ADDRESS)
        .offset(0)
        .subquery()
    )
    statement = (
        select(scored.c.id, scored.c.score, func.count().over().label("candidates"))
        # Ties newest first, as on SQLite.
        .order_by(scored.c.score.desc(), scored.c.id.desc())
        .limit(limit)
    )
    return [
        (int(row.id), float(row.score), int(row.candidates)) for row in session.execute(statement)
    ]


def count(
    session: Session,
    query: IndexQuery,
    filters: SearchFilters,
    cap: int,
    seconds: float | None = None,
) -> tuple[int, bool]:
    """How many documents match, counting no further than ``cap``, and whether time ran out.

    Through the GIN bitmap in one statement, unless the query is common and has a phrase (GIN
    does not know positions: the bitmap would test nearly every row) or matches at least
    _WALK_COUNT_SHARE of the documents (the bitmap of nearly every row is lossy). Those are
    counted by testing rows newest first, in ranges of ids that double from COUNT_FIRST_IDS up
    to _COUNT_MAX_IDS, until ``cap``, the oldest id, or ``seconds`` (None: no limit).
    """
    estimate = _estimate(session, query, filters)
    has_phrase = any(len(term.variants[0]) > 1 for term in query.terms())
    dense = estimate.matches >= _WALK_COUNT_SHARE * estimate.rows
    if not (estimate.common and (has_phrase or dense)):
        with _plan(session, walk_newest=False):
            return _count_between(session, query, filters, cap, None, None), False
    started = time.monotonic()
    bounds = session.execute(select(func.min(Document.id), func.max(Document.id))).one()
    if bounds[0] is None:
        return 0, False
    oldest, below = int(bounds[0]), int(bounds[1]) + 1
    counted, size = 0, COUNT_FIRST_IDS
    with _plan(session, walk_newest=True):
        while counted < cap and below > oldest:
            lowest = max(oldest, below - size)
            counted += _count_between(session, query, filters, cap - counted, lowest, below)
            below, size = lowest, min(size * 2, _COUNT_MAX_IDS)
            out_of_time = seconds is not None and time.monotonic() - started > seconds
            if out_of_time and counted < cap and below > oldest:
                return counted, True
    return counted, False


def _count_between(
    session: Session,
    query: IndexQuery,
    filters: SearchFilters,
    cap: int,
    lowest: int | None,
    below: int | None,
) -> int:
    """Matches with ``lowest`` <= id < ``below`` (None: unbounded), no more than ``cap``."""
    statement = _matches(query, filters)
    if lowest is not None:
        statement = statement.where(Document.id >= lowest)
    if below is not None:
        statement = statement.where(Document.id < below)
    matches = statement.limit(cap).subquery()
    return int(session.scalar(select(func.count()).select_from(matches)) or 0)
