"""The search syntax: what a user's query means, independent of the database engine.

    missile launch          both words (every term must match; words are stemmed)
    putin OR shoigu         either word; OR binds tighter than the implicit AND:
                            ``kim putin OR shoigu`` is kim AND (putin OR shoigu)
    -moscow, NOT moscow     no document with this word (or -"a phrase")
    "foreign minister"      the words in this order, next to each other
    negotiat*               words starting with these letters (at least MIN_PREFIX of them)

Anything else is text: each chunk is reduced to its words (letters, marks, digits), so
punctuation, quotes without a partner and other engines' operators (NEAR, ``&``, ``:*``, ``^``)
are never syntax. ``foo-bar`` and ``U.S.`` are phrases of their words, as documents are
indexed. ``OR``, ``AND`` and ``NOT`` are operators only in capitals and between terms;
elsewhere they are words. Case and Latin accents never matter ("Zurich" finds "Zürich").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MIN_PREFIX = 3
OPERATORS = frozenset({"OR", "AND", "NOT"})
_CHUNK = re.compile(r'(-*)"([^"]*)"|([^\s"]+)')


class QueryError(ValueError):
    """The search request cannot be run; ``str(error)`` is the message for users."""


@dataclass(frozen=True)
class Term:
    """One word, or a phrase of several; ``prefix``: the last word is a prefix."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class SearchQuery:
    """Documents matching at least one term of every group and none of the excluded terms."""

    groups: tuple[tuple[Term, ...], ...]
    excluded: tuple[Term, ...] = ()

    def terms(self) -> list[Term]:
        """Every distinct term, the excluded ones too, in the order of the query."""
        return list(
            dict.fromkeys([*(term for group in self.groups for term in group), *self.excluded])
        )


@dataclass(frozen=True)
class _Token:
    operator: str | None
    term: Term | None
    negated: bool = False


def words(text: str) -> list[str]:
    # Letters, marks (Indic vowel signs, combining accents) and digits make words; everything
    # else, punctuation, symbols, controls and NUL included, separates them.
    cleaned = "".join(c if unicodedata.category(c)[0] in "LMN" else " " for c in text.lower())
    return cleaned.split()


def parse_query(query: str) -> SearchQuery:
    """The meaning of ``query``; QueryError when nothing in it can be searched for."""
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    tokens = _tokens(query)
    joining = False  # the previous token was an OR between two terms
    negate_next = False  # the previous token was a NOT before a term
    previous_excluded = False
    for index, token in enumerate(tokens):
        if token.operator is not None:
            after = tokens[index + 1] if index + 1 < len(tokens) else None
            between_terms = index > 0 and tokens[index - 1].term is not None and _is_term(after)
            if token.operator == "NOT" and _is_term(after):
                negate_next = True
                continue
            if token.operator == "OR" and between_terms:
                if previous_excluded or (after is not None and after.negated):
                    raise QueryError("an excluded term (-word, NOT word) cannot be part of OR")
                joining = True
                continue
            if token.operator == "AND" and between_terms:
                continue
            token = _Token(None, Term((token.operator.lower(),)))
        assert token.term is not None
        previous_excluded = token.negated or negate_next
        if previous_excluded:
            if joining:
                raise QueryError("an excluded term (-word, NOT word) cannot be part of OR")
            _add(excluded, token.term)
        elif joining and groups:
            _add(groups[-1], token.term)
        elif [token.term] not in groups:
            groups.append([token.term])
        joining = negate_next = False
    if not groups:
        if excluded:
            raise QueryError("nothing to search for: every term is excluded; add a word to find")
        raise QueryError("empty search query")
    return SearchQuery(tuple(tuple(group) for group in groups), tuple(excluded))


def _is_term(token: _Token | None) -> bool:
    return token is not None and token.term is not None


def _add(terms: list[Term], term: Term) -> None:
    if term not in terms:
        terms.append(term)


def _tokens(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    for minus, phrase, chunk in _CHUNK.findall(query):
        if chunk in OPERATORS:
            tokens.append(_Token(chunk, None))
            continue
        negated = bool(minus) or chunk.startswith("-")
        text = phrase if not chunk else chunk.lstrip("-")
        prefix = bool(chunk) and text.endswith("*")
        found = words(text)
        if not found:
            continue
        if prefix and len(found[-1]) < MIN_PREFIX:
            raise QueryError(
                f"prefix {found[-1]}* is too short: give at least {MIN_PREFIX} letters before *"
            )
        tokens.append(_Token(None, Term(tuple(found), prefix), negated))
    return tokens
