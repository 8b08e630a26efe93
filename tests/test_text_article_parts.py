"""Plain text: the article's own short parts survive (fact lists, list headings, closing credits),
and the furniture around a short article is named in the dev set's languages.

The pages here are short, lightly furnished articles written for these tests, with the kinds the
line model scores weakest: unbulleted "label: value" facts, the heading over a list, a credit line
that closes the article, "read also" insets in other languages, strips of section names over the
headline.
"""

from __future__ import annotations

import pytest

from pipeline.extract.furniture import Line, line_kind, load_rules
from pipeline.extract.line_features import FeatureCache, page_features
from pipeline.extract.line_model import date_and_time, is_light, load_model, section_strip
from pipeline.extract.text import _stamp_like, clean_plain_text, rule_kinds
from pipeline.extract.text_lists import ARTICLE_INSET, _is_fact, fact_list_lines, restore_lists

HEADLINE = "Harbour authority orders two electric ferries for the island route"
LEAD = (
    "The harbour authority has ordered two battery-powered ferries for the crossing to the "
    "islands, replacing diesel boats that have served the route since 1998, it said on Monday."
)
MIDDLE = "The boats will be built in the north of the country and charged at both ends."
LATER = "Ticket prices will not change, the authority said, although timetables will be revised."
LAST = "The first ferry is due to enter service in the spring of 2028."
SPECS = [
    ("Length", "68 metres"),
    ("Passengers", "300"),
    ("Cars", "60"),
    ("Battery", "4.5 MWh"),
    ("Top speed", "14 knots"),
    ("Crew", "6"),
]
TOP = ["Skip to main content", "News / Regions / Transport", "Updated 14:02 GMT"]
BOTTOM = ["Share this article", "Most read"]


def _page(*middle: str, closing: tuple[str, ...] = ()) -> str:
    return "\n".join([*TOP, HEADLINE, LEAD, MIDDLE, *middle, LATER, LAST, *closing, *BOTTOM])


def test_an_unbulleted_fact_list_and_its_heading_are_article_text() -> None:
    facts = ["The boats at a glance", "Length: 68 metres", "Passengers: 300", "Cars: 60"]
    cleaned = clean_plain_text(_page(*facts))
    assert cleaned.title == HEADLINE
    assert cleaned.lines == (LEAD, MIDDLE, *facts, LATER, LAST)
    assert {line for line, _ in cleaned.removed} == {*TOP, *BOTTOM}


def test_a_dated_fact_under_the_headline_is_not_taken_for_a_stamp() -> None:
    """A one-word heading and a year in a list of figures right under the headline are the
    article's, not a byline and a date stamp; two stamps in fact form stay stamps."""
    facts = ["Specifications", "Length: 68 metres", "Passengers: 300", "In service: 2028"]
    text = "\n".join([*TOP, HEADLINE, LEAD, *facts, MIDDLE, LATER, LAST, *BOTTOM])
    cleaned = clean_plain_text(text)
    assert cleaned.lines == (LEAD, *facts, MIDDLE, LATER, LAST)
    stamps = ["Published: 3 May 2026", "Updated: 4 May 2026 09:12"]
    lines = [Line.make(line, 0) for line in [LEAD, *facts[1:], MIDDLE, *stamps]]
    assert fact_list_lines(lines) == {1, 2, 3}


@pytest.mark.parametrize(
    ("text", "stamp"),
    [
        ("Chuck Ross", True),
        ("Von Jan Kixmüller", True),
        ("06.11.2025, 21:00 Uhr", True),
        ("Specifications", False),  # one capitalised word: a heading, not a byline's names
        ("Ankara", False),  # a dateline the article's first paragraph belongs to
    ],
)
def test_what_reads_as_a_byline_or_stamp_under_a_headline(text: str, stamp: bool) -> None:
    assert _stamp_like(Line.make(text, 0)) is stamp


def test_a_bulleted_list_keeps_its_heading_past_a_read_also_inset() -> None:
    listed = ["What changes", "- Two crossings an hour", "- Night boats on Fridays"]
    inset = "Read also: Island schools to share one head teacher"
    cleaned = clean_plain_text(_page(*listed, inset))
    assert cleaned.lines == (LEAD, MIDDLE, *listed, LATER, LAST)
    assert dict(cleaned.removed)[inset] == "related-article link"


@pytest.mark.parametrize(
    "credit",
    [
        "Reporting by Ana Ruiz; Editing by Tom Hale",
        "Additional reporting by Lena Ortiz",
        "With files from The Canadian Press",
        "Mit Material von dpa und AFP",
        "Avec AFP",
        "Con información de EFE y Europa Press",
        "(Reporting by Ana Ruiz; Editing by Tom Hale)",
    ],
)
def test_a_closing_credit_stays_with_the_article(credit: str) -> None:
    cleaned = clean_plain_text(_page(closing=(credit,)))
    assert cleaned.title == HEADLINE
    assert cleaned.lines == (LEAD, MIDDLE, LATER, LAST, credit)


def test_kinds_a_list_is_put_back_from_only_inside_the_article() -> None:
    """Restoring works on the model's verdicts: only "article inset" runs between article lines,
    and never a run of teasers ("kicker: headline") or of named furniture."""
    texts = [
        LEAD,
        "Key figures",
        "Budget: 90 million euros",
        "Length: 450 metres",
        MIDDLE,
        "Iran war: US loses one of its most valuable spy planes",
        "Transit strike: Unions call a second day of action next week",
        LATER,
        "Price: 40 euros",
        "Weight: 3 kg",
    ]
    lines = [Line.make(text, 0) for text in texts]
    kinds: list[str | None] = [None, *[ARTICLE_INSET] * 3, None, ARTICLE_INSET, ARTICLE_INSET]
    kinds += [None, "page footer", "page footer"]
    restored = restore_lists(lines, kinds, [False] * len(texts), fact_list_lines(lines))
    assert restored == {1, 2, 3}
    assert kinds[5:7] == [ARTICLE_INSET, ARTICLE_INSET]  # teasers stay out
    assert kinds[8:] == ["page footer", "page footer"]  # below the article: not enclosed
    # A list the model kept in part is the article's whole; one a rule named part of is not.
    kinds = [None, ARTICLE_INSET, None, ARTICLE_INSET, None, *[ARTICLE_INSET] * 2, None]
    assert restore_lists(lines[:8], kinds, [False] * 8, fact_list_lines(lines[:8])) == {1, 3}
    kinds = [None, ARTICLE_INSET, "timestamp", ARTICLE_INSET, None]
    named = [False, False, True, False, False]
    assert restore_lists(lines[:5], kinds, named, fact_list_lines(lines[:5])) == set()


def test_a_short_article_with_a_long_list_is_lightly_furnished() -> None:
    """List items do not count against a page's prose: a spec sheet is not a page of menus."""
    facts = [f"{label}: {value}" for label, value in SPECS]
    text = "\n".join([HEADLINE, LEAD, *facts, MIDDLE, LATER])
    lines, kinds = rule_kinds(text)
    features = page_features(lines, kinds, FeatureCache())
    assert is_light(lines, kinds, features, load_model(), fact_list_lines(lines))
    menus = "\n".join([HEADLINE, LEAD, *(label for label, _ in SPECS), MIDDLE, LATER])
    lines, kinds = rule_kinds(menus)
    features = page_features(lines, kinds, FeatureCache())
    assert not is_light(lines, kinds, features, load_model(), fact_list_lines(lines))


@pytest.mark.parametrize(
    ("text", "fact"),
    [
        ("Battery: 5,100 mAh", True),
        ("Dust bin: 0.4 litres", True),
        ("Umsatz 2025: 4,1 Milliarden Euro", True),
        ("Shots on target: 9 - 6", True),
        ("Colour: midnight blue", True),
        ("45:47", False),  # a clock, not a label
        ("Vandaag om 20:07", False),  # a time stamp
        ("Papst-Streit: Meloni stellt sich gegen Trump", False),  # a kicker and a headline
        ("Fire service: 60 more crews on the way? | audio", False),  # a teaser with a bar
        ("Key figures:", False),  # a heading
        ("The figures released on Monday by the statistics office: 4%", False),  # long label
    ],
)
def test_what_counts_as_a_fact_line(text: str, fact: bool) -> None:
    assert _is_fact(Line.make(text, 0)) is fact


READ_ALSO = [
    "Lire aussi : Les trains régionaux supprimés faute de conducteurs",
    "À lire également : Pénuries de médicaments, la liste s'allonge",
    "Lesen Sie auch: Warum die Zulieferer unter Druck stehen",
    "Mehr zum Thema",
    "Leggi anche: Le librerie che resistono in città",
    "Lee también: Las urgencias pediátricas, al límite",
    "Leia também: O preço do pão volta a subir",
    "Lees ook: Storingen op het spoor nemen toe",
    "Läs också: Västtrafik höjer priserna igen",
    "Les også: Strømprisen stiger igjen",
    "Czytaj także: Nauczyciele chcą wyższych podwyżek",
    "Lue myös: Junaliikenne katkeaa viikonloppuna",
]


@pytest.mark.parametrize("line", READ_ALSO)
def test_read_also_insets_are_named_in_the_dev_sets_languages(line: str) -> None:
    assert line_kind(Line.make(line, 0), load_rules()) == "related-article link"
    cleaned = clean_plain_text(_page(line))
    assert dict(cleaned.removed)[line] == "related-article link"
    assert cleaned.lines == (LEAD, MIDDLE, LATER, LAST)


@pytest.mark.parametrize(
    "text",
    [
        "Accueil / Économie / Entreprises",
        "Nachrichten · Wirtschaft · Unternehmen",
        "Ísland › Fréttir",
    ],
)
def test_section_strips_with_accented_names_are_breadcrumbs(text: str) -> None:
    assert line_kind(Line.make(text, 0), load_rules()) == "breadcrumb"


@pytest.mark.parametrize(
    ("text", "strip"),
    [
        ("Accueil / Économie / Entreprises", True),
        ("Sport | Football | Premier League", True),
        ("Kyiv | Talks resume after weeks of shelling", False),
        ("Home > World > Russia hits Kyiv with missiles for a third night", False),
        ("Left / right", False),
    ],
)
def test_a_strip_of_section_names_is_never_a_headline_candidate(text: str, strip: bool) -> None:
    assert section_strip(text) is strip


@pytest.mark.parametrize(
    ("text", "stamp"),
    [
        ("Dec 3, 2026 | 14:05 EST", True),
        ("03.12.2026, 08:12 Uhr", True),
        ("Markets close higher on 3 December 2026 after a volatile week", False),
        ("Rovers beat City 5-3 in eight-goal thriller", False),
    ],
)
def test_a_date_and_a_time_in_a_few_words_is_never_a_headline(text: str, stamp: bool) -> None:
    assert date_and_time(Line.make(text, 0)) is stamp


def test_the_headline_under_a_strip_a_ticker_and_a_skip_link_is_found() -> None:
    top = [
        "Aller au contenu principal",
        "Accueil / Économie / Entreprises",
        "En direct : suivez la grève dans les transports",
    ]
    body = [
        "La compagnie va recruter 2 000 conducteurs de train l'an prochain pour faire face au "
        "départ à la retraite d'une génération d'agents, a annoncé mercredi son président.",
        "L'entreprise prévoit aussi d'ouvrir deux nouveaux centres de formation régionaux.",
        "Les syndicats jugent l'effort insuffisant et rappellent que plusieurs lignes ont été "
        "suspendues faute de personnel cet automne.",
    ]
    headline = "La compagnie annonce 2 000 recrutements de conducteurs en 2027"
    cleaned = clean_plain_text("\n".join([*top, headline, *body, "Partager sur Facebook"]))
    assert cleaned.title == headline
    assert cleaned.lines == tuple(body)
    assert dict(cleaned.removed) == {
        top[0]: "skip link",
        top[1]: "breadcrumb",
        top[2]: "live ticker",
        "Partager sur Facebook": "site footer",
    }
