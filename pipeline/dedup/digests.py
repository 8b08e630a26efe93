"""Exact-text identity: one normalised form of article text and its sha256 digest.

Two captures whose article text differs only in Unicode form, letter case, quote or dash
style, punctuation or spacing are the same document; everything else is left to MinHash.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

# Typographic variants that NFKC leaves alone but outlets use interchangeably.
_QUOTES = dict.fromkeys(map(ord, "\u2018\u2019\u201a\u201b\u2032\u00b4\u0060\u02bc"), "'")
_QUOTES.update(dict.fromkeys(map(ord, "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"), '"'))
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63"), "-")
_TRANSLATE = {**_QUOTES, **_DASHES}
# str.translate looks every character up in a dict; a regex visits only those it must change,
# several times faster on article-length text.
_VARIANT = re.compile("[" + "".join(map(chr, sorted(_TRANSLATE))) + "]")

# An apostrophe inside a word is part of it ("north korea's" -> "north koreas") so that
# contractions and possessives stay one token on both sides of a comparison.
# Written to start with the apostrophe (then looking back at the word character before it), so
# the regex engine jumps from apostrophe to apostrophe instead of trying every position.
_INNER_APOSTROPHE = re.compile(r"'(?<=\w')(?=\w)")
# Every printable ASCII character that is not a letter, digit or space is punctuation or a
# symbol (Unicode category P or S): these become a space without asking unicodedata.
_ASCII_PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")


class _PunctuationTable(dict[int, str]):
    """str.translate table: punctuation and symbols become a space, found lazily per code point."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        value = " " if unicodedata.category(char)[0] in "PS" else char
        self[code] = value
        return value


_PUNCTUATION = _PunctuationTable()
# Every punctuation or symbol character is outside \w and \s, except the connector "_" (ASCII,
# handled by _ASCII_PUNCTUATION).
_MAYBE_PUNCTUATION = re.compile(r"[^\w\s\x00-\x7f]")


def _replace_variant(match: re.Match[str]) -> str:
    return _TRANSLATE[ord(match.group())]


def _replace_punctuation(match: re.Match[str]) -> str:
    return _PUNCTUATION[ord(match.group())]


def normalise_text(text: str) -> str:
    """NFKC, casefold, unify quotes and dashes, drop punctuation, collapse whitespace."""
    if not isinstance(text, str):
        raise TypeError(f"normalise_text expects str, got {type(text).__name__}")
    folded = _VARIANT.sub(_replace_variant, unicodedata.normalize("NFKC", text).casefold())
    folded = _INNER_APOSTROPHE.sub("", folded)
    # Punctuation becomes a space, not nothing: "kim jong-un" and "kim jong un" must agree.
    cleaned = _ASCII_PUNCTUATION.sub(" ", folded)
    if not cleaned.isascii():
        cleaned = _MAYBE_PUNCTUATION.sub(_replace_punctuation, cleaned)
    # str.split() and the regex \s agree on what is whitespace (str.isspace); split is faster.
    return " ".join(cleaned.split())


def text_digest(text: str) -> str:
    """``"sha256:<hex>"`` of :func:`normalise_text` of ``text``."""
    return digest_of_normalised(normalise_text(text))


def digest_of_normalised(normalised: str) -> str:
    """:func:`text_digest` of a text already through :func:`normalise_text`."""
    return "sha256:" + hashlib.sha256(normalised.encode("utf-8")).hexdigest()
