"""Full-text search over documents: one interface, SQLite FTS5 or PostgreSQL tsvector.

The user's query is plain words and optional "quoted phrases". It never reaches the engine's
query parser as typed: each term is reduced to its words (letters, marks, digits) and re-quoted,
so operators (AND, NEAR(, *, quotes, tsquery & | !) are searched as plain words and can never be
a syntax error. Terms are ANDed; a phrase matches its words in order. Neither engine stems, so
both match the same documents.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, Select, and_, column, func, literal_column, or_, select, table
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnClause

from pipeline.db.models import Document

SNIPPET_OPEN = "["
SNIPPET_CLOSE = "]"
SNIPPET_ELLIPSIS = "…"
SNIPPET_TOKENS = 24
# Title matches weigh more than body matches.
TITLE_WEIGHT = 10.0
# Must match PG_FTS_TEXT_CHARS of migration 0001: headlines come from the indexed part.
PG_TEXT_CHARS = 300_000

_FTS_TABLE = table("documents_fts", column("rowid"))
_SIMPLE: ColumnClause[Any] = literal_column("'simple'::regconfig")
_TERM = re.compile(r'"([^"]*)"|([^\s"]+)')


class QueryError(ValueError):
    """The search request cannot be run; ``str(error)`` is the message for users."""


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


def parse_query(query: str) -> list[str]:
    """The terms of ``query``: its "quoted phrases" and its other whitespace-separated chunks.

    Each term is reduced to its words (letters, marks, digits) separated by single spaces, so
    ``foo-bar`` is the phrase "foo bar", as both engines index it in documents. A term without
    words has nothing to match and is dropped; an unbalanced quote only separates.
    """
    terms: list[str] = []
    for phrase, chunk in _TERM.findall(query):
        term = " ".join(words(phrase or chunk))
        if term and term not in terms:
            terms.append(term)
    if not terms:
        raise QueryError("empty search query")
    return terms


def words(text: str) -> list[str]:
    # Letters, marks (Indic vowel signs, combining accents) and digits make words; everything
    # else, punctuation, symbols, controls and NUL included, separates them.
    cleaned = "".join(c if unicodedata.category(c)[0] in "LMN" else " " for c in text.lower())
    return cleaned.split()


def fts5_query(terms: list[str]) -> str:
    # Terms hold only words and spaces: quoted, they are plain FTS5 strings, never operators.
    return " AND ".join(f'"{term}"' for term in terms)


def tsquery_text(terms: list[str]) -> str:
    """to_tsquery() input: terms ANDed, phrase words joined by <->, every word single-quoted.

    Words hold only letters, marks and digits, none of which is tsquery syntax, and one string
    keeps a long query from becoming a deep SQL expression.
    """
    return " & ".join(
        "(" + " <-> ".join(f"'{word}'" for word in term.split()) + ")" for term in terms
    )


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
    """Documents matching every term of ``query``, best first.

    ``site`` matches documents.site (case-insensitive) or the URL host (with or without
    "www."); ``since`` and ``until`` bound coalesce(published, first_seen), both inclusive.
    """
    if not isinstance(query, str):
        raise QueryError(f"search query must be text, not {type(query).__name__}")
    terms = parse_query(query)
    if limit < 1:
        raise QueryError(f"limit must be at least 1, got {limit}")
    if since is not None and until is not None and since > until:
        raise QueryError(f"since ({since.isoformat()}) is after until ({until.isoformat()})")
    filters = _filters(site, since, until, collapse_duplicates)
    if session.get_bind().dialect.name == "sqlite":
        return _search_sqlite(session, terms, filters, limit)
    return _search_postgresql(session, terms, filters, limit)


def _filters(
    site: str | None, since: datetime | None, until: datetime | None, collapse: bool
) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = []
    when = func.coalesce(Document.published, Document.first_seen)
    if since is not None:
        filters.append(when >= since)
    if until is not None:
        filters.append(when <= until)
    if collapse:
        filters.append(Document.duplicate_of.is_(None))
    if site is not None:
        filters.append(site_filter(site))
    return filters


def site_filter(site: str) -> ColumnElement[bool]:
    """documents.site equals ``site``, or the URL's host is ``site`` or www.``site``."""
    wanted = site.strip().lower()
    if not wanted:
        raise QueryError("empty site filter")
    host = (urlsplit(wanted).hostname or "") if "://" in wanted else wanted.rstrip("/")
    host = host.removeprefix("www.")
    url = func.lower(Document.url)
    patterns = [
        f"%://{_escape_like(prefix + host)}{end}"
        for prefix in ("", "www.")
        for end in ("", "/%", ":%", "?%", "#%")
    ]
    by_host = or_(*(url.like(pattern, escape="\\") for pattern in patterns))
    return or_(func.lower(Document.site) == wanted, by_host)


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _hits(session: Session, statement: Select[Document, str, float]) -> list[SearchHit]:
    return [
        SearchHit(
            document_id=document.id,
            url=document.url,
            title=document.title,
            site=document.site,
            published=document.published,
            first_seen=document.first_seen,
            snippet=snippet or "",
            score=float(score),
            duplicate_of=document.duplicate_of,
            story_id=document.story_id,
        )
        for document, snippet, score in session.execute(statement)
    ]


def _search_sqlite(
    session: Session, terms: list[str], filters: list[ColumnElement[bool]], limit: int
) -> list[SearchHit]:
    fts: ColumnClause[Any] = literal_column("documents_fts")  # FTS5 functions take the table itself
    # bm25() is lower for better matches; negate it so that higher scores rank first.
    score = -func.bm25(fts, TITLE_WEIGHT, 1.0)
    snippet = func.snippet(fts, 1, SNIPPET_OPEN, SNIPPET_CLOSE, SNIPPET_ELLIPSIS, SNIPPET_TOKENS)
    statement = (
        select(Document, snippet, score.label("score"))
        .select_from(_FTS_TABLE)
        .join(Document, Document.id == _FTS_TABLE.c.rowid)
        .where(fts.op("MATCH")(fts5_query(terms)), *filters)
        .order_by(literal_column("score").desc(), Document.id)
        .limit(limit)
    )
    return _hits(session, statement)


def _search_postgresql(
    session: Session, terms: list[str], filters: list[ColumnElement[bool]], limit: int
) -> list[SearchHit]:
    query = func.to_tsquery(_SIMPLE, tsquery_text(terms))
    vector: ColumnClause[Any] = literal_column("documents.search_vector")
    ranked = (
        select(Document.id, func.ts_rank(vector, query).label("score"))
        .where(and_(vector.op("@@")(query), *filters))
        .order_by(literal_column("score").desc(), Document.id)
        .limit(limit)
        .subquery()
    )
    # Headlines re-parse the text, so only the ranked page gets one.
    options = (
        f"StartSel={SNIPPET_OPEN}, StopSel={SNIPPET_CLOSE}, MaxWords=35, MinWords=15, "
        f'MaxFragments=2, FragmentDelimiter=" {SNIPPET_ELLIPSIS} "'
    )
    headline = func.ts_headline(
        _SIMPLE,
        func.left(Document.text, PG_TEXT_CHARS),
        query,
        options,
    )
    statement = (
        select(Document, headline, ranked.c.score)
        .join(ranked, ranked.c.id == Document.id)
        .order_by(ranked.c.score.desc(), Document.id)
    )
    return _hits(session, statement)
