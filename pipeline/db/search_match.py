"""A parsed query in each engine's own match language: an FTS5 MATCH string or a tsquery.

Both engines index the same words the same way (migration 0004): words are runs of letters,
marks and digits; case and the accents of Latin letters are folded; words are Porter-stemmed.
FTS5 does it in its tokenizer (``porter unicode61 remove_diacritics 2``), PostgreSQL in the
``newsvault_search_text()`` SQL function (ASCII punctuation to spaces, Latin accents removed)
followed by the ``newsvault_search`` text search configuration (snowball ``porter``). Query words
go through the same steps: FTS5 applies its tokenizer to them; for PostgreSQL ``fold`` below
mirrors ``newsvault_search_text()`` and ``to_tsquery`` applies the configuration.

Every word is quoted ("..." for FTS5, '...' for tsquery) and holds only letters, marks and
digits, so no user input is ever read as an operator.
"""

from __future__ import annotations

import re
import unicodedata

from pipeline.db.search_query import SearchQuery, Term

PG_SEARCH_CONFIG = "newsvault_search"
PG_SEARCH_TEXT_FUNCTION = "newsvault_search_text"
# Characters the FTS5 tokenizer folds and PostgreSQL's lower() does not; kept in step with the
# translate() of newsvault_search_text() in migration 0004.
EXTRA_FOLDS = str.maketrans({"ς": "σ", "ſ": "s", "µ": "μ"})
_EXTRA_FOLDED = "ςſµ"
# A run of combining marks after a Latin letter. Written to start with the marks (the lookbehind
# second), so that a whole text is scanned at C speed for marks, not tested position by position,
# and with nothing put back in their place (a "\\1" template is expanded in Python per match):
# folding a page of results' texts for their snippets went from 4.4 to 2.6 ms.
_LATIN_ACCENTS = re.compile("[\u0300-\u036f](?<=[A-Za-z][\u0300-\u036f])[\u0300-\u036f]*")


def fold(text: str) -> str:
    """``text`` as newsvault_search_text() leaves it: accents of Latin letters removed."""
    if text.isascii():
        return text
    if any(extra in text for extra in _EXTRA_FOLDED):
        text = text.translate(EXTRA_FOLDS)
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", _LATIN_ACCENTS.sub("", decomposed))


def fts5_match(query: SearchQuery) -> str:
    """``(a OR b) AND (c) NOT (d OR e)``: FTS5 gives NOT a higher precedence than AND."""
    required = " AND ".join(
        "(" + " OR ".join(_fts5_term(term) for term in group) + ")" for group in query.groups
    )
    if not query.excluded:
        return required
    excluded = " OR ".join(_fts5_term(term) for term in query.excluded)
    return f"({required}) NOT ({excluded})"


def fts5_any(terms: list[Term]) -> str:
    """A MATCH string for documents holding at least one of ``terms``."""
    return " OR ".join(_fts5_term(term) for term in terms)


def fts5_word(word: str) -> str:
    """A MATCH string for one word (stemmed and folded by the tokenizer, like the documents)."""
    return _fts5_term(Term((word,)))


def _fts5_term(term: Term) -> str:
    # A quoted string of several words is a phrase; "..." * makes its last word a prefix.
    return f'"{" ".join(term.words)}"' + (" *" if term.prefix else "")


def tsquery_text(query: SearchQuery) -> str:
    """to_tsquery() input: groups joined by &, terms of a group by |, exclusions as & !(...).

    One string keeps a long query from becoming a deep SQL expression.
    """
    required = " & ".join(
        "(" + " | ".join(_tsquery_term(term) for term in group) + ")" for group in query.groups
    )
    if not query.excluded:
        return required
    excluded = " | ".join(_tsquery_term(term) for term in query.excluded)
    return f"{required} & !({excluded})"


def _tsquery_term(term: Term) -> str:
    quoted = [f"'{fold(word)}'" for word in term.words]
    if term.prefix:
        quoted[-1] += ":*"
    return "(" + " <-> ".join(quoted) + ")"
