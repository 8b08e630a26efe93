"""Snippets of the page of results, built from the texts in Python on both engines.

Words are what the index holds (``search_words``): runs of letters, marks and digits, Latin
accents and case folded, stemmed for the document's language. A result is marked where its own
language's stems of the query's words stand, as its index entry was made.

Only words that can match are stemmed, each distinct one once (the unknown ones of a text in
one call, at C speed) and remembered across texts and searches. Most Snowball stemmers change a
folded word only in its last letters, so the word starts with the stem less its last letters
(``_stem_ending``); one regular expression of those beginnings, run over the folded text, finds
the candidates, and each candidate's stem decides. Stemmers that change a word's beginning
(Dutch "gebouwd", Indonesian "membaca", Irish "bhean", German "ae" for "ä") have every distinct
word of the text stemmed instead, and the places of those whose stem begins a query term read.
The snippet is then
shaped as FTS5's ``snippet()`` shapes one: SNIPPET_TOKENS words around the stretch
holding the most distinct query terms (then the most matches, then the earliest), each match
(a word, or a phrase's words together) between SNIPPET_OPEN and SNIPPET_CLOSE, SNIPPET_ELLIPSIS
where the text goes on. Excluded terms are never marked.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import regex

from pipeline.db.search_query import SearchQuery, Term
from pipeline.db.search_settings import (
    PG_TEXT_CHARS,
    SNIPPET_CLOSE,
    SNIPPET_ELLIPSIS,
    SNIPPET_OPEN,
    SNIPPET_TOKENS,
)
from pipeline.db.search_words import WORD, WORD_CHARACTERS, Lexicon, fold, key, stemmer_name

# Matched backwards from the end of the searched part: the word a position is inside of.
_WORD_ENDING = regex.compile(f"[{WORD_CHARACTERS}]+", regex.REVERSE)
# The stretch of matches a snippet is centred on spans at most this many characters, about
# SNIPPET_TOKENS words; the words around it are read from this many characters either side.
_STRETCH_CHARACTERS = 150
_CONTEXT_CHARACTERS = 400
# How many letters at its end a stem may differ in from the word: one in English ("happi" for
# "happy", "hope" for "hoping"), two where an English stem ends in "ie" ("die" for "dying") and
# in the other languages; fewer letters, fewer candidates to stem. Not so for the stemmers of
# _STEMMERS_CHANGING_BEGINNINGS. tests/test_search_snippet.py checks both on real words of
# every language of the dev set.
_STEM_ENDING = 2
_STEM_ENDINGS = {"english": 1}
_STEMMERS_CHANGING_BEGINNINGS = frozenset(
    {
        "arabic",
        "dutch",
        "esperanto",
        "finnish",
        "german",
        "greek",
        "indonesian",
        "irish",
        "persian",
        "serbian",
        "sesotho",
        "turkish",
    }
)


# Named tuples: made for every candidate word, and a frozen dataclass costs several times more.
class _Word(NamedTuple):
    start: int
    end: int
    key: str  # folded and lower-cased, as the index reads it


class _Hit(NamedTuple):
    start: int
    end: int
    term: int


def _stem_ending(stemmer: str | None, stem: str) -> int:
    if stemmer is None:
        return 0
    if stemmer == "english" and stem.endswith("ie"):
        return 2
    return _STEM_ENDINGS.get(stemmer, _STEM_ENDING)


def _beginning(stemmer: str | None, stem: str) -> str:
    """What every word with this stem starts with, once folded."""
    return stem[: max(1, len(stem) - _stem_ending(stemmer, stem))]


@dataclass(frozen=True)
class _Pattern:
    """A positive term as stems; ``prefix``: the last stem begins the word's stem."""

    stems: tuple[str, ...]
    prefix: bool

    def matches(self, position: int, stem: str) -> bool:
        wanted = self.stems[position]
        last = position == len(self.stems) - 1
        return stem == wanted or (self.prefix and last and stem.startswith(wanted))


class _Text:
    """A text and its folded form, read word by word at the same offsets."""

    def __init__(self, text: str) -> None:
        self.shown = unicodedata.normalize("NFC", text)
        folded = fold(self.shown).lower()
        # Folding and lower-casing keep the length of NFC text but for rare characters (a
        # letter and an accent with no composed form, some capitals); those texts are folded
        # word by word instead.
        self.folded = folded if len(folded) == len(self.shown) else None

    def word_from(self, position: int) -> _Word | None:
        found = WORD.search(self.shown, position)
        return None if found is None else self._word(found.start(), found.end())

    def candidates(self, beginnings: regex.Pattern[str]) -> Iterator[_Word]:
        if self.folded is not None:
            for found in beginnings.finditer(self.folded):
                yield _Word(found.start(), found.end(), found.group())
            return
        for found in WORD.finditer(self.shown):
            word = self._word(found.start(), found.end())
            if beginnings.fullmatch(word.key):
                yield word

    def keys(self) -> set[str]:
        """The distinct words of the text, folded."""
        if self.folded is not None:
            return set(WORD.findall(self.folded))
        return {key(word) for word in WORD.findall(self.shown)}

    def words_among(self, wanted: set[str]) -> Iterator[_Word]:
        """The places of the words whose folded form is in ``wanted``."""
        if self.folded is not None:
            for found in WORD.finditer(self.folded):
                if found.group() in wanted:
                    yield _Word(found.start(), found.end(), found.group())
            return
        for found in WORD.finditer(self.shown):
            word = self._word(found.start(), found.end())
            if word.key in wanted:
                yield word

    def _word(self, start: int, end: int) -> _Word:
        if self.folded is not None:
            return _Word(start, end, self.folded[start:end])
        return _Word(start, end, fold(self.shown[start:end]).lower())


def snippets(texts: Mapping[int, tuple[str, str | None]], query: SearchQuery) -> dict[int, str]:
    """The snippet of each (text, language) by document id for ``query``."""
    by_stemmer: dict[str | None, _Finder] = {}
    found: dict[int, str] = {}
    for document_id, (text, language) in texts.items():
        stemmer = stemmer_name(language)
        finder = by_stemmer.get(stemmer)
        if finder is None:
            finder = by_stemmer[stemmer] = _Finder(query, Lexicon(stemmer))
        # The index holds the words of the text's first PG_TEXT_CHARS characters only.
        found[document_id] = _snippet(_Text(text[:PG_TEXT_CHARS]), finder)
    return found


def _pattern(term: Term, lexicon: Lexicon) -> _Pattern:
    keys = [key(word) for word in term.words]
    # A prefix is never stemmed: it begins the stems the index holds.
    stemmed, prefix = (keys[:-1], keys[-1:]) if term.prefix else (keys, [])
    stems = tuple([lexicon.stem(word) for word in stemmed] + prefix)
    return _Pattern(stems, term.prefix)


class _Finder:
    """The query's positive terms as one language's stems."""

    def __init__(self, query: SearchQuery, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.patterns = [_pattern(term, lexicon) for group in query.groups for term in group]
        self._firsts = {pattern.stems[0] for pattern in self.patterns}
        self._first_prefixes = tuple(
            pattern.stems[0]
            for pattern in self.patterns
            if pattern.prefix and len(pattern.stems) == 1
        )

        # None: every distinct word is stemmed (the stemmer changes beginnings).
        self.beginnings: regex.Pattern[str] | None = None
        stemmer = lexicon.stemmer
        if stemmer not in _STEMMERS_CHANGING_BEGINNINGS:
            firsts = (pattern.stems[0] for pattern in self.patterns)
            self.beginnings = _beginnings(
                frozenset(
                    first[: max(1, len(first) - _stem_ending(stemmer, first))] for first in firsts
                )
            )

    def starts_a_term(self, stem: str) -> bool:
        return stem in self._firsts or bool(
            self._first_prefixes and stem.startswith(self._first_prefixes)
        )


@lru_cache(maxsize=256)
def _beginnings(beginnings: frozenset[str]) -> regex.Pattern[str]:
    """Words starting with one of ``beginnings`` (compiled once a set: ~0.5 ms each)."""
    alternatives = sorted(beginnings, key=lambda beginning: (-len(beginning), beginning))
    return regex.compile(
        f"(?<![{WORD_CHARACTERS}])(?:{'|'.join(map(regex.escape, alternatives))})"
        f"[{WORD_CHARACTERS}]*"
    )


def _snippet(text: _Text, finder: _Finder) -> str:
    hits = _hits(text, finder)
    stretch = _stretch(hits)
    start, end = (stretch[0].start, stretch[-1].end) if stretch else (0, 0)
    words = _words_around(text.shown, start, end)
    if not words:
        return ""
    first = bisect_left([word.start() for word in words], start)
    last = max(first, bisect_right([word.end() for word in words], end) - 1)
    size = min(SNIPPET_TOKENS, len(words))
    spare = size - min(size, last - first + 1)
    first = max(0, min(first - spare // 2, len(words) - size))
    shown_start, shown_end = words[first].start(), words[first + size - 1].end()
    marked = [hit for hit in hits if shown_start <= hit.start < shown_end]
    return _marked(text.shown, shown_start, shown_end, marked)


def _words_around(text: str, start: int, end: int) -> list[regex.Match[str]]:
    """The words within about _CONTEXT_CHARACTERS of ``start`` and ``end``, never cut."""
    low, high = max(0, start - _CONTEXT_CHARACTERS), end + _CONTEXT_CHARACTERS
    # Bounds inside a word move to its ends (a whole sentence of Chinese is one word).
    before = _WORD_ENDING.match(text, 0, low)
    after = WORD.match(text, high)
    return list(
        WORD.finditer(
            text,
            low if before is None else before.start(),
            high if after is None else after.end(),
        )
    )


def _hits(text: _Text, finder: _Finder) -> list[_Hit]:
    hits: list[_Hit] = []
    lexicon = finder.lexicon
    for candidate in _candidates(text, finder):
        stem = lexicon.stem(candidate.key)
        for number, pattern in enumerate(finder.patterns):
            if not pattern.matches(0, stem):
                continue
            end = _phrase_end(text, pattern, candidate, lexicon)
            if end is not None:
                hits.append(_Hit(candidate.start, end, number))
    # A word matched by two terms is marked once, within the longer match.
    hits.sort(key=lambda hit: (hit.start, -hit.end))
    kept: list[_Hit] = []
    for hit in hits:
        if not kept or hit.start >= kept[-1].end:
            kept.append(hit)
    return kept


def _candidates(text: _Text, finder: _Finder) -> Iterable[_Word]:
    """The words that may begin a match, their stems known to the lexicon."""
    lexicon = finder.lexicon
    if finder.beginnings is not None:
        candidates = list(text.candidates(finder.beginnings))
        lexicon.learn({candidate.key for candidate in candidates})
        return candidates
    keys = text.keys()
    lexicon.learn(keys)
    wanted = {key for key in keys if finder.starts_a_term(lexicon.stem(key))}
    return text.words_among(wanted) if wanted else []


def _phrase_end(text: _Text, pattern: _Pattern, first: _Word, lexicon: Lexicon) -> int | None:
    """Where the term's match starting with ``first`` ends, if its other words follow."""
    word = first
    for position in range(1, len(pattern.stems)):
        following = text.word_from(word.end)
        if following is None or not pattern.matches(position, lexicon.stem(following.key)):
            return None
        word = following
    return word.end


def _stretch(hits: list[_Hit]) -> list[_Hit]:
    """The run of hits within _STRETCH_CHARACTERS with the most distinct terms, then hits."""
    best: list[_Hit] = []
    best_score = (0, 0)
    for at, hit in enumerate(hits):
        run: list[_Hit] = []
        for other in hits[at:]:
            if other.end - hit.start > _STRETCH_CHARACTERS and run:
                break
            run.append(other)
        score = (len({other.term for other in run}), len(run))
        if score > best_score:
            best, best_score = run, score
    return best


def _marked(text: str, start: int, end: int, hits: list[_Hit]) -> str:
    pieces = [SNIPPET_ELLIPSIS] if WORD.search(text, 0, start) else []
    at = start
    for hit in hits:
        stop = min(hit.end, end)
        pieces += [text[at : hit.start], SNIPPET_OPEN, text[hit.start : stop], SNIPPET_CLOSE]
        at = stop
    pieces.append(text[at:end])
    if WORD.search(text, end):
        pieces.append(SNIPPET_ELLIPSIS)
    return "".join(pieces)
