"""Search on SQLite: the contentless FTS5 table ``documents_fts`` of ``search_words``' words."""

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
from sqlalchemy.sql.selectable import CTE, ScalarSelect

from pipeline.db.models import Document
from pipeline.db.search_filters import SearchFilters
from pipeline.db.search_match import IndexQuery, IndexTerm, fts5_any, fts5_forms, fts5_match
from pipeline.db.search_settings import (
    RANK_CANDIDATES,
    SCORED_TERM_MAX_DOCUMENTS,
    TITLE_WEIGHT,
)

_FTS_TABLE = table("documents_fts", column("rowid"))
_FTS: ColumnClause[Any] = literal_column("documents_fts")  # FTS5 functions take the table itself
# A second cursor on the index, for scoring the candidates the first one found.
_SCORED_TABLE = table("documents_fts", column("rowid")).alias("scored")
_SCORED: ColumnClause[Any] = literal_column("scored.documents_fts")


# A canonical has duplicate_of NULL. SQLite stores that column after the text, so reading it
# from the row walks the text's overflow pages; ix_documents_duplicate_of holds (duplicate_of,
# id) and answers without the row. The planner prefers the primary key, hence INDEXED BY.
_CANONICAL = text(
    "EXISTS (SELECT 1 FROM documents INDEXED BY ix_documents_duplicate_of "
    "WHERE documents.duplicate_of IS NULL AND documents.id = documents_fts.rowid)"
)


def _matching(query: IndexQuery, filters: SearchFilters, *columns: Any) -> Select[Any]:
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


def _match(query: IndexQuery) -> ColumnElement[bool]:
    return _FTS.op("MATCH")(fts5_match(query))


def ranked_ids(
    session: Session,
    query: IndexQuery,
    filters: SearchFilters,
    limit: int,
    candidates: int | None = RANK_CANDIDATES,
) -> list[tuple[int, float]]:
    """The best ``limit`` of the newest ``candidates`` matches (None: all), best first, scored.

    FTS5 yields matches in rowid order, so the candidate scan stops after RANK_CANDIDATES rows
    however common the words are. The candidates are then scored by bm25() on the query's
    rare terms only (``_rare_terms``): bm25() counts the documents holding each term it
    scores, and for a common word that count is a scan of most of the index. Ties (unscored
    candidates among them) go newest first.
    """
    if candidates is None:
        return _rank_every_match(session, query, filters, limit)
    newest = (
        _matching(query, filters, _FTS_TABLE.c.rowid.label("id"))
        .order_by(_FTS_TABLE.c.rowid.desc())
        .limit(candidates)
    )
    rare = _rare_terms(session, query)
    terms = [term for term in rare if term not in query.excluded]
    if not terms:
        unscored = newest.add_columns(literal(0.0).label("score")).limit(min(limit, candidates))
        return [(int(row.id), float(row.score)) for row in session.execute(unscored)]
    if len(rare) == len(query.terms()):
        # Every term is rare, the excluded ones too: bm25() of the whole query costs little
        # more than reading the candidates, in the same scan.
        statement = _ranked_whole_query(newest, limit)
    else:
        statement = _ranked(newest.cte("newest").prefix_with("MATERIALIZED"), terms, limit)
    return [(int(row.id), float(row.score)) for row in session.execute(statement)]


def _ranked_whole_query(newest: Select[Any], limit: int) -> Select[Any]:
    # bm25() is lower for better matches; negate it so that higher scores rank first.
    scored = newest.add_columns((-func.bm25(_FTS, TITLE_WEIGHT, 1.0)).label("score")).subquery()
    return (
        select(scored.c.id, scored.c.score)
        .order_by(scored.c.score.desc(), scored.c.id.desc())
        .limit(limit)
    )


def _ranked(newest: CTE, terms: list[IndexTerm], limit: int) -> Select[Any]:
    """The best ``limit`` of the ``newest`` candidates by bm25 of ``terms``, unscored last.

    FTS5 reads the terms' matches between the lowest and highest candidate only. Both CTEs are
    MATERIALIZED so that SQLite runs each FTS5 query once: joined row by row, FTS5 would restart
    for each candidate, and bm25() count its terms' documents again on every restart.
    """
    # bm25() is lower for better matches; negate it so that higher scores rank first.
    score = -func.bm25(_SCORED, TITLE_WEIGHT, 1.0)
    scores = (
        select(_SCORED_TABLE.c.rowid.label("id"), score.label("score"))
        .where(
            _SCORED.op("MATCH")(fts5_any(terms)),
            _SCORED_TABLE.c.rowid.between(
                select(func.min(newest.c.id)).scalar_subquery(),
                select(func.max(newest.c.id)).scalar_subquery(),
            ),
            # As a plain filter (unary +), not a rowid constraint FTS5 would restart for.
            literal_column("+scored.rowid").in_(select(newest.c.id)),
        )
        .cte("scores")
        .prefix_with("MATERIALIZED")
    )
    ranking = func.coalesce(scores.c.score, 0.0).label("score")
    return (
        select(newest.c.id, ranking)
        .select_from(newest.outerjoin(scores, scores.c.id == newest.c.id))
        .order_by(ranking.desc(), newest.c.id.desc())
        .limit(limit)
    )


def _rare_terms(session: Session, query: IndexQuery) -> list[IndexTerm]:
    """The terms worth bm25's document count: not a prefix, and one of its words is rare.

    A word is counted with all its forms (its stems in the archive's languages). A phrase
    counts as rare when one of its words is: FTS5 finds a phrase by seeking its other words'
    doclists to the rare word's documents, so counting the phrase stays short.
    """
    terms = [term for term in query.terms() if not term.prefix]
    words = list(dict.fromkeys(forms for term in terms for forms in term.positions()))
    if not words:
        return []
    # One statement for every word: each count stops at SCORED_TERM_MAX_DOCUMENTS rows.
    counts = session.execute(select(*(_documents_with(forms) for forms in words))).one()
    rare = {
        forms
        for forms, documents in zip(words, counts, strict=True)
        if documents < SCORED_TERM_MAX_DOCUMENTS
    }
    return [term for term in terms if rare.intersection(term.positions())]


def _documents_with(forms: tuple[str, ...]) -> ScalarSelect[int]:
    """Documents holding one of ``forms``, counted no further than SCORED_TERM_MAX_DOCUMENTS."""
    holding = (
        select(literal(1))
        .select_from(_FTS_TABLE)
        .where(_FTS.op("MATCH")(fts5_forms(forms)))
        .limit(SCORED_TERM_MAX_DOCUMENTS)
        .subquery()
    )
    return select(func.count()).select_from(holding).scalar_subquery()


def _rank_every_match(
    session: Session, query: IndexQuery, filters: SearchFilters, limit: int
) -> list[tuple[int, float]]:
    """bm25 of the whole query for every match: what ranking cost before candidates."""
    score = (-func.bm25(_FTS, TITLE_WEIGHT, 1.0)).label("score")
    matches = _matching(query, filters, _FTS_TABLE.c.rowid.label("id"), score).subquery()
    statement = (
        select(matches.c.id, matches.c.score)
        .order_by(matches.c.score.desc(), matches.c.id.desc())
        .limit(limit)
    )
    return [(int(row.id), float(row.score)) for row in session.execute(statement)]


def count(
    session: Session,
    query: IndexQuery,
    filters: SearchFilters,
    cap: int,
    seconds: float | None = None,
) -> tuple[int, bool]:
    """How many documents match, counting no further than ``cap``; never stopped early.

    FTS5 counts from its doclists without reading rows, so ``seconds`` is not needed here.
    """
    matches = _matching(query, filters, literal(1)).limit(cap).subquery()
    return int(session.scalar(select(func.count()).select_from(matches)) or 0), False
