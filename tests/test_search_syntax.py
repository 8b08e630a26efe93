"""The search syntax and its translation into FTS5 and tsquery text, without a database."""

from __future__ import annotations

import pytest

from pipeline.db.search_match import fts5_match, index_query, tsquery_text
from pipeline.db.search_query import QueryError, SearchQuery, Term, parse_query
from pipeline.db.search_words import fold


def w(*words: str, prefix: bool = False) -> Term:
    return Term(tuple(words), prefix)


def test_words_are_anded_and_deduplicated() -> None:
    assert parse_query("Flood flood RAIN") == SearchQuery(((w("flood"),), (w("rain"),)))


def test_or_binds_tighter_than_and() -> None:
    parsed = parse_query("kim putin OR shoigu OR lavrov")
    assert parsed.groups == ((w("kim"),), (w("putin"), w("shoigu"), w("lavrov")))


def test_exclusions() -> None:
    assert parse_query("kim -putin") == SearchQuery(((w("kim"),),), (w("putin"),))
    assert parse_query("kim NOT putin") == SearchQuery(((w("kim"),),), (w("putin"),))
    assert parse_query('kim -"foreign minister"').excluded == (w("foreign", "minister"),)
    # A hyphen inside a word joins a phrase; only a leading one excludes.
    assert parse_query("well-known").groups == ((w("well", "known"),),)


def test_phrases_and_prefixes() -> None:
    assert parse_query('"New  York" negotiat*').groups == (
        (w("new", "york"),),
        (w("negotiat", prefix=True),),
    )
    assert parse_query("U.S.").groups == ((w("u", "s"),),)
    assert parse_query("north-kor*").groups == ((w("north", "kor", prefix=True),),)


def test_operators_only_in_capitals_and_between_terms() -> None:
    assert parse_query("war or peace").groups == ((w("war"),), (w("or"),), (w("peace"),))
    assert parse_query("OR flood NOT").groups == ((w("or"),), (w("flood"),), (w("not"),))
    assert parse_query("AND").groups == ((w("and"),),)
    assert parse_query("war AND peace").groups == ((w("war"),), (w("peace"),))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "empty search query"),
        ('"" ** -- ;', "empty search query"),
        ("-putin", "nothing to search for"),
        ("NOT putin -kim", "nothing to search for"),
        ("kim OR -putin", "cannot be part of OR"),
        ("-putin OR kim", "cannot be part of OR"),
        ("ab*", r"prefix ab\* is too short"),
        ('"new y*"', None),  # inside quotes * is punctuation: no prefix, no error
    ],
)
def test_unsearchable_queries(query: str, message: str | None) -> None:
    if message is None:
        assert parse_query(query).groups == ((w("new", "y"),),)
        return
    with pytest.raises(QueryError, match=message):
        parse_query(query)


def test_fts5_match_text_has_each_stemming_of_a_term_and_never_stems_a_prefix() -> None:
    parsed = parse_query('kim putin OR "foreign minister" negotiat* -moscow -"red square"')
    # Words kept as they are (documents of unknown language) and English stems.
    assert fts5_match(index_query(parsed, (None, "english"))) == (
        '((("kim")) AND (("putin") OR ("foreign minister" OR "foreign minist"))'
        ' AND (("negotiat" *))) NOT (("moscow") OR ("red square" OR "red squar"))'
    )


def test_tsquery_text_folds_accents_and_stems_for_each_language() -> None:
    parsed = parse_query('Zürich OR "São Paulo" gené* -Ελλάς missiles')
    assert tsquery_text(index_query(parsed, (None, "german", "greek"))) == (
        "((('zurich')) | (('sao' <-> 'paulo'))) & ((('gene':*)))"
        " & ((('missiles') | ('missil'))) & !((('ελλάσ') | ('ελλ')))"
    )


@pytest.mark.parametrize(
    ("word", "folded"),
    [
        ("zürich", "zurich"),
        ("genève", "geneve"),
        ("việt", "viet"),  # two marks on one letter
        ("łódź", "łodz"),  # a stroke is no accent: FTS5 keeps ł too
        ("straße", "straße"),
        ("йогурт", "йогурт"),  # Cyrillic й keeps its breve, as in FTS5
        ("πρωθυπουργός", "πρωθυπουργόσ"),  # final sigma folded as in FTS5; Greek accents kept
        ("हिंदी", "हिंदी"),
    ],
)
def test_fold(word: str, folded: str) -> None:
    assert fold(word) == folded
