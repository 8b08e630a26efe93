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

import threading
import unicodedata
from collections.abc import Iterable, Sequence

import regex
import Stemmer

from pipeline.db.search_settings import PG_TEXT_CHARS

# The SQL function of SQLite's triggers (migration 0012): sqlite_words() below.
SQLITE_FUNCTION = "newsvault_search_words"
WORD_CHARACTERS = r"\p{L}\p{M}\p{N}"
WORD = regex.compile(f"[{WORD_CHARACTERS}]+")
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


# PyStemmer's stemmers are not thread-safe: each thread has its own.
_local = threading.local()


def _stemmer(name: str) -> Stemmer.Stemmer:
    stemmers: dict[str, Stemmer.Stemmer] | None = getattr(_local, "stemmers", None)
    if stemmers is None:
        stemmers = _local.stemmers = {}
    found = stemmers.get(name)
    if found is None:
        found = stemmers[name] = Stemmer.Stemmer(name)
    return found


def stem_words(words: list[str], stemmer: str | None) -> list[str]:
    """``words`` (folded, lower-case) stemmed; a word whose stem would be empty stays."""
    if stemmer is None or not words:
        return words
    stems = _stemmer(stemmer).stemWords(words)
    return [stem or word for stem, word in zip(stems, words, strict=True)]


def key(word: str) -> str:
    """A word as the index reads it before stemming: accents and case folded."""
    return fold(word).lower()


def index_words(text: str | None, stemmer: str | None) -> list[str]:
    """The words the index holds for ``text`` (its first PG_TEXT_CHARS characters), in order."""
    if not text:
        return []
    found = WORD.findall(key(text[:PG_TEXT_CHARS]))
    return stem_words([word for word in found if len(word) <= MAX_WORD_CHARACTERS], stemmer)


def sqlite_words(text: str | None, language: str | None) -> str:
    """``newsvault_search_words(text, language)``: the index's words joined by spaces."""
    return " ".join(index_words(text, stemmer_name(language)))


def pg_search_vector(title: str | None, text: str | None, language: str | None) -> str:
    """The tsvector literal of a document: title words weigh A, text words B."""
    stemmer = stemmer_name(language)
    positions: dict[str, list[str]] = {}
    title_words = index_words(title, stemmer)
    _add_positions(positions, title_words, 1, "A")
    _add_positions(positions, index_words(text, stemmer), len(title_words) + TITLE_TEXT_GAP, "B")
    # Words hold only letters, marks and digits: nothing to escape inside the quotes.
    return " ".join(f"'{word}':{','.join(places)}" for word, places in positions.items())


def _add_positions(
    positions: dict[str, list[str]], words: Iterable[str], first: int, weight: str
) -> None:
    for offset, word in enumerate(words):
        places = positions.setdefault(word, [])
        if len(places) < MAX_POSITIONS_PER_WORD:
            places.append(f"{min(first + offset, MAX_POSITION)}{weight}")


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
