"""The words the search index holds: folded, lower-cased, stemmed for the document's language.

Both engines index what this module makes (migration 0012), so they hold the same words at the
same positions by construction: SQLite's FTS5 table is fed the words joined by spaces through
the SQL function ``newsvault_search_words`` (its ``ascii`` tokenizer keeps every one of them
whole), PostgreSQL's ``documents.search_vector`` is written as a tsvector literal.

A word is a run of letters, marks and digits (what ``search_query.words`` calls a word); the
accents of Latin letters are removed and case is folded ("Zürich" = "zurich"); then the word is
stemmed with the Snowball stemmer of the document's language (PyStemmer: "missiles" = "missile"
in English, "Häuser" = "Haus" in German). A document whose language is unknown is stemmed as
English (as every document was before 0012: a short text the identifier is unsure of is most
often English, and English stemming leaves other languages' words nearly whole); one in a
language without a stemmer (Chinese, Japanese, Vietnamese, ...) keeps its words as they are. A
query word is stemmed for every language the archive holds, and a document matches when it
holds any of those forms.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import Any, TypeVar, cast

import regex
import Stemmer

from pipeline.db.search_settings import PG_TEXT_CHARS

# The SQL function of SQLite's triggers (migration 0012): sqlite_words() below.
SQLITE_FUNCTION = "newsvault_search_words"
WORD_CHARACTERS = r"\p{L}\p{M}\p{N}"
WORD = regex.compile(f"[{WORD_CHARACTERS}]+")
# The same words in a text without combining marks, found by the standard library's faster
# engine: its word characters less "_" are the letters and digits.
_WORD_WITHOUT_MARKS = re.compile(r"[^\W_]+")
_MARK = regex.compile(r"\p{M}")
# PostgreSQL refuses lexemes over 2,047 bytes; no word of any language comes near this.
MAX_WORD_CHARACTERS = 500
# PostgreSQL keeps word positions up to 16,383 and 256 positions a word; more are dropped.
MAX_POSITION = 16_383
MAX_POSITIONS_PER_WORD = 256
# The text's positions start this far after the title's last one, so that a phrase never runs
# from the title into the text (FTS5 keeps them apart as two columns).
TITLE_TEXT_GAP = 2
# ISO 639-1 codes (as ``documents.language`` holds them) and their Snowball stemmers.
STEMMERS = {
    "ar": "arabic",
    "ca": "catalan",
    "cs": "czech",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "eo": "esperanto",
    "es": "spanish",
    "et": "estonian",
    "eu": "basque",
    "fa": "persian",
    "fi": "finnish",
    "fr": "french",
    "ga": "irish",
    "hi": "hindi",
    "hu": "hungarian",
    "hy": "armenian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "nb": "norwegian",
    "ne": "nepali",
    "nl": "dutch",
    "nn": "norwegian",
    "no": "norwegian",
    "pl": "polish",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "st": "sesotho",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
    "yi": "yiddish",
}

# Characters FTS5's old tokenizer folded and lower() does not: final sigma, long s, micro sign.
EXTRA_FOLDS = str.maketrans({"ς": "σ", "ſ": "s", "µ": "μ"})
_EXTRA_FOLDED = "ςſµ"
# A run of combining marks after a Latin letter. Written to start with the marks (the lookbehind
# second), so that a whole text is scanned at C speed for marks, not tested position by position,
# and with nothing put back in their place (a "\\1" template is expanded in Python per match).
_LATIN_ACCENTS = regex.compile("[\u0300-\u036f](?<=[A-Za-z][\u0300-\u036f])[\u0300-\u036f]*")


def fold(text: str) -> str:
    """``text`` with the accents of Latin letters removed ("Zürich" -> "Zurich")."""
    if text.isascii():
        return text
    if any(extra in text for extra in _EXTRA_FOLDED):
        text = text.translate(EXTRA_FOLDS)
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", _LATIN_ACCENTS.sub("", decomposed))


# The stemmer of documents whose language is unknown.
UNKNOWN_LANGUAGE_STEMMER = "english"


def stemmer_name(language: str | None) -> str | None:
    """The Snowball stemmer of a language code ("en", "de-AT"), None when it has none."""
    if not language:
        return UNKNOWN_LANGUAGE_STEMMER
    return STEMMERS.get(language.strip().lower().replace("_", "-").split("-")[0])


# Words remembered for each stemmer, up to this many, then forgotten at once: a dict lookup is
# several times cheaper than PyStemmer's call, and news vocabulary repeats (~7 MB a stemmer).
STEM_CACHE_WORDS = 50_000


class _Stems:
    """One Snowball stemmer and the stems it has made."""

    def __init__(self, name: str) -> None:
        self._stemmer = Stemmer.Stemmer(name)
        self._known: dict[str, str] = {}

    def stem(self, words: list[str]) -> list[str]:
        self.learn(words)
        known = self._known
        return [known[word] for word in words]

    def stem_one(self, word: str) -> str:
        found = self._known.get(word)
        if found is None:
            if len(self._known) >= STEM_CACHE_WORDS:
                self._known.clear()
            found = self._known[word] = self.stem_once([word])[0]
        return found

    def learn(self, words: Iterable[str]) -> None:
        """Remember the stems of ``words``, the unknown ones stemmed in one call (at C speed)."""
        known = self._known
        unknown = [word for word in dict.fromkeys(words) if word not in known]
        if unknown:
            if len(known) + len(unknown) > STEM_CACHE_WORDS:
                known.clear()
                unknown = list(dict.fromkeys(words))
            known.update(zip(unknown, self.stem_once(unknown), strict=True))

    def stem_once(self, words: list[str]) -> list[str]:
        """``words`` stemmed and not remembered (their caller remembers them)."""
        # Snowball stems "s" to nothing; such a word stays as it is.
        stems = self._stemmer.stemWords(words)
        return [stem or word for stem, word in zip(stems, words, strict=True)]


# PyStemmer's stemmers are not thread-safe: each thread has its own, and its own caches.
_local = threading.local()
_Made = TypeVar("_Made")


def _this_threads(kind: Callable[[Any], _Made], name: str | None) -> _Made:
    """This thread's ``kind(name)``, made on first use."""
    made: dict[tuple[object, object], Any] | None = getattr(_local, "made", None)
    if made is None:
        made = _local.made = {}
    found = made.get((kind, name))
    if found is None:
        found = made[(kind, name)] = kind(name)
    return cast(_Made, found)


def _stems(name: str) -> _Stems:
    return _this_threads(_Stems, name)


class Lexicon:
    """This thread's stems of folded words for one stemmer (None: words as they are).

    One per thread and search: the stems themselves are the thread's, kept across searches.
    """

    def __init__(self, stemmer: str | None) -> None:
        self.stemmer = stemmer
        stems = None if stemmer is None else _stems(stemmer)
        # Bound once: stem() runs for every candidate word of every result.
        self.stem: Callable[[str], str] = _unchanged if stems is None else stems.stem_one
        # Stem the unknown words in one call: a text's words at C speed, not one by one.
        self.learn: Callable[[Iterable[str]], None] = (
            _learn_nothing if stems is None else stems.learn
        )


def _unchanged(word: str) -> str:
    return word


def _learn_nothing(words: Iterable[str]) -> None:
    pass


def stem_words(words: list[str], stemmer: str | None) -> list[str]:
    """``words`` (folded, lower-case) stemmed; a word whose stem would be empty stays."""
    if stemmer is None or not words:
        return words
    return _stems(stemmer).stem(words)


def key(word: str) -> str:
    """A word as the index reads it before stemming: accents and case folded."""
    return fold(word).lower()


class _IndexForms:
    """What the index holds for each lower-case word of a text, for one stemmer (or none).

    Folding a word alone gives what folding the whole text gives at its place (words hold
    their combining marks; folding moves no word boundary), so each distinct word is folded
    and stemmed once and then looked up: a news text repeats most of its words, and the
    writer sees the same vocabulary document after document.
    """

    def __init__(self, stemmer: str | None) -> None:
        self._stemmer = stemmer
        self._known: dict[str, str | None] = {}

    def forms(self, words: list[str]) -> list[str]:
        known = self._known
        unknown = set(words).difference(known)
        if unknown:
            if len(known) + len(unknown) > STEM_CACHE_WORDS:
                known.clear()
                unknown = set(words)
            ordered = list(unknown)
            keys = [key(word) for word in ordered]
            kept = [k for k in keys if len(k) <= MAX_WORD_CHARACTERS]
            stemmed = kept if self._stemmer is None else _stems(self._stemmer).stem_once(kept)
            stems = dict(zip(kept, stemmed, strict=True))
            for word, folded in zip(ordered, keys, strict=True):
                known[word] = stems.get(folded)  # None: too long to index
        # map() and the scan for None run in C: this is the writer's cost per word.
        forms = list(map(known.__getitem__, words))
        if None in forms:
            return [form for form in forms if form is not None]
        return cast(list[str], forms)


def _index_forms(stemmer: str | None) -> _IndexForms:
    return _this_threads(_IndexForms, stemmer)


def index_words(text: str | None, stemmer: str | None) -> list[str]:
    """The words the index holds for ``text`` (its first PG_TEXT_CHARS characters), in order."""
    if not text:
        return []
    lowered = text[:PG_TEXT_CHARS].lower()
    # Lower-casing can bring a combining mark ("İ" -> "i̇"): looked for after it.
    found = (WORD if _MARK.search(lowered) else _WORD_WITHOUT_MARKS).findall(lowered)
    return _index_forms(stemmer).forms(found)


def sqlite_words(text: str | None, language: str | None) -> str:
    """``newsvault_search_words(text, language)``: the index's words joined by spaces."""
    return " ".join(index_words(text, stemmer_name(language)))


def pg_search_vector(title: str | None, text: str | None, language: str | None) -> str:
    """The tsvector literal of a document: title words weigh A, text words B."""
    stemmer = stemmer_name(language)
    title_words = index_words(title, stemmer)
    text_words = index_words(text, stemmer)
    first_text = len(title_words) + TITLE_TEXT_GAP
    places_of: defaultdict[str, list[int]] = defaultdict(list)
    ats = [*range(1, first_text - 1), *range(first_text, first_text + len(text_words))]
    if ats and ats[-1] > MAX_POSITION:
        # PostgreSQL's last position stands for every later one.
        ats = [min(at, MAX_POSITION) for at in ats]
    for at, word in zip(ats, title_words + text_words, strict=True):
        places_of[word].append(at)
    title_labels, text_labels = _position_labels()
    # Words hold only letters, marks and digits: nothing to escape inside the quotes.
    return " ".join(
        f"'{word}':"
        + ",".join(
            [
                title_labels[at] if at < first_text else text_labels[at]
                for at in places[:MAX_POSITIONS_PER_WORD]
            ]
        )
        for word, places in places_of.items()
    )


@cache
def _position_labels() -> tuple[list[str], list[str]]:
    """ "5A" and "5B" for every position, made once: formatting each cost half the literal."""
    positions = range(MAX_POSITION + 1)
    return [f"{at}A" for at in positions], [f"{at}B" for at in positions]


def query_variants(
    words: Sequence[str], prefix: bool, stemmers: Sequence[str | None]
) -> tuple[tuple[str, ...], ...]:
    """A query term's words as the index can hold them: one sequence per distinct stemming.

    A prefix (the last word of a ``prefix`` term) is folded but never stemmed: it matches the
    beginning of the stems the index holds.
    """
    # A word longer than any the index holds matches nothing; cut, it stays too long to match
    # and short enough for PostgreSQL to accept.
    keys = [key(word)[: MAX_WORD_CHARACTERS + 1] for word in words]
    stemmed, last = (keys[:-1], keys[-1:]) if prefix else (keys, [])
    variants = dict.fromkeys(
        tuple(stem_words(list(stemmed), stemmer) + last) for stemmer in stemmers
    )
    return tuple(variants)
