"""page_meta gives the title, author, site name and description trafilatura's metadata gives."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml.html import tostring
from trafilatura.metadata import extract_metadata
from trafilatura.utils import load_html

from pipeline.extract.page_meta import PageMeta, page_meta

DEVSET = Path(__file__).resolve().parents[2] / "shared" / "devsets" / "fundus"
URL = "https://news.example.org/world/2026/harbour-bridge"

PAGES = {
    "meta tags": """<html><head><title>Bridge reopens | Example News</title>
<meta name="author" content="Ana Lima"><meta property="og:site_name" content="Example News">
<meta name="description" content="The harbour bridge reopened on Monday."></head>
<body><h1>Bridge reopens</h1><p>Text.</p></body></html>""",
    "one-word author is a handle": """<html><head><title>Bridge reopens</title>
<meta name="author" content="newsdesk"></head>
<body><p class="byline">By Jo Park</p></body></html>""",
    "JSON-LD": """<html><head><script type="application/ld+json">{"@context": "https://schema.org",
"@type": "NewsArticle",
"headline": "Ferry fares fall", "author": {"@type": "Person", "name": "Sam Ode"},
"publisher": {"@type": "Organization", "name": "Bay Times"}}</script></head>
<body><h1>Ferry fares fall</h1></body></html>""",
    "broken JSON-LD": """<html><head><title>Storm warning</title>
<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Storm, }</script>
</head><body><h1>Storm warning</h1></body></html>""",
    "site name with @ and lower case": """<html><head><title>Port strike</title>
<meta name="twitter:site" content="@porttimes"></head><body><h1>Port strike</h1></body></html>""",
    "no site name: the URL's host": """<html><head><title>Council vote</title></head>
<body><h1>Council vote</h1><p>Text.</p></body></html>""",
    "canonical link gives the URL": """<html><head><title>Rail plan</title>
<link rel="canonical" href="https://www.rail.example.com/plan"></head><body></body></html>""",
    "entities and spaces trimmed": """<html><head><title>  Caf&eacute;   prices
rise </title><meta name="description" content="  Up   5&#37; "></head><body></body></html>""",
}


def _trafilatura_fields(html: str, url: str | None) -> PageMeta:
    found = extract_metadata(load_html(html), url)
    return PageMeta(found.title, found.author, found.sitename, found.description)


@pytest.mark.parametrize("name", sorted(PAGES))
@pytest.mark.parametrize("url", [URL, None])
def test_same_fields_as_trafilatura(name: str, url: str | None) -> None:
    html = PAGES[name]
    assert page_meta(load_html(html), url) == _trafilatura_fields(html, url)


def test_the_cases_are_not_all_empty() -> None:
    """The page above each case names does give that field (a test of the test)."""
    fields = {name: page_meta(load_html(html), URL) for name, html in PAGES.items()}
    assert fields["meta tags"].author == "Ana Lima"
    assert fields["one-word author is a handle"].author != "newsdesk"
    assert fields["JSON-LD"] == PageMeta("Ferry fares fall", "Sam Ode", "Bay Times", None)
    assert fields["canonical link gives the URL"].sitename == "rail.example.com"
    assert fields["site name with @ and lower case"].sitename == "Porttimes"
    assert fields["no site name: the URL's host"].sitename == "news.example.org"
    assert fields["entities and spaces trimmed"].title == "Café prices rise"


def test_the_tree_is_left_as_it_was() -> None:
    tree = load_html(PAGES["meta tags"])
    before = tostring(tree)
    page_meta(tree, URL)
    assert tostring(tree) == before


@pytest.mark.skipif(
    not DEVSET.is_dir(),
    reason=f"dev set not found at {DEVSET} (the shared devsets folder beside the repo)",
)
def test_same_fields_on_real_pages_and_their_trees_untouched() -> None:
    paths = sorted(DEVSET.glob("*.html"))
    assert len(paths) >= 100
    differ = []
    for path in paths:
        html = path.read_text(encoding="utf-8")
        tree = load_html(html)
        before = tostring(tree)
        if page_meta(tree, URL) != _trafilatura_fields(html, URL) or tostring(tree) != before:
            differ.append(path.name)
    assert differ == []
