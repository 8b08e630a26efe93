"""Author and publication date stated in a plain-text page's furniture."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.extract.text import text_document
from pipeline.extract.text_meta import byline_author, stated_published

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.mark.parametrize(
    ("line", "author"),
    [
        ("By Maria Gonzalez, Energy Correspondent", "Maria Gonzalez"),
        ("BY JOHN OKAFOR and MEI TANAKA | Associated Press", "JOHN OKAFOR and MEI TANAKA"),
        ("Written by Li Wei - Reuters", "Li Wei"),
        ("by continuing to browse you agree", None),
    ],
)
def test_byline_author(line: str, author: str | None) -> None:
    assert byline_author(((line, "byline"),)) == author


def test_only_bylines_count_as_authors() -> None:
    assert byline_author((("By Maria Gonzalez", "promo label"),)) is None


@pytest.mark.parametrize(
    ("line", "day"),
    [
        ("Published: 10:42 GMT, 14 March 2024 | Updated: 11:05 GMT", "2024-03-14"),
        ("Posted on 19 March 2024 at 14:05", "2024-03-19"),
        ("First published on Mon 2 Oct 2023 10.42 BST", "2023-10-02"),
        ("Published 10:42", None),
        ("Published yesterday", None),
    ],
)
def test_stated_published(line: str, day: str | None) -> None:
    assert stated_published(((line, "timestamp"),)) == day


def test_a_date_bar_is_not_a_publication_date() -> None:
    page = "Friday, September 22, 2023\n\nHarbour reopens\n\nThe harbour reopened on Tuesday.\n"
    document = text_document(page)
    assert document.published is None
    assert ("Friday, September 22, 2023", "site date bar") in [
        (line, kind.split(":")[0]) for line, kind in document.removed
    ]


def test_seeds_state_no_author_or_date() -> None:
    for seed in sorted(SEEDS.glob("*.txt")):
        document = text_document(seed.read_text(encoding="utf-8"))
        assert document.published is None and document.author is None, seed.name
