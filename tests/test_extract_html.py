"""html_document and extract_document on realistic, mis-encoded and hostile pages."""

from __future__ import annotations

import codecs
import gzip
import logging
import random

import pytest

from pipeline.extract.document import extract_document
from pipeline.extract.html import html_document
from pipeline.extract.model import ExtractionError
from pipeline.extract.stated_dates import stated_date

URL = "https://herald.example.com/2023/05/01/harbour-flood-barrier"

PARAGRAPHS = [
    "Councillors in Portmere voted nine to two on Thursday evening to build a tidal barrier across "
    "the harbour mouth, ending a decade of argument over how to protect the old town from storms.",
    "The £40m scheme, which still needs approval from the national Environment Agency, would see a "
    "pair of steel gates close automatically when the sea rises above a set height during surges.",
    "“We have sandbagged the same streets eleven times in six years,” said council leader Anita "
    "Rowe. “Residents have told us, again and again, that they cannot keep living like this.”",
    "Opponents argued that the barrier would change the flow of water in the estuary and damage "
    "the mudflats that support thousands of wading birds each winter, a concern of two charities.",
    "Engineers said that the gates would remain open for more than ninety-five percent of the year "
    "and that the design had been modelled against a century of tidal records from the port.",
    "Construction could begin in 2025 if the national agency approves the plan, with completion "
    "expected within three years, according to the council's published timetable for the project.",
]
TITLE = "Harbour council approves £40m flood barrier plan"
FURNITURE = [
    "Friday, September 22, 2023",
    "14.8 C Cloudy",
    "Sport",
    "- Advertisement -",
    "Also Read: Storm floods harbour car park for third time",
    "Sea wall repairs delayed until spring",
    "About time! My cellar has flooded every winter since I moved here in 2015.",
    "Trending Today",
    "Lifeboat crew rescues kayaker off headland",
    "All rights reserved",
    "Privacy policy",
    "Subscribe to our newsletter",
]

HEAD_META = """
<meta name="description" content="Councillors voted 9-2 to build a tidal barrier.">
<meta property="og:title" content="Harbour council approves £40m flood barrier plan">
<meta property="og:site_name" content="The Coastal Herald">
<meta property="article:published_time" content="2023-09-21T18:30:00+01:00">
<meta property="article:modified_time" content="2023-09-22T09:05:00+01:00">
<meta name="author" content="Maria Jensen">
<link rel="canonical" href="/news/harbour-flood-barrier">
"""
JSON_LD = """<script type="application/ld+json">
{"@context": "https://schema.org", "@graph": [{"@type": "WebPage", "name": "x"},
 {"@type": "NewsArticle", "headline": "Harbour council approves £40m flood barrier plan",
  "datePublished": "2023-09-20T07:00:00Z", "dateModified": "2023-09-22T09:05:00Z",
  "author": {"@type": "Person", "name": "Maria Jensen"},
  "publisher": {"@type": "Organization", "name": "The Coastal Herald"}}]}
</script>"""


def news_page(
    *, head: str = HEAD_META, lang: str = "en-GB", charset: str = "utf-8", byline_time: bool = True
) -> str:
    """A news article page with header, nav, ads, related links, comments, trending and footer."""
    body = "\n".join(f"<p>{p}</p>" for p in PARAGRAPHS[:3])
    rest = "\n".join(f"<p>{p}</p>" for p in PARAGRAPHS[3:])
    when = (
        '<time datetime="2023-09-21T18:30" class="published">21 Sep</time>' if byline_time else ""
    )
    meta_charset = f'<meta charset="{charset}">' if charset else ""
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head>{meta_charset}
<title>{TITLE} | The Coastal Herald</title>{head}
<script>window.dataLayer = window.dataLayer || []; function t(){{dataLayer.push(1);}}</script>
<style>.ad-slot{{min-height:250px}}</style></head>
<body>
<header class="site-header"><div class="date-bar">Friday, September 22, 2023</div>
<div class="weather">14.8 C Cloudy</div>
<nav class="main-nav"><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>
<li><a href="/sport">Sport</a></li><li><a href="/business">Business</a></li></ul></nav></header>
<main><article class="story"><h1 class="headline">{TITLE}</h1>
<div class="byline">By <span class="author">Maria Jensen</span> {when}</div>
<div class="ad-slot advertisement">- Advertisement -</div>
<div class="story-body">{body}
<aside class="related"><h3>Related</h3><ul>
<li><a href="/news/storm">Also Read: Storm floods harbour car park for third time</a></li>
<li><a href="/news/sea-wall">Sea wall repairs delayed until spring</a></li></ul></aside>
<div class="ad-slot advertisement">- Advertisement -</div>
{rest}</div></article>
<section id="comments" class="comments"><h2>Comments (2)</h2>
<div class="comment"><p class="comment-author">sailor_joe</p>
<p>About time! My cellar has flooded every winter since I moved here in 2015.</p></div></section>
<section class="trending"><h2>Trending Today</h2><ol>
<li><a href="/a">Lifeboat crew rescues kayaker off headland</a></li></ol></section></main>
<footer class="site-footer"><p>© 2023 The Coastal Herald. All rights reserved.</p>
<ul><li><a href="/privacy">Privacy policy</a></li><li><a href="/terms">Terms of use</a></li></ul>
<p>Subscribe to our newsletter for the latest local news every morning.</p></footer>
</body></html>"""


def test_news_article_text_and_metadata() -> None:
    doc = html_document(news_page(), url=URL)
    assert doc.source_kind == "html"
    assert doc.text.split("\n") == PARAGRAPHS
    for line in FURNITURE:
        assert line not in doc.text
    assert doc.title == TITLE
    assert TITLE not in doc.text
    assert doc.author == "Maria Jensen"
    # article:published_time 2023-09-21T18:30:00+01:00: the time kept, in UTC
    assert doc.published == "2023-09-21T17:30:00+00:00"
    assert doc.site == "The Coastal Herald"
    assert doc.description == "Councillors voted 9-2 to build a tidal barrier."
    assert doc.language == "en"
    assert doc.canonical_url == "https://herald.example.com/news/harbour-flood-barrier"


def test_json_ld_news_article_gives_date_and_author() -> None:
    doc = html_document(news_page(head=JSON_LD, byline_time=False), url=URL)
    assert doc.published == "2023-09-20T07:00:00+00:00"
    assert doc.author == "Maria Jensen"
    assert doc.canonical_url is None


def test_no_stated_date_gives_none_not_url_or_today() -> None:
    # The URL holds 2023/05/01 and the header shows a date bar; neither is a publication date.
    head = '<meta property="article:modified_time" content="2023-09-22T09:05:00+01:00">'
    doc = html_document(news_page(head=head, byline_time=False), url=URL)
    assert doc.published is None
    assert doc.text.split("\n") == PARAGRAPHS


def test_broken_json_ld_date_is_still_read() -> None:
    head = '<script type="application/ld+json">{"datePublished": "2021-03-04",}</script>'
    assert html_document(news_page(head=head, byline_time=False)).published == "2021-03-04"


def test_time_element_in_article_is_a_stated_date() -> None:
    # <time datetime="2023-09-21T18:30">: no offset stated, taken as UTC
    assert html_document(news_page(head="")).published == "2023-09-21T18:30:00+00:00"


def test_published_time_with_an_offset_is_stored_in_utc() -> None:
    head = '<meta property="article:published_time" content="2024-05-14T11:30:00+02:00">'
    doc = html_document(news_page(head=head, byline_time=False), url=URL)
    assert doc.published == "2024-05-14T09:30:00+00:00"


def test_a_worded_date_in_the_pages_language() -> None:
    head = '<meta name="date" content="16. Mai 2024, 09:30 Uhr">'
    doc = html_document(news_page(head=head, lang="de-DE", byline_time=False), url=URL)
    assert doc.language == "de"
    assert doc.published == "2024-05-16T09:30:00+00:00"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023-09-21T18:30:00+01:00", "2023-09-21T17:30:00+00:00"),
        ("2023-09-21T18:30:00.000-0500", "2023-09-21T23:30:00+00:00"),
        ("2023-09-21", "2023-09-21"),
        ("20230921", "2023-09-21"),
        ("Thu, 21 Sep 2023 18:30:00 GMT", "2023-09-21T18:30:00+00:00"),
        ("21 September 2023", "2023-09-21"),
        ("September 21, 2023 9:30 AM EDT", "2023-09-21T13:30:00+00:00"),
        ("2023-02-30", None),
        ("yesterday", None),
        ("3 hours ago 2023", None),
        ("May 2023", None),
        ("", None),
        ("1066-10-14", None),
    ],
)
def test_stated_date_values(value: str, expected: str | None) -> None:
    assert stated_date(value) == expected


@pytest.mark.parametrize(
    ("lang", "head", "expected"),
    [
        ("de-DE", "", "de"),
        ("", '<meta property="og:locale" content="fr_FR">', "fr"),
        ("", '<meta http-equiv="Content-Language" content="es">', "es"),
        ("", "", "en"),  # none declared: identified from the English article text
        ("not a language", "", "en"),
        ("fr", "", "fr"),  # the declared language wins over the identifier
    ],
)
def test_language(lang: str, head: str, expected: str | None) -> None:
    assert html_document(news_page(lang=lang, head=head)).language == expected


def test_bytes_input_uses_meta_charset() -> None:
    data = (
        news_page(charset="windows-1251")
        .replace(PARAGRAPHS[0], RUSSIAN)
        .encode("cp1251", "replace")
    )
    doc = html_document(data, url=URL)
    assert RUSSIAN in doc.text
    assert doc.encoding == "cp1251"


RUSSIAN = (
    "Правительство объявило в среду о реформе пенсионной системы. Министр заявила, что это "
    "решающий шаг для страны и её граждан, и что работы начнутся уже следующей весной."
)


def _cp1252_page(charset: str) -> bytes:
    return news_page(charset=charset).replace("£", "€").encode("cp1252")


@pytest.mark.parametrize("charset", ["", "utf-8"])
def test_cp1252_page_without_or_with_wrong_charset(charset: str) -> None:
    doc = extract_document(_cp1252_page(charset), url=URL, filename="story.html")
    assert doc.encoding == "cp1252"
    assert doc.text.split("\n")[2] == PARAGRAPHS[2]
    assert doc.title == TITLE.replace("£", "€")


def test_wrong_header_charset_loses_to_meta_that_decodes() -> None:
    data = (
        news_page(charset="windows-1251")
        .replace(PARAGRAPHS[0], RUSSIAN)
        .encode("cp1251", "replace")
    )
    doc = extract_document(data, url=URL, content_type="text/html; charset=utf-8")
    assert RUSSIAN in doc.text
    assert doc.encoding == "cp1251"


def test_windows_1251_without_declaration() -> None:
    page = news_page(charset="", lang="ru").replace(PARAGRAPHS[0], RUSSIAN)
    doc = extract_document(page.encode("cp1251", "replace"), url=URL)
    assert RUSSIAN in doc.text
    assert doc.encoding == "cp1251"


@pytest.mark.parametrize(
    ("bom", "codec", "expected"),
    [
        (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
    ],
)
def test_bom_pages(bom: bytes, codec: str, expected: str) -> None:
    data = bom + news_page(charset="").encode(codec)
    doc = extract_document(data, url=URL, filename="story.txt")
    assert doc.source_kind == "html"
    assert doc.encoding == expected
    assert doc.text.split("\n") == PARAGRAPHS
    assert doc.title == TITLE


MALFORMED = [
    "<html><body><div><p>" + PARAGRAPHS[0] + "<p>" + PARAGRAPHS[1] + "<div><span><b>",
    "<p>" + PARAGRAPHS[0] + "</p><p>" + PARAGRAPHS[1] + "</p>",
    "<html><head><title>x</title></head>" + "".join(f"<p>{p}</p>" for p in PARAGRAPHS),
    "<html><body>" + PARAGRAPHS[0] + "\x00\x01\x02\ufffd\x1b" + "<p>" + PARAGRAPHS[1] + "</p>",
    "<html><body><table><tr><td><p>" + PARAGRAPHS[0] + "</td></tr></tabel></p></body>",
]


@pytest.mark.parametrize("markup", MALFORMED)
def test_malformed_html_still_yields_text(markup: str) -> None:
    doc = html_document(markup)
    assert PARAGRAPHS[0] in doc.text


@pytest.mark.parametrize(
    "markup",
    [
        "<script>var a = 1; document.write('hello');</script>",
        "<html><head><title>Only a title</title></head></html>",
        "<html><body></body></html>",
        "<html><body><nav><a href='/'>Home</a></nav></body></html>",
        "<<<>>>&&&",
        "",
        "\x00\x00\x00",
    ],
)
def test_html_without_article_text_raises(markup: str) -> None:
    with pytest.raises(ExtractionError, match="no article text found in HTML"):
        html_document(markup)


def test_binary_junk_inside_html_does_not_crash() -> None:
    junk = random.Random(11).randbytes(20000).decode("latin-1")
    page = news_page().replace("<main>", f"<div class='x'>{junk}</div><main>")
    doc = html_document(page)
    assert PARAGRAPHS[0] in doc.text


def test_huge_page() -> None:
    filler = "".join(
        f"<p>Paragraph {i} of the harbour report, with enough words to be a paragraph.</p>\n"
        for i in range(15000)
    )
    page = news_page().replace(f"<p>{PARAGRAPHS[3]}</p>", filler + f"<p>{PARAGRAPHS[3]}</p>")
    data = page.encode()
    assert len(data) > 1_000_000
    doc = extract_document(data, url=URL)
    lines = doc.text.split("\n")
    assert lines[:3] == PARAGRAPHS[:3]
    assert lines[-1] == PARAGRAPHS[-1]
    assert len(lines) == 15000 + len(PARAGRAPHS)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"  \n\t\r\n \xc2\xa0 ", "empty file"),
        (codecs.BOM_UTF16_LE + "   \n".encode("utf-16-le"), "empty file"),
        (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>", "binary content: looks like PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary content: looks like PNG"),
        (gzip.compress(b"<html><body><p>x</p></body></html>"), "binary content: looks like gzip"),
        (random.Random(5).randbytes(2048), "binary content"),
    ],
)
def test_extract_document_refuses_bad_input(data: bytes, reason: str) -> None:
    with pytest.raises(ExtractionError, match=reason):
        extract_document(data, url=URL, filename="story.html", content_type="text/html")


@pytest.mark.parametrize(
    ("content_type", "data_type"),
    [
        ("application/json; charset=utf-8", "application/json"),
        ("application/ld+json", "application/ld+json"),
        ("text/javascript", "text/javascript"),
        ("text/css", "text/css"),
        ("application/rss+xml", "application/rss+xml"),
        ("text/csv", "text/csv"),
    ],
)
def test_data_served_as_such_is_not_article_text(content_type: str, data_type: str) -> None:
    prose = " ".join(PARAGRAPHS).encode()  # would pass as a plain-text article
    with pytest.raises(ExtractionError) as raised:
        extract_document(prose, url=URL, content_type=content_type)
    assert str(raised.value) == f"not article text: {data_type} content"
    # Unmistakable HTML behind a data type is still a page; text/plain stays text.
    assert extract_document(news_page().encode(), url=URL, content_type="text/xml").title
    assert extract_document(prose, url=URL, content_type="text/plain").source_kind == "text"


def test_trafilatura_logger_is_quiet() -> None:
    assert logging.getLogger("trafilatura").getEffectiveLevel() >= logging.WARNING


# Dispatch to the plain-text cleaner (pipeline/extract/text.py, written separately).

PLAIN = "\n".join([TITLE, "", *PARAGRAPHS]) + "\n"


def test_plain_text_goes_to_text_document() -> None:
    pytest.importorskip("pipeline.extract.text")
    doc = extract_document(PLAIN.encode("cp1252"), url=URL, filename="story.txt")
    assert doc.source_kind == "text"
    assert doc.encoding == "cp1252"
    assert PARAGRAPHS[1] in doc.text


def test_html_named_file_holding_text_is_text() -> None:
    pytest.importorskip("pipeline.extract.text")
    doc = extract_document(PLAIN.encode(), url=URL, filename="story.html", content_type="text/html")
    assert doc.source_kind == "text"
    assert PARAGRAPHS[0] in doc.text


def test_txt_file_holding_html_is_html() -> None:
    doc = extract_document(news_page().encode(), url=URL, filename="story.txt")
    assert doc.source_kind == "html"
    assert doc.text.split("\n") == PARAGRAPHS
