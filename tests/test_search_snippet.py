"""Snippets, built in Python: the words the index matches, marked, in a window."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from pipeline.db.search_query import parse_query
from pipeline.db.search_settings import SNIPPET_ELLIPSIS, SNIPPET_TOKENS
from pipeline.db.search_snippet import _STEMMERS_CHANGING_BEGINNINGS, _beginning, snippets
from pipeline.db.search_words import STEMMERS, Lexicon, fold, key

FILLER = "Nothing else happened in the long afternoon while the city waited. "
REPO = Path(__file__).resolve().parent.parent


def snippet(query: str, body: str, language: str | None = "en") -> str:
    return snippets({1: (body, language)}, parse_query(query))[1]


def marked(result: str) -> list[str]:
    return re.findall(r"\[([^\]]*)\]", result)


def test_stemmed_and_folded_words_are_marked() -> None:
    body = "Officials said the missiles were launched from Zürich at dawn."
    result = snippet("missile launch zurich", body)
    assert marked(result) == ["missiles", "launched", "Zürich"]
    assert result == "Officials said the [missiles] were [launched] from [Zürich] at dawn"


def test_decomposed_text_is_matched_and_shown_composed() -> None:
    body = unicodedata.normalize("NFD", "Die Straße in München war überflutet.")
    assert marked(snippet("munchen", body)) == ["München"]


def test_a_phrase_is_one_mark_and_only_where_its_words_are_in_order() -> None:
    body = "A foreign minister met the Foreign  Minister. Ministers of foreign trade left."
    assert marked(snippet('"foreign minister"', body)) == ["foreign minister", "Foreign  Minister"]


def test_prefix_terms_mark_every_word_with_the_prefix() -> None:
    body = "The ministers and a minister met in the ministry of mines."
    assert marked(snippet("minist*", body)) == ["ministers", "minister", "ministry"]


def test_excluded_terms_are_never_marked() -> None:
    assert marked(snippet("rain -flood", "Rain fell and the flood came.")) == ["Rain"]


def test_words_are_whole_words() -> None:
    # "art" is not marked inside "start" or "party".
    assert marked(snippet("art", "Start the party; art is a word here, arts too.")) == [
        "art",
        "arts",
    ]


def test_window_is_centred_on_the_stretch_with_most_distinct_terms() -> None:
    body = FILLER * 5 + "A flood came. " + FILLER * 5 + "The flood and the rain came. " + FILLER * 5
    result = snippet("flood rain", body)
    assert marked(result) == ["flood", "rain"]
    assert result.startswith(SNIPPET_ELLIPSIS) and result.endswith(SNIPPET_ELLIPSIS)
    shown = result.strip(SNIPPET_ELLIPSIS)
    assert len(re.findall(r"\w+", shown)) == SNIPPET_TOKENS
    before, after = shown.split("[flood]")
    assert abs(len(before.split()) - len(after.split())) <= 6


def test_text_without_a_match_shows_its_beginning() -> None:
    # A document can match by its title alone.
    result = snippet("title", FILLER * 3)
    assert result == " ".join((FILLER * 3).split()[:SNIPPET_TOKENS]).rstrip(".") + SNIPPET_ELLIPSIS


def test_short_and_empty_texts() -> None:
    assert snippet("flood", "Flood.") == "[Flood]"
    assert snippet("flood", "") == ""
    assert snippet("flood", "— … —") == ""


def test_words_never_cut_at_the_context_bounds() -> None:
    long_word = "x" * 500
    body = f"{long_word} flood {long_word}"
    assert snippet("flood", body) == body.replace("flood", "[flood]")


def test_marks_after_non_latin_letters_are_kept_and_long_folds_fall_back_to_words() -> None:
    # Greek accents are not folded (as in the index); "n̈" has no composed form, so folding
    # shortens the text, which is then folded word by word.
    assert marked(snippet("ελλάδα", "Η Ελλάδα και η Ελλαδα.")) == ["Ελλάδα"]
    body = "Spın̈al Tap played. Then spinal taps."
    assert len(fold(unicodedata.normalize("NFC", body))) < len(body)
    assert marked(snippet("tap", body)) == ["Tap", "taps"]


def test_snippets_for_a_page_of_results() -> None:
    texts = {7: ("The flood rose.", "en"), 9: ("No match here.", "en"), 11: ("Floods again.", "en")}
    assert snippets(texts, parse_query("flood")) == {
        7: "The [flood] rose",
        9: "No match here",
        11: "[Floods] again",
    }


def real_words() -> set[str]:
    words = {"Zürich", "Straße", "München", "überflutet", "Ελλάδα", "Москва", "naïve", "İstanbul"}
    texts = [*REPO.glob("seeds/*.txt"), *REPO.glob("tests/data/**/*.txt")]
    # The dev set's pages in 26 countries' languages, where it is checked out beside the repo.
    texts += REPO.parent.glob("shared/devsets/fundus/*.txt")
    for path in texts:
        words.update(re.findall(r"[^\W_]+", path.read_text(encoding="utf-8")))
    return words


@pytest.mark.parametrize("stemmer", sorted(set(STEMMERS.values()) - _STEMMERS_CHANGING_BEGINNINGS))
def test_a_word_starts_with_the_beginning_of_its_stem(stemmer: str) -> None:
    # What lets the snippet stem only the words starting like a query word's stem.
    lexicon = Lexicon(stemmer)
    words = {key(word) for word in real_words()} | {
        "happy",
        "hoping",
        "generalization",
        "possibility",
        "relational",
        "dying",
        "lying",
    }
    lexicon.learn(words)
    assert {w for w in words if not w.startswith(_beginning(stemmer, lexicon.stem(w)))} == set()


def test_stemmers_said_to_change_beginnings_do_so_on_real_words() -> None:
    # Otherwise the faster search by beginnings would do for them too.
    words = {key(word) for word in real_words()}
    for stemmer in _STEMMERS_CHANGING_BEGINNINGS:
        lexicon = Lexicon(stemmer)
        lexicon.learn(words)
        changed = {w for w in words if not w.startswith(_beginning(stemmer, lexicon.stem(w)))}
        assert changed, stemmer


def test_each_result_is_marked_with_its_own_languages_stems() -> None:
    texts = {
        1: ("Die Häuser am Fluss wurden überflutet.", "de"),
        2: ("De huizen zijn gewerkt en gebouwd.", "nl"),
        3: ("The houses were flooded.", "en"),
        4: ("Häuser, houses, huizen.", "vi"),
        5: ("Dia sedang membaca buku di rumah.", "id"),
    }
    found = snippets(texts, parse_query("haus house gebouwd baca"))
    assert marked(found[1]) == ["Häuser"]  # German: Häuser = haus
    assert marked(found[2]) == ["gebouwd"]  # Dutch stems change beginnings ("ge-") too
    assert marked(found[3]) == ["houses"]
    assert marked(found[5]) == ["membaca"]  # Indonesian: "mem-" is stemmed away
    assert marked(found[4]) == []  # no stemmer (Vietnamese): words as they are, none equal
