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
        ("Published: 10:42 GMT, 14 March 2024 | Updated: 11:05 GMT", "2024-03-14T10:42:00+00:00"),
        ("Posted on 19 March 2024 at 14:05", "2024-03-19T14:05:00+00:00"),
        ("First published on Mon 2 Oct 2023 10.42 BST", "2023-10-02T09:42:00+00:00"),
        ("Published 14 March 2024", "2024-03-14"),  # no time stated: the day alone
        ("Veröffentlicht am 16. Mai 2024, 09:30 Uhr", "2024-05-16T09:30:00+00:00"),
        ("Publié le 3 juin 2024 à 14h05", "2024-06-03T14:05:00+00:00"),
        ("Publicado el 7 de marzo de 2024", "2024-03-07"),
        ("Published 10:42", None),
        ("Published yesterday", None),
        ("Aktualisiert am 17. Mai 2024, 10:00 Uhr", None),  # an update, not the publication
    ],
)
def test_stated_published(line: str, day: str | None) -> None:
    assert stated_published(((line, "timestamp"),)) == day


GERMAN_PAGE = """Stadtrat verlängert die Straßenbahn bis zum Hafen

Veröffentlicht am 16. Mai 2024, 09:30 Uhr

Der Stadtrat hat am Dienstagabend mit großer Mehrheit beschlossen, die Straßenbahnlinie 4 bis \
zum neuen Hafenviertel zu verlängern. Die Bauarbeiten sollen am 1. März 2025 beginnen.

Nach Angaben der Verkehrsbetriebe werden auf der neuen Strecke fünf Haltestellen entstehen. \
Anwohner hatten seit Jahren eine bessere Anbindung gefordert.
"""

FRENCH_PAGE = """La ville prolonge le tramway jusqu'au port

Publié le 3 juin 2024 à 14h05

Le conseil municipal a voté mardi soir la prolongation de la ligne de tramway jusqu'au \
nouveau quartier du port. Les travaux doivent commencer au printemps prochain.

Selon la régie des transports, cinq nouvelles stations seront construites sur le tracé, \
et les habitants réclamaient depuis des années une meilleure desserte.
"""


@pytest.mark.parametrize(
    ("page", "published", "language"),
    [
        (GERMAN_PAGE, "2024-05-16T09:30:00+00:00", "de"),
        (FRENCH_PAGE, "2024-06-03T14:05:00+00:00", "fr"),
    ],
)
def test_stamps_in_other_languages(page: str, published: str, language: str) -> None:
    document = text_document(page)
    assert document.published == published
    assert document.language == language
    stamp = page.split("\n")[2]
    assert document.removed == ((stamp, "timestamp"),)
    assert stamp not in document.text


def test_a_date_in_the_article_text_is_never_the_publication_date() -> None:
    page = GERMAN_PAGE.replace("Veröffentlicht am 16. Mai 2024, 09:30 Uhr\n\n", "")
    assert "1. März 2025" in page
    document = text_document(page)
    assert document.published is None
    assert document.language == "de"


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
