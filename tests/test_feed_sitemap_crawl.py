"""Real crawls of feeds and sitemaps as sites in the wild write them, served on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli import archive_env, assert_clean_error, scrapy
from tests.newsite import NewsSite, Page, _Handler, _Server, article_html, crawl, db_rows

XML = "application/xml"
SITEMAP_NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
IMAGE_NS = 'xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"'
NEWS_NS = 'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'

# path -> (title, topic, place): every page different, so none is a duplicate of another
PAGES = {
    "/news/may-14.html": ("Tram line opens", "tram line", "Northgate"),
    "/news/may-31.html": ("Pier repairs finished", "pier repair", "Southport"),
    "/news/june.html": ("Summer festival planned", "summer festival", "Lakeside"),
    "/news/april.html": ("Spring fair cancelled", "spring fair", "Hillcrest"),
    "/news/photo-story.html": ("Old mill in pictures", "mill restoration", "Brookfield"),
    "/news/cut-1.html": ("Ferry fares frozen", "ferry fare", "Bayview"),
    "/news/listed.html": ("Bus depot moves", "bus depot", "Eastfield"),
    "/news/from-feed.html": ("School extension approved", "school extension", "Greenway"),
    "/archive/2024/based-1.html": ("Harbour walls rebuilt", "harbour wall", "Rockport"),
    "/archive/2024/based-2.html": ("Cycle lanes widened", "cycle lane", "Midtown"),
    "/elsewhere/based-3.html": ("Museum wing reopens", "museum wing", "Castleton"),
    "/news/broken-1.html": ("Water tower painted", "water tower", "Fairview"),
    "/news/broken-2.html": ("Allotments expand", "allotment", "Meadowbank"),
    "/news/cut-feed-1.html": ("Lido refilled", "lido", "Seaview"),
    "/news/day-first.html": ("Night bus returns", "night bus", "Ashford"),
    "/news/day-late.html": ("Bridge lights switched on", "bridge lighting", "Riverton"),
    "/news/day-before.html": ("Market hall sold", "market hall", "Oakham"),
    "/news/day-after.html": ("Swimming pool closes", "swimming pool", "Westbury"),
    "/news/day-west.html": ("Ferry timetable changes", "ferry timetable", "Portland"),
    "/news/feed-day.html": ("Library hours extended", "library hours", "Kingsbridge"),
    "/news/feed-next.html": ("Park gates repainted", "park gates", "Elmstead"),
}
# A sitemap and a feed whose entries sit on either side of the day 2024-05-14 (UTC).
ONE_DAY_SITEMAP = [
    ("/news/day-first.html", "2024-05-14T00:00:00Z"),
    ("/news/day-late.html", "2024-05-14T23:59:59Z"),
    ("/news/day-before.html", "2024-05-13T23:59:59Z"),
    ("/news/day-after.html", "2024-05-15T00:00:00Z"),
    ("/news/day-west.html", "2024-05-14T23:30:00-05:00"),  # 04:30 UTC on the 15th
]
ONE_DAY_FEED = [
    ("/news/feed-day.html", "Tue, 14 May 2024 09:30:00 GMT"),
    ("/news/feed-next.html", "Wed, 15 May 2024 00:00:01 GMT"),
]


def _url(loc: str, extra: str = "") -> str:
    return f"<url><loc>{loc}</loc>{extra}</url>"


def _urlset(*urls: str) -> bytes:
    head = f'<?xml version="1.0"?><urlset {SITEMAP_NS} {IMAGE_NS} {NEWS_NS}>'
    return f"{head}{''.join(urls)}</urlset>".encode()


def _news(date: str) -> str:
    return (
        "<news:news><news:publication><news:name>Gazette</news:name><news:language>en"
        f"</news:language></news:publication><news:publication_date>{date}"
        "</news:publication_date><news:title>t</news:title></news:news>"
    )


def routes(base: str) -> dict[str, Page]:
    pages = {path: Page(body=article_html(*page).encode()) for path, page in PAGES.items()}
    index = "".join(
        f"<sitemap><loc>{base}{path}</loc><lastmod>{lastmod}</lastmod></sitemap>"
        for path, lastmod in [
            ("/sitemaps/may.xml", "2024-06-15"),  # changed in June, lists May's articles
            ("/sitemaps/cut.xml", "2024-05-31"),
            ("/sitemaps/list.txt", "2024-05-31"),
            ("/feeds/as-sitemap.rss", "2024-05-31"),
        ]
    )
    may = _urlset(
        _url(f"{base}/news/may-14.html", "<lastmod>2024-05-14T09:30:00Z</lastmod>"),
        _url(f"{base}/news/may-31.html", "<lastmod>2024-05-31T21:00:00-04:00</lastmod>"),
        _url(f"{base}/news/june.html", "<lastmod>2024-05-20</lastmod>" + _news("2024-06-02")),
        _url(f"{base}/news/april.html", "<lastmod>2024-04-28</lastmod>"),
        _url(
            f"{base}/news/photo-story.html",
            f"<image:image><image:loc>{base}/media/mill.jpg</image:loc></image:image>"
            "<lastmod>2024-05-20</lastmod>",
        ),
    )
    whole_cut = _urlset(
        _url(f"{base}/news/cut-1.html", "<lastmod>2024-05-20</lastmod>"),
        _url(f"{base}/news/cut-2-never-fetched.html", "<lastmod>2024-05-20</lastmod>"),
    )
    cut = whole_cut[: whole_cut.index(b"-2-never")]  # the file ends inside the second loc
    rss = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item>'
        f"<link>{base}/news/from-feed.html</link><pubDate>Fri, 10 May 2024 10:00:00 GMT</pubDate>"
        "</item></channel></rss>"
    ).encode()
    based = (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" xml:base="/archive/2024/">'
        b"<title>t</title>"
        b'<entry><id>1</id><link rel="alternate" type="application/pdf" href="/print/1.pdf"/>'
        b'<link rel="alternate" type="text/html" href="based-1.html"/></entry>'
        b'<entry><id>2</id><link href="based-2.html"/></entry>'
        b'<entry xml:base="../../elsewhere/"><id>3</id><link href="based-3.html"/></entry>'
        b"</feed>"
    )
    broken = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Fish & chips &eacute;</title>'
        f"<item><link>{base}/news/broken-1.html</link></item>"
        f"<item><link>{base}/news/broken-2.html</link></item>"
    ).encode()  # a bare "&", an undefined entity, no end tags
    cut_atom = (
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
        f'<entry><id>1</id><link href="{base}/news/cut-feed-1.html"/></entry>'
        f'<entry><id>2</id><link href="{base}/news/cut-feed-2-never-fetched.html"/></entry>'
    ).encode()
    cut_atom = cut_atom[: cut_atom.index(b"-2-never")]  # the file ends inside an href
    one_day_index = "".join(
        f"<sitemap><loc>{base}{path}</loc></sitemap>"
        for path in ("/sitemaps/may.xml", "/sitemaps/one-day.xml", "/feeds/one-day.rss")
    )
    one_day_sitemap = _urlset(
        *(_url(f"{base}{path}", f"<lastmod>{when}</lastmod>") for path, when in ONE_DAY_SITEMAP)
    )
    one_day_feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        + "".join(
            f"<item><link>{base}{path}</link><pubDate>{when}</pubDate></item>"
            for path, when in ONE_DAY_FEED
        )
        + "</channel></rss>"
    ).encode()
    return {
        **pages,
        "/one_day_index.xml": Page(
            body=f'<?xml version="1.0"?><sitemapindex {SITEMAP_NS}>{one_day_index}'
            "</sitemapindex>".encode(),
            content_type=XML,
        ),
        "/sitemaps/one-day.xml": Page(body=one_day_sitemap, content_type=XML),
        "/feeds/one-day.rss": Page(body=one_day_feed, content_type="application/rss+xml"),
        "/feeds/cut.atom": Page(body=cut_atom, content_type="application/atom+xml"),
        "/robots.txt": Page(
            body=f"User-agent: *\nDisallow: /x/\nSite-map: {base}/sitemap_index.xml\n".encode(),
            content_type="text/plain",
        ),
        "/sitemap_index.xml": Page(
            body=f'<?xml version="1.0"?><sitemapindex {SITEMAP_NS}>{index}</sitemapindex>'.encode(),
            content_type=XML,
        ),
        "/sitemaps/may.xml": Page(body=may, content_type=XML),
        "/sitemaps/cut.xml": Page(body=cut, content_type=XML),
        "/sitemaps/list.txt": Page(
            body=f"{base}/news/listed.html\n".encode(), content_type="text/plain"
        ),
        "/feeds/as-sitemap.rss": Page(body=rss, content_type="application/rss+xml"),
        "/feeds/based.atom": Page(body=based, content_type="application/atom+xml"),
        "/feeds/broken.rss": Page(body=broken, content_type="application/rss+xml"),
    }


@pytest.fixture
def wild_site() -> Iterator[NewsSite]:
    server = _Server(("127.0.0.1", 0), _Handler)
    site = NewsSite(base=f"http://127.0.0.1:{server.server_address[1]}")
    site.routes = routes(site.base)
    server.site = site
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


def test_sitemap_crawl_from_robots_with_a_may_window(wild_site: NewsSite, tmp_path: Path) -> None:
    crawl(
        "sitemap",
        tmp_path,
        "-a",
        f"url={wild_site.url('/robots.txt')}",
        "-a",
        "since=2024-05-01",
        "-a",
        "until=2024-05-31",
    )
    hits = set(wild_site.hits)
    # the index's lastmod (June) does not hide the May articles its sitemap lists
    assert {"/sitemaps/may.xml", "/news/may-14.html"} <= hits
    assert {"/news/photo-story.html", "/news/cut-1.html"} <= hits  # the page, not its image
    assert {"/news/listed.html", "/news/from-feed.html"} <= hits  # text and RSS sitemaps
    # 2024-05-31T21:00-04:00 is June 1 in UTC: outside, as search --until 2024-05-31 would say
    assert not hits & {"/news/june.html", "/news/april.html", "/news/may-31.html"}
    assert "/media/mill.jpg" not in hits
    assert not any(hit.startswith("/news/cut-2") for hit in hits)
    failures = {
        uri.removeprefix(wild_site.base): (stage, reason)
        for uri, stage, reason in db_rows(tmp_path, "select uri, stage, reason from failures")
    }
    assert set(failures) == {"/sitemaps/cut.xml"}
    stage, reason = failures["/sitemaps/cut.xml"]
    assert stage == "parse" and "only its 1 complete entries are used" in reason
    documents = {
        url.removeprefix(wild_site.base)
        for (url,) in db_rows(tmp_path, "select url from documents")
    }
    expected = {
        "/news/may-14.html",
        "/news/photo-story.html",
        "/news/cut-1.html",
        "/news/listed.html",
        "/news/from-feed.html",
    }
    assert documents == expected
    captured = {
        u for (u,) in db_rows(tmp_path, "select uri from captures where record_type='response'")
    }
    assert wild_site.url("/sitemaps/cut.xml") in captured  # the cut file is on record


def test_a_one_day_window_keeps_the_whole_utc_day_and_nothing_else(
    wild_site: NewsSite, tmp_path: Path
) -> None:
    crawl(
        "sitemap",
        tmp_path,
        "-a",
        f"url={wild_site.url('/one_day_index.xml')}",
        "-a",
        "since=2024-05-14",
        "-a",
        "until=2024-05-14",
    )
    articles = {hit for hit in wild_site.hits if hit.startswith("/news/")}
    assert articles == {
        "/news/may-14.html",  # lastmod 2024-05-14T09:30:00Z
        "/news/day-first.html",
        "/news/day-late.html",
        "/news/feed-day.html",
    }
    documents = db_rows(tmp_path, "select count(*) from documents")
    assert documents == [(4,)]


def test_feed_crawl_follows_xml_base_and_html_alternates(
    wild_site: NewsSite, tmp_path: Path
) -> None:
    crawl("feed", tmp_path, "-a", f"url={wild_site.url('/feeds/based.atom')}")
    fetched = set(wild_site.hits) - {"/robots.txt"}
    assert fetched == {
        "/feeds/based.atom",
        "/archive/2024/based-1.html",
        "/archive/2024/based-2.html",
        "/elsewhere/based-3.html",
    }


def test_broken_feed_is_followed_with_a_warning(wild_site: NewsSite, tmp_path: Path) -> None:
    result = crawl("feed", tmp_path, "-a", f"url={wild_site.url('/feeds/broken.rss')}")
    assert {"/news/broken-1.html", "/news/broken-2.html"} <= set(wild_site.hits)
    assert "feed is not well-formed, read what could be read" in result.err
    assert db_rows(tmp_path, "select count(*) from failures") == [(0,)]


def test_cut_off_feed_is_a_parse_failure_and_its_complete_entries_are_followed(
    wild_site: NewsSite, tmp_path: Path
) -> None:
    crawl("feed", tmp_path, "-a", f"url={wild_site.url('/feeds/cut.atom')}")
    assert "/news/cut-feed-1.html" in wild_site.hits
    assert not any(hit.startswith("/news/cut-feed-2") for hit in wild_site.hits)
    failures = db_rows(tmp_path, "select uri, stage, reason from failures")
    assert failures == [
        (
            wild_site.url("/feeds/cut.atom"),
            "parse",
            "feed cut off: only its 1 complete entries are used",
        )
    ]


@pytest.mark.parametrize(
    ("spider", "arguments", "message"),
    [
        ("feed", ["-a", "url=feed.xml"], "url: not an absolute http(s) URL: 'feed.xml'"),
        (
            "sitemap",
            ["-a", "url=http://127.0.0.1:9/sitemap.xml", "-a", "until=end of May"],
            "until: expected an ISO date like 2024-05-14, got 'end of May'",
        ),
    ],
)
def test_unusable_arguments_are_refused_before_the_crawl(
    tmp_path: Path, spider: str, arguments: list[str], message: str
) -> None:
    result = scrapy("crawl", spider, *arguments, env=archive_env(tmp_path))
    assert_clean_error(result, message)
    assert not (tmp_path / "warc").exists()
