"""Sitemaps as sites write them: extensions nesting their own locs, cut-off files, text lists,
feeds used as sitemaps, robots.txt lines, Google News dates; and the date window."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta, timezone

import pytest

from spiders.date_window import DateWindow, crawl_window
from spiders.entry_dates import parse_entry_date
from spiders.sitemap_entries import SitemapError, read_sitemap, sitemap_urls_from_robots
from spiders.web_common import ArgumentError

SITEMAP_URL = "http://news.test/sitemaps/news.xml"
URLSET = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
    'xmlns:image="http://www.google.com/schemas/sitemap-image/1.1" '
    'xmlns:video="http://www.google.com/schemas/sitemap-video/1.1" '
    'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9" '
    'xmlns:xhtml="http://www.w3.org/1999/xhtml">'
)


def urlset(*urls: str) -> bytes:
    return (URLSET + "".join(urls) + "</urlset>").encode()


def test_only_the_loc_of_the_url_is_an_entry_never_nested_media_locs() -> None:
    body = urlset(
        "<url><image:image><image:loc>http://img.test/1.jpg</image:loc></image:image>"
        "<loc>http://news.test/a.html</loc>"
        "<image:image><image:loc>http://img.test/2.jpg</image:loc></image:image></url>",
        "<url><loc>http://news.test/b.html</loc><video:video>"
        "<video:content_loc>http://vid.test/b.mp4</video:content_loc>"
        "<video:player_loc>http://vid.test/player</video:player_loc></video:video>"
        '<xhtml:link rel="alternate" hreflang="de" href="http://news.test/de/b.html"/></url>',
    )
    document = read_sitemap(body, SITEMAP_URL)
    assert [entry.loc for entry in document.entries] == [
        "http://news.test/a.html",
        "http://news.test/b.html",
    ]
    assert document.problem is None and document.warning is None


def test_news_dates_keep_their_offset_and_lastmod_is_the_fallback() -> None:
    body = urlset(
        "<url><loc>http://news.test/a.html</loc><lastmod>2024-06-15</lastmod><news:news>"
        "<news:publication><news:name>G</news:name><news:language>en</news:language>"
        "</news:publication><news:publication_date>2024-05-14T23:30:00-05:00"
        "</news:publication_date><news:title>a</news:title></news:news></url>",
        "<url><loc>http://news.test/b.html</loc><lastmod>2024-05-13</lastmod></url>",
        "<url><loc>http://news.test/c.html</loc><lastmod>Tue, 14 May 2024 08:00:00 GMT</lastmod>"
        "</url>",
        "<url><loc>http://news.test/d.html</loc><lastmod>last week</lastmod></url>",
    )
    a, b, c, d = read_sitemap(body, SITEMAP_URL).entries
    assert a.when == datetime(2024, 5, 14, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert b.when == datetime(2024, 5, 13, tzinfo=UTC)
    assert c.when == datetime(2024, 5, 14, 8, 0, tzinfo=UTC)
    assert d.when is None  # unreadable: kept, undated


def test_a_sitemap_cut_off_mid_url_keeps_its_complete_entries_only() -> None:
    whole = urlset(*(f"<url><loc>http://news.test/{n}.html</loc></url>" for n in range(3)))
    cut = whole[: whole.index(b"/2.html")]  # inside the third loc: "http://news.test"
    document = read_sitemap(cut, SITEMAP_URL)
    assert [entry.loc for entry in document.entries] == [
        "http://news.test/0.html",
        "http://news.test/1.html",
    ]
    assert document.problem is not None and "cut off" in document.problem
    assert "2 complete entries" in document.problem
    # cut inside the closing tag: the loc looks whole, but nothing says the entry is
    inside_close = whole[: whole.index(b"</url>", whole.index(b"/2.html")) + 4]
    assert len(read_sitemap(inside_close, SITEMAP_URL).entries) == 2
    after_url = whole[: whole.index(b"</urlset>")]
    document = read_sitemap(after_url, SITEMAP_URL)
    assert len(document.entries) == 3 and "cut off" in (document.problem or "")


def test_a_cut_off_gzip_sitemap_keeps_what_inflates_to_complete_entries() -> None:
    whole = urlset(*(f"<url><loc>http://news.test/{n}.html</loc></url>" for n in range(400)))
    packed = gzip.compress(whole, mtime=0)
    document = read_sitemap(packed[: len(packed) // 2], SITEMAP_URL + ".gz")
    assert 0 < len(document.entries) < 400
    assert document.entries[-1].loc == f"http://news.test/{len(document.entries) - 1}.html"
    assert (document.problem or "").startswith("broken gzip sitemap: truncated")


def test_entries_without_a_usable_loc_are_skipped_and_counted() -> None:
    body = urlset(
        "<url><lastmod>2024-05-14</lastmod></url>",
        "<url><loc>http://[news.test/broken</loc></url>",
        "<url><loc>  http://news.test/ok.html\n</loc></url>",
    )
    document = read_sitemap(body, SITEMAP_URL)
    assert [entry.loc for entry in document.entries] == ["http://news.test/ok.html"]
    assert document.warning == "2 entries without a usable <loc> skipped"


def test_a_bare_ampersand_does_not_eat_the_query() -> None:
    body = urlset("<url><loc>http://news.test/s?id=4&lang=en&amp;x=1</loc></url>")
    (entry,) = read_sitemap(body, SITEMAP_URL).entries
    assert entry.loc == "http://news.test/s?id=4&lang=en&x=1"


def test_bad_markup_mid_document_is_read_in_recovery_mode() -> None:
    body = urlset(
        "<url><loc>http://news.test/1.html</loc></url>",
        "<url><loc>http://news.test/2.html</loc><priority>0.5</url>",  # unclosed <priority>
        "<url><loc>http://news.test/3.html</loc></url>",
    )
    document = read_sitemap(body, SITEMAP_URL)
    assert sorted(entry.loc for entry in document.entries) == [
        f"http://news.test/{n}.html" for n in (1, 2, 3)
    ]
    assert document.problem is None and "recovery" in (document.warning or "")


def test_html_entities_become_characters_unknown_ones_stay_text() -> None:
    body = urlset(
        "<url><loc>http://news.test/caf&eacute;.html</loc></url>",
        "<url><loc>http://news.test/a&nosuch;</loc></url>",
    )
    document = read_sitemap(body, SITEMAP_URL)
    assert [entry.loc for entry in document.entries] == [
        "http://news.test/café.html",
        "http://news.test/a&nosuch;",  # the ";" too
    ]
    assert document.warning is None


def test_indented_declaration_relative_locs_and_index() -> None:
    body = (
        b'\xef\xbb\xbf\n   <?xml version="1.0"?>'
        b'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<sitemap><loc>/sitemaps/2024-05.xml</loc><lastmod>2024-06-15</lastmod></sitemap>"
        b"</sitemapindex>"
    )
    document = read_sitemap(body, SITEMAP_URL)
    assert document.kind == "sitemapindex"
    assert document.entries[0].loc == "http://news.test/sitemaps/2024-05.xml"


def test_plain_text_sitemap() -> None:
    body = b"\xef\xbb\xbfhttp://news.test/a.html\r\n\r\n  https://news.test/b.html  \r\n"
    document = read_sitemap(body, SITEMAP_URL)
    assert document.kind == "text" and document.problem is None
    assert [e.loc for e in document.entries] == [
        "http://news.test/a.html",
        "https://news.test/b.html",
    ]
    mixed = read_sitemap(b"http://news.test/a.html\nnot a url\nftp://x/y\n", SITEMAP_URL)
    assert [e.loc for e in mixed.entries] == ["http://news.test/a.html"]
    assert "2 line(s) of the text sitemap are not http(s) URLs" in (mixed.problem or "")
    assert "line 2: 'not a url'" in (mixed.problem or "")
    with pytest.raises(SitemapError, match="neither XML nor a list of http"):
        read_sitemap(b"User-agent: *\nDisallow: /\n", SITEMAP_URL)


def test_rss_and_atom_used_as_sitemaps() -> None:
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><link>/news/a.html</link><pubDate>Tue, 14 May 2024 08:00:00 GMT</pubDate></item>
</channel></rss>"""
    document = read_sitemap(rss, SITEMAP_URL, "application/rss+xml")
    assert document.kind == "feed"
    assert [(e.loc, e.when) for e in document.entries] == [
        ("http://news.test/news/a.html", datetime(2024, 5, 14, 8, tzinfo=UTC))
    ]
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<entry><id>1</id><link href="http://news.test/b.html"/></entry></feed>"""
    assert read_sitemap(atom, SITEMAP_URL).entries[0].loc == "http://news.test/b.html"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html><body>Not found</body></html>", "root element is 'html'"),
        (b"   \n", "the document is empty"),
        (urlset()[:20], "not XML"),
    ],
)
def test_unusable_documents_raise_with_reason(body: bytes, message: str) -> None:
    with pytest.raises(SitemapError, match=message):
        read_sitemap(body, SITEMAP_URL)


def test_robots_sitemap_lines_in_any_spelling() -> None:
    body = (
        b"User-agent: *\nDisallow: /private/\n"
        b"Sitemap: http://news.test/sitemap_index.xml\n"
        b"site-map: /sitemap-news.xml   # the news one\n"
        b"SITEMAP : http://news.test/sitemap.txt\n"
        b"# Sitemap: http://news.test/commented-out.xml\n"
        b"sitemap: http://news.test/sitemap_index.xml\n"
    )
    assert sitemap_urls_from_robots(body, "http://news.test/robots.txt") == [
        "http://news.test/sitemap_index.xml",
        "http://news.test/sitemap-news.xml",
        "http://news.test/sitemap.txt",
    ]


# -- the date window ----------------------------------------------------------------------


def at(text: str) -> datetime | None:
    return parse_entry_date(text)


def test_day_bounds_are_inclusive_whole_utc_days() -> None:
    may = DateWindow.parse("2024-05-01", "2024-05-14")
    assert may.contains(at("2024-05-14T09:30:00Z"))
    assert may.contains(at("2024-05-14T23:59:59.999999Z"))
    assert not may.contains(at("2024-05-14T23:30:00-05:00"))  # 04:30 UTC on the 15th
    assert not may.contains(at("2024-05-15T00:00:00+00:00"))
    assert may.contains(at("2024-05-01T00:00:00Z"))
    assert not may.contains(at("2024-05-01T08:00:00+09:00"))  # 23:00 UTC on April 30
    assert may.contains(at("2024-05-01T08:00:00+08:00"))  # 00:00 UTC on May 1
    assert not may.contains(at("2024-04-30T23:59:59Z"))
    assert may.contains(at("2024-05-01")) and may.contains(None)


def test_spider_window_names_the_bad_argument() -> None:
    with pytest.raises(ArgumentError) as bad_day:
        crawl_window(None, "2024-02-30")
    assert str(bad_day.value) == "until: expected an ISO date like 2024-05-14, got '2024-02-30'"
    with pytest.raises(ArgumentError) as crossed:
        crawl_window("2024-05-15", "2024-05-14")
    assert str(crossed.value) == "since 2024-05-15 is after until 2024-05-14"
    assert crawl_window("2024-05-14", "2024-05-14") == DateWindow(
        datetime(2024, 5, 14, tzinfo=UTC),
        datetime(2024, 5, 14, 23, 59, 59, 999999, tzinfo=UTC),
    )


def test_month_year_and_time_bounds() -> None:
    assert DateWindow.parse(None, "2024-05").contains(at("2024-05-31T23:00:00Z"))
    assert not DateWindow.parse(None, "2024-05").contains(at("2024-06-01"))
    assert not DateWindow.parse("2024", None).contains(at("2023-12-31T12:00:00Z"))
    assert DateWindow.parse(None, "2024").contains(at("2024-12-31T12:00:00Z"))
    noon = DateWindow.parse(None, "2024-05-14T12:00:00Z")
    assert noon.contains(at("2024-05-14T09:30:00Z"))
    assert not noon.contains(at("2024-05-14T13:00:00Z"))
    with pytest.raises(ArgumentError, match="since: expected an ISO date"):
        crawl_window("May", None)
