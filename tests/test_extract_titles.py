"""Headlines of HTML pages chosen by agreement between printed headings and metadata."""

from __future__ import annotations

import re
import unicodedata

import pytest
from trafilatura.utils import load_html

from pipeline.extract.html import html_document
from pipeline.extract.titles import choose_title, loose

BODY = "".join(
    f"<p>Paragraph {i} of the report on the harbour barrier, long enough to be article text, "
    f"with the vote, the cost and the timetable of construction number {i}.</p>"
    for i in range(6)
)


def page(head: str, header: str, *, nav: str = "", teasers: str = "") -> str:
    return (
        f"<html lang='en'><head><meta charset='utf-8'>{head}</head><body>"
        f"<header class='site'><a href='/'>Coastal Herald</a></header>{nav}"
        f"<main><article>{header}<div class='body'>{BODY}</div></article>{teasers}</main>"
        "<footer>(c) Coastal Herald</footer></body></html>"
    )


def title_of(html: str) -> str | None:
    return choose_title(load_html(html))


def test_printed_h1_wins_over_shorter_social_wording() -> None:
    head = (
        "<title>Harbour council approves £40m flood barrier after decade of rows | Herald</title>"
        "<meta property='og:title' content='Harbour gets its flood barrier'>"
        "<meta name='twitter:title' content='Harbour gets its flood barrier'>"
    )
    html = page(head, "<h1>Harbour council approves £40m flood barrier after decade of rows</h1>")
    assert title_of(html) == "Harbour council approves £40m flood barrier after decade of rows"


def test_site_name_is_cut_from_title_when_nothing_else_is_printed() -> None:
    html = page("<title>Harbour council approves flood barrier - Coastal Herald</title>", "")
    assert title_of(html) == "Harbour council approves flood barrier"


def test_kicker_span_inside_h1_is_dropped_when_sources_agree_on_the_rest() -> None:
    head = (
        "<title>Storm season: Harbour council approves flood barrier - News - Herald</title>"
        "<meta property='og:title' content='Storm season: Harbour council approves flood barrier'>"
    )
    header = (
        "<h1><span class='overline'>Coastal defence</span>"
        "<span class='title'>Harbour council approves flood barrier</span></h1>"
    )
    assert title_of(page(head, header)) == "Harbour council approves flood barrier"


def test_kicker_and_headline_in_two_runs_take_the_stated_colon() -> None:
    """A kicker printed on its own line loses its colon in the DOM text; metadata keeps it."""
    wording = "Flood inquiry: Two resignations and many open questions"
    head = (
        f"<meta property='og:title' content='{wording}'>"
        f"<meta name='twitter:title' content='{wording}'><title>{wording} | Herald</title>"
    )
    header = (
        "<h1><span class='topline'>Flood inquiry</span>"
        "<span class='headline'>Two resignations and many open questions</span></h1>"
    )
    assert title_of(page(head, header)) == wording


def test_breadcrumb_h1_loses_to_the_headline_printed_over_the_article() -> None:
    seo = "Flood barrier: council votes 9-2 for the harbour gates"
    printed = "Portmere will get its harbour gates after all"
    head = (
        f"<meta property='og:title' content='{printed}'>"
        f"<meta name='twitter:title' content='{seo}'><title>{seo} | Herald</title>"
    )
    nav = (
        "<nav class='breadcrumb'><ol><li><a href='/news'>News</a></li>"
        f"<li><h1>{seo}</h1></li></ol></nav>"
    )
    header = f"<h2><span class='kicker'>Coast</span><span>{printed}</span></h2>"
    assert title_of(page(head, header, nav=nav)) == printed


def test_teaser_headings_in_links_and_asides_are_not_candidates() -> None:
    head = "<meta property='og:title' content='Harbour council approves flood barrier'>"
    teasers = (
        "<aside><h2>Lifeboat crew rescues kayaker off the headland</h2></aside>"
        "<a href='/x'><h2>Sea wall repairs delayed until the spring</h2></a>"
    )
    html = page(head, "<h1>Harbour council approves flood barrier</h1>", teasers=teasers)
    assert title_of(html) == "Harbour council approves flood barrier"


def test_printed_curly_quotes_win_over_straight_metadata() -> None:
    printed = "What a Crime Film Can Teach About Doing What’s Right"
    stated = "What a Crime Film Can Teach About Doing What's Right"
    head = f'<meta property="og:title" content="{stated}">'
    assert title_of(page(head, f"<h1>{printed}</h1>")) == printed


def test_json_ld_headline_counts_and_entities_are_decoded() -> None:
    head = (
        '<script type="application/ld+json">{"@graph": [{"@type": "NewsArticle", '
        '"headline": "Harbour&#8217;s barrier approved"}]}</script>'
        "<title>Harbour’s barrier approved | Herald</title>"
    )
    assert title_of(page(head, "")) == "Harbour’s barrier approved"


def test_site_name_glued_on_without_a_known_separator_is_cut_where_a_field_agrees() -> None:
    # No space before the dash, a fullwidth bar: no separator pattern splits these, but the
    # JSON-LD headline states the headline alone, and the others begin with it.
    glued = 'Harbour council approves "flood barrier"-Politics\uff5cCoastal Herald'
    head = (
        f"<title>{glued}</title><meta property='og:title' content='{glued}'>"
        f"<meta name='twitter:title' content='{glued}'>"
        '<script type="application/ld+json">'
        '{"@type": "NewsArticle", "headline": "Harbour council approves \\"flood barrier\\""}'
        "</script>"
    )
    assert title_of(page(head, "")) == 'Harbour council approves "flood barrier"'
    # A field that is only the first words of the others is not a cut: they state more.
    longer = "Harbour council approves flood barrier plan after decade of rows"
    head = (
        f"<title>{longer}</title><meta property='og:title' content='{longer}'>"
        f"<meta name='twitter:title' content='{longer}'>"
        '<script type="application/ld+json">'
        '{"@type": "NewsArticle", "headline": "Harbour council approves flood barrier"}'
        "</script>"
    )
    assert title_of(page(head, "")) == longer


def test_hidden_heading_is_not_printed() -> None:
    head = "<meta property='og:title' content='Harbour council approves flood barrier'>"
    header = (
        "<h1 class='sr-only'>Coastal Herald news from Portmere and the coast</h1>"
        "<h2>Harbour council approves flood barrier</h2>"
    )
    assert title_of(page(head, header)) == "Harbour council approves flood barrier"


def test_no_source_gives_the_fallback() -> None:
    assert choose_title(load_html(page("", "")), "from trafilatura") == "from trafilatura"


@pytest.mark.parametrize(
    ("a", "b"),
    [("Macron’s “plan”", "macron's plan"), ("Zwei Rücktritte - und", "zwei rücktritte und")],
)
def test_loose_ignores_punctuation_and_case(a: str, b: str) -> None:
    assert loose(a) == loose(b)


def test_html_document_uses_the_printed_headline_and_drops_it_from_text() -> None:
    head = "<title>Harbour council approves flood barrier | Coastal Herald</title>"
    document = html_document(page(head, "<h1>Harbour council approves flood barrier</h1>"))
    assert document.title == "Harbour council approves flood barrier"
    assert document.text.split("\n")[0].startswith("Paragraph 0 of the report")
    assert "Harbour council approves flood barrier" not in document.text


def test_loose_keeps_letters_and_digits_of_every_character() -> None:
    """loose() as defined: NFKC, casefold, then only letters and digits (regex \\w less "_")."""
    characters = [chr(code) for code in (*range(0x3100), *range(0xFE30, 0xFF70), 0x1D400)]
    texts = [f"Ab{c}cd {c}x\u00a0{c}_1" for c in characters] + ["".join(characters), ""]
    for text in texts:
        expected = re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text).casefold())
        assert loose(text) == expected, repr(text)
