"""A parsed query in each engine's own match language: an FTS5 MATCH string or a tsquery.

Both engines hold the words of ``search_words`` (migration 0012), stemmed for each document's
language. A query's words are stemmed for every language the archive holds (``IndexQuery``):
each term becomes the alternatives of its distinct stemmings, and a document matches the term
when it holds one of them. Both renderings say the same thing: FTS5's ``ascii`` tokenizer
leaves the words as they are, and the tsquery is read as a literal (no text search
configuration stems or splits it again).

Every word is quoted ("..." for FTS5, '...' for tsquery) and holds only letters, marks and
digits, so no user input is ever read as an operator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.db.search_query import SearchQuery, Term
from pipeline.db.search_words import query_variants


@dataclass(frozen=True)
class IndexTerm:
    """A query term as the index holds it: its words under each distinct stemming.

    Every variant has the term's number of words; ``prefix``: the last one is a prefix.
    """

    variants: tuple[tuple[str, ...], ...]
    prefix: bool

    def positions(self) -> list[tuple[str, ...]]:
        """For each word of the term, its distinct forms among the variants."""
        return [
            tuple(dict.fromkeys(variant[at] for variant in self.variants))
            for at in range(len(self.variants[0]))
        ]


@dataclass(frozen=True)
class IndexQuery:
    """A SearchQuery in the index's words: at least one term of every group, no excluded one."""

    groups: tuple[tuple[IndexTerm, ...], ...]
    excluded: tuple[IndexTerm, ...] = ()

    def terms(self) -> list[IndexTerm]:
        """Every distinct term, the excluded ones too, in the order of the query."""
        return list(
            dict.fromkeys([*(term for group in self.groups for term in group), *self.excluded])
        )


def index_query(query: SearchQuery, stemmers: Sequence[str | None]) -> IndexQuery:
    """``query`` with its words stemmed by each of ``stemmers`` (None: left as they are)."""

    def as_indexed(term: Term) -> IndexTerm:
        return IndexTerm(query_variants(term.words, term.prefix, stemmers), term.prefix)

    return IndexQuery(
        tuple(tuple(as_indexed(term) for term in group) for group in query.groups),
        tuple(as_indexed(term) for term in query.excluded),
    )


def fts5_match(query: IndexQuery) -> str:
    """``(a OR b) AND (c) NOT (d OR e)``: FTS5 gives NOT a higher precedence than AND."""
    required = " AND ".join(
        "(" + " OR ".join(_fts5_term(term) for term in group) + ")" for group in query.groups
    )
    if not query.excluded:
        return required
    excluded = " OR ".join(_fts5_term(term) for term in query.excluded)
    return f"({required}) NOT ({excluded})"


def fts5_any(terms: list[IndexTerm]) -> str:
    """A MATCH string for documents holding at least one of ``terms``."""
    return " OR ".join(_fts5_term(term) for term in terms)


def fts5_forms(forms: Sequence[str]) -> str:
    """A MATCH string for documents holding one of the words ``forms``."""
    return " OR ".join(f'"{form}"' for form in forms)


def _fts5_term(term: IndexTerm) -> str:
    # A quoted string of several words is a phrase; "..." * makes its last word a prefix.
    star = " *" if term.prefix else ""
    return "(" + " OR ".join(f'"{" ".join(variant)}"{star}' for variant in term.variants) + ")"


def tsquery_text(query: IndexQuery) -> str:
    """A tsquery literal: groups joined by &, terms of a group by |, exclusions as & !(...).

    One string keeps a long query from becoming a deep SQL expression.
    """
    required = " & ".join(
        "(" + " | ".join(_tsquery_term(term) for term in group) + ")" for group in query.groups
    )
    if not query.excluded:
        return required
    excluded = " | ".join(_tsquery_term(term) for term in query.excluded)
    return f"{required} & !({excluded})"


def _tsquery_term(term: IndexTerm) -> str:
    return (
        "(" + " | ".join(_tsquery_variant(variant, term.prefix) for variant in term.variants) + ")"
    )


def _tsquery_variant(words: tuple[str, ...], prefix: bool) -> str:
    quoted = [f"'{word}'" for word in words]
    if prefix:
        quoted[-1] += ":*"
    return "(" + " <-> ".join(quoted) + ")"
