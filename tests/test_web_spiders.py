"""The HTTP spiders: callbacks on built responses, then real crawls against the local news site."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import scrapy
from scrapy.http import HtmlResponse, Request, TextResponse
from scrapy.utils.test import get_crawler

from spiders.article_signals import judge_article
from spiders.feed import FeedError, FeedSpider, feed_links
from spiders.site import SiteSpider
from spiders.sitemap import SitemapError, SitemapSpider, read_sitemap
from spiders.urls import UrlsSpider
from spiders.web_common import (
    META_REDIRECTS,
    START_REQUEST_BATCH,
    ArgumentError,
    handle_redirect,
    parse_bool,
    parse_int,
    parse_w3c_date,
)
from tests.cli import archive_env
from tests.cli import scrapy as run_scrapy
from tests.newsite import (
    ARTICLES,
    CHUNKED_PATH,
    COOKIE_PATH,
    CP1252_PATH,
    DISALLOWED_PATH,
    DUPLICATE_PATH,
    GZIP_PATH,
    QUERY_PATH,
    REDIRECT_START,
    NewsSite,
    article_html,
    build_routes,
    closed_port,
    crawl,
    db_rows,
    hub_html,
    module_news_site,
    news_site,
    warc_records,
)

__all__ = ["module_news_site", "news_site"]  # fixtures, imported for pytest
BASE = "http://news.test"
ROUTES = build_routes(BASE)
HARBOUR = "/news/2024/05/harbour-bridge.html"


def html_response(path: str, body: bytes | None = None, **kwargs: object) -> HtmlResponse:
    request = Request(BASE + path, meta={"archive_depth": 0})
    page_body = ROUTES[path].body if body is None else body
    return HtmlResponse(BASE + path, body=page_body, request=request, **kwargs)  # type: ignore[arg-type]


# -- article-ness ---------------------------------------------------------------------------


def test_articles_and_hubs_are_told_apart_by_content() -> None:
    assert judge_article(ROUTES[HARBOUR].body).is_article
    assert not judge_article(ROUTES["/section/world.html"].body).is_article


def test_hub_without_metadata_is_rejected_by_its_link_density() -> None:
    links = [(f"/n/{i}.html", f"Headline number {i} about the council") for i in range(30)]
    bare = hub_html("Latest", links).replace('<meta property="og:type" content="website">', "")
    verdict = judge_article(bare)
    assert verdict.declared is None and not verdict.is_article
    assert verdict.link_density > 0.5


def test_long_running_text_without_metadata_is_an_article() -> None:
    page = article_html("Plain", "tram line", "Hilltown")
    plain = page.split("<script")[0] + page.split("</script>")[1]
    plain = plain.replace('<meta property="og:type" content="article">', "")
    plain = plain.replace("<article>", "<div>").replace("</article>", "</div>")
    verdict = judge_article(plain)
    assert verdict.declared is None and verdict.is_article


def test_article_metadata_without_text_is_not_enough() -> None:
    page = '<html><head><meta property="og:type" content="article"></head><body><p>Hi</p></body>'
    assert not judge_article(page).is_article
    assert not judge_article(b"").is_article


# -- sitemaps and feeds -----------------------------------------------------------------------


def test_news_sitemap_dates_come_from_publication_date() -> None:
    document = read_sitemap(ROUTES["/sitemap-news.xml"].body, BASE + "/sitemap-news.xml")
    kind, entries = document.kind, document.entries
    assert kind == "urlset" and len(entries) == 5 and document.problem is None
    assert entries[0].loc == BASE + next(iter(ARTICLES))
    assert entries[0].when == parse_w3c_date("2024-05-14T08:00:00Z")
    assert entries[4].when is not None and entries[4].when.year == 2023


def test_sitemap_index_and_gzip_sitemap() -> None:
    index = read_sitemap(ROUTES["/sitemap_index.xml"].body, BASE + "/sitemap_index.xml")
    assert index.kind == "sitemapindex"
    locs = [e.loc for e in index.entries]
    assert locs == [f"{BASE}/sitemap-news.xml", f"{BASE}/sitemap-pages.xml.gz"]
    pages = read_sitemap(ROUTES["/sitemap-pages.xml.gz"].body, BASE + "/sitemap-pages.xml.gz")
    assert pages.kind == "urlset" and pages.entries[1].loc == f"{BASE}/section/world.html"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html><body>no</body></html>", "root element is 'html'"),
        (b"", "not XML"),
        (gzip.compress(b"<urlset")[:-6], "broken gzip"),
    ],
)
def test_bad_sitemaps_raise_with_reason(body: bytes, message: str) -> None:
    with pytest.raises(SitemapError, match=message):
        read_sitemap(body, BASE + "/sitemap.xml")


@pytest.mark.parametrize(
    ("path", "dialect", "count"),
    [("/feed.rss", "rss", 4), ("/feed.atom", "atom", 2), ("/feed.rdf", "rdf", 1)],
)
def test_feed_links_in_three_dialects(path: str, dialect: str, count: int) -> None:
    found, links = feed_links(ROUTES[path].body, BASE + path)
    assert found == dialect and len(links) == count
    assert all(link.startswith(BASE + "/") for link in links)
    assert not any("/media/" in link for link in links)  # Atom enclosures are not entries


def test_rss_keeps_query_strings_and_non_feeds_are_refused() -> None:
    _, links = feed_links(ROUTES["/feed.rss"].body, BASE)
    assert links[-1] == BASE + QUERY_PATH
    with pytest.raises(FeedError, match="not a feed"):
        feed_links(ROUTES["/"].body, BASE)


def test_argument_parsers_name_the_argument() -> None:
    assert parse_bool("Yes", "x") is True and parse_int("3", "n") == 3
    with pytest.raises(ArgumentError, match="same_host"):
        parse_bool("maybe", "same_host")
    with pytest.raises(ArgumentError, match="max_pages: must be at least 1"):
        parse_int("0", "max_pages", minimum=1)
    assert parse_w3c_date("2024") is not None and parse_w3c_date("yesterday") is None


# -- callbacks ------------------------------------------------------------------------------------


def site_spider(**kwargs: str) -> SiteSpider:
    crawler = get_crawler(SiteSpider)
    return SiteSpider.from_crawler(crawler, url=BASE + "/", **kwargs)


def test_site_spider_captures_hub_and_follows_same_host_links_only() -> None:
    spider = site_spider(deny=r"/tag/")
    body = ROUTES["/"].body.replace(b"</ul>", b'<li><a href="http://other.test/x">x</a></li></ul>')
    out = list(spider.parse(html_response("/", body)))
    item, requests = out[0], [r for r in out[1:] if isinstance(r, scrapy.Request)]
    assert item.index_as_article is False and item.failure is None
    urls = {r.url for r in requests}
    assert BASE + HARBOUR in urls and BASE + QUERY_PATH in urls
    assert not any("other.test" in u or "/tag/" in u for u in urls)
    assert all(r.meta["archive_depth"] == 1 and r.meta["dont_redirect"] for r in requests)


def test_site_spider_respects_depth_and_page_budget() -> None:
    spider = site_spider(max_pages="3")
    out = list(spider.parse(html_response("/")))
    assert len([r for r in out if isinstance(r, scrapy.Request)]) == 3
    deep = html_response("/")
    deep.meta["archive_depth"] = 2
    assert [type(x).__name__ for x in site_spider().parse(deep)] == ["ArchiveItem"]


def test_bad_site_arguments_become_one_failure_item() -> None:
    spider = site_spider(max_depth="lots")
    assert spider.argument_error == "max_depth: expected a whole number, got 'lots'"


def test_redirect_hop_is_an_item_and_a_new_request() -> None:
    request = Request(BASE + REDIRECT_START, meta={"dont_redirect": True, "archive_capture": "x"})
    response = TextResponse(
        BASE + REDIRECT_START, status=301, headers={"Location": "/moved/library"}, request=request
    )
    item, following = list(handle_redirect(response, max_hops=5))
    assert item.http_status == 301 and item.index_as_article is False and item.failure is None
    assert following.url == BASE + "/moved/library"
    assert following.meta[META_REDIRECTS] == 1 and "archive_capture" not in following.meta
    response.meta[META_REDIRECTS] = 5
    (item,) = list(handle_redirect(response, max_hops=5))
    assert "redirect not followed" in (item.failure or "")


def test_feed_spider_archives_a_non_feed_as_a_parse_failure() -> None:
    spider = FeedSpider.from_crawler(get_crawler(FeedSpider), url=BASE + "/feed.rss")
    (item,) = list(spider.parse(html_response("/")))
    assert item.failure_stage == "parse" and "not a feed" in (item.failure or "")
    feed = ROUTES["/feed.rss"].body
    request = Request(BASE + "/feed.rss")
    out = list(spider.parse(TextResponse(BASE + "/feed.rss", body=feed, request=request)))
    assert out[0].index_as_article is False and len(out) == 5


def test_urls_file_with_comments_blanks_and_bad_lines(tmp_path: Path) -> None:
    listing = tmp_path / "urls.txt"
    listing.write_text(f"# news\n\n{BASE}/a.html\nftp://x/y\n  {BASE}/b.html  \n", encoding="utf-8")
    spider = UrlsSpider.from_crawler(get_crawler(UrlsSpider), urls=str(listing))
    entries = list(spider._entries())
    assert entries[0] == f"{BASE}/a.html" and entries[2] == f"{BASE}/b.html"
    assert "urls.txt:4: not an absolute http(s) URL" in (entries[1].failure or "")


def test_sitemap_window_keeps_undated_entries() -> None:
    spider = SitemapSpider.from_crawler(
        get_crawler(SitemapSpider), url=BASE + "/x.xml", since="2024-01-01"
    )
    assert spider.in_window(None) and spider.in_window(parse_w3c_date("2024-02-01"))
    assert not spider.in_window(parse_w3c_date("2023-12-31"))
    bad = SitemapSpider.from_crawler(get_crawler(SitemapSpider), url=BASE, until="soon")
    assert bad.argument_error == "until: expected an ISO date like 2024-05-14, got 'soon'"


# -- end-to-end crawls --------------------------------------------------------------------


@pytest.fixture(scope="module")
def site_crawl(module_news_site: NewsSite, tmp_path_factory: pytest.TempPathFactory) -> Path:
    archive = tmp_path_factory.mktemp("site")
    crawl("site", archive, "-a", f"url={module_news_site.url('/')}", "-a", "max_depth=2")
    return archive


def responses_by_path(archive: Path, site: NewsSite) -> dict[str, list[object]]:
    found: dict[str, list[object]] = {}
    for record in warc_records(archive):
        if record.rec_type in ("response", "revisit"):
            found.setdefault(record.uri.removeprefix(site.base), []).append(record)
    return found


def test_site_payloads_are_byte_exact(site_crawl: Path, module_news_site: NewsSite) -> None:
    records = responses_by_path(site_crawl, module_news_site)
    responses = [r for rs in records.values() for r in rs if r.rec_type == "response"]
    assert len(responses) >= 15
    for record in responses:
        path = record.uri.removeprefix(module_news_site.base)
        expected = module_news_site.routes.get(path)
        if expected is not None:
            assert record.payload == expected.body, path
    gzipped = records[GZIP_PATH][0]
    assert gzipped.payload[:2] == b"\x1f\x8b"
    assert ("Content-Encoding", "gzip") in gzipped.http_headers


def test_chunked_response_is_stored_dechunked(site_crawl: Path, module_news_site: NewsSite) -> None:
    (record,) = responses_by_path(site_crawl, module_news_site)[CHUNKED_PATH]
    assert record.payload == module_news_site.routes[CHUNKED_PATH].body
    assert "Transfer-Encoding" not in dict(record.http_headers)


def test_chunked_response_records_its_length_and_original_encoding(
    site_crawl: Path, module_news_site: NewsSite
) -> None:
    (record,) = responses_by_path(site_crawl, module_news_site)[CHUNKED_PATH]
    headers = dict(record.http_headers)
    assert int(headers.get("Content-Length", -1)) == len(module_news_site.routes[CHUNKED_PATH].body)
    assert headers.get("X-Archive-Orig-Transfer-Encoding") == "chunked"


def test_headers_status_lines_and_request_targets(
    site_crawl: Path, module_news_site: NewsSite
) -> None:
    records = responses_by_path(site_crawl, module_news_site)
    home = records["/"][0]
    assert [v for n, v in home.http_headers if n == "Set-Cookie"] == ["a=1", "b=2"]
    cookies = [v for n, v in records[COOKIE_PATH][0].http_headers if n == "Set-Cookie"]
    assert cookies == ["session=abc; Path=/", "seen=1"]
    assert records["/missing.html"][0].status_line == "404 Not Found"
    assert records["/broken.html"][0].status_line == "500 Internal Server Error"
    assert records[REDIRECT_START][0].status_line == "301 Moved Permanently"
    assert records["/moved/library"][0].status_line == "302 Found"
    requests = [r for r in warc_records(site_crawl) if r.rec_type == "request"]
    story = [r for r in requests if r.uri.endswith(QUERY_PATH)]
    assert story and story[0].status_line == f"GET {QUERY_PATH} HTTP/1.1"


def test_every_request_is_concurrent_to_its_response(site_crawl: Path) -> None:
    records = warc_records(site_crawl)
    by_id = {r.headers["WARC-Record-ID"]: r for r in records}
    requests = [r for r in records if r.rec_type == "request"]
    assert requests
    for request in requests:
        partner = by_id[request.headers["WARC-Concurrent-To"]]
        assert partner.rec_type in ("response", "revisit") and partner.uri == request.uri


def test_same_article_at_two_urls_is_one_response_and_one_revisit(
    site_crawl: Path, module_news_site: NewsSite
) -> None:
    records = responses_by_path(site_crawl, module_news_site)
    pair = records[HARBOUR] + records[DUPLICATE_PATH]
    kinds = sorted(r.rec_type for r in pair)
    assert kinds == ["response", "revisit"]
    original = next(r for r in pair if r.rec_type == "response")
    revisit = next(r for r in pair if r.rec_type == "revisit")
    assert revisit.headers["WARC-Refers-To"] == original.headers["WARC-Record-ID"]
    assert revisit.headers["WARC-Refers-To-Target-URI"] == original.uri
    assert revisit.headers["WARC-Profile"].endswith("identical-payload-digest")
    assert revisit.payload == b""
    rows = db_rows(site_crawl, "select refers_to from captures where record_type='revisit'")
    assert rows == [(original.headers["WARC-Record-ID"],)]


def test_site_documents_hubs_and_failures(site_crawl: Path, module_news_site: NewsSite) -> None:
    base = module_news_site.base
    documents = {
        url.removeprefix(base) for (url,) in db_rows(site_crawl, "select url from documents")
    }
    expected = set(ARTICLES) - {HARBOUR} | {QUERY_PATH, CP1252_PATH}
    assert documents - {HARBOUR, DUPLICATE_PATH} == expected
    assert len(documents & {HARBOUR, DUPLICATE_PATH}) == 1
    assert not documents & {"/", "/section/world.html", "/tag/climate.html", "/about.html"}
    hubs = db_rows(
        site_crawl, "select uri from captures where record_type='response' and uri like '%/tag/%'"
    )
    assert hubs  # captured, not indexed
    failures = {
        u.removeprefix(base): r for u, r in db_rows(site_crawl, "select uri, reason from failures")
    }
    assert failures["/missing.html"] == "HTTP 404"
    assert failures["/broken.html"] == "HTTP 500"
    assert "too large" in failures["/big.html"]
    assert "robots.txt" in failures[DISALLOWED_PATH]
    assert DISALLOWED_PATH not in module_news_site.hits
    title = db_rows(site_crawl, f"select title from documents where url like '%{CP1252_PATH}'")
    assert title[0][0].startswith("Café reopens – “finally”")


def test_sitemap_from_robots_with_date_window(news_site: NewsSite, tmp_path: Path) -> None:
    crawl(
        "sitemap", tmp_path, "-a", f"url={news_site.url('/robots.txt')}", "-a", "since=2024-01-01"
    )
    fetched = set(news_site.hits)
    assert {"/sitemap_index.xml", "/sitemap-news.xml", "/sitemap-pages.xml.gz"} <= fetched
    assert "/news/2024/05/library-opens.html" not in fetched  # published 2023: outside the window
    assert {HARBOUR, CP1252_PATH, "/section/world.html"} <= fetched
    base = news_site.base
    documents = {u.removeprefix(base) for (u,) in db_rows(tmp_path, "select url from documents")}
    assert documents == set(list(ARTICLES)[:4]) | {CP1252_PATH}
    archived = {u.removeprefix(base) for (u,) in db_rows(tmp_path, "select uri from captures")}
    assert {"/robots.txt", "/sitemap_index.xml", "/sitemap-pages.xml.gz", "/"} <= archived


@pytest.mark.parametrize(
    ("feed", "entries"),
    [("/feed.rss", [*list(ARTICLES)[:3], QUERY_PATH]), ("/feed.atom", list(ARTICLES)[3:5]),
     ("/feed.rdf", list(ARTICLES)[5:])],
)  # fmt: skip
def test_feed_archives_feed_and_entries(
    news_site: NewsSite, tmp_path: Path, feed: str, entries: list[str]
) -> None:
    crawl("feed", tmp_path, "-a", f"url={news_site.url(feed)}")
    base = news_site.base
    captured = db_rows(
        tmp_path, "select uri, document_id from captures where record_type='response'"
    )
    by_path = {u.removeprefix(base): d for u, d in captured}
    assert feed in by_path and by_path[feed] is None  # archived, not an article
    assert all(by_path.get(path) is not None for path in entries)
    assert not any(hit.startswith("/media/") for hit in news_site.hits)


def test_urls_spider_redirect_chain_refused_port_and_bad_lines(
    news_site: NewsSite, tmp_path: Path
) -> None:
    listing = tmp_path / "urls.txt"
    dead = f"http://127.0.0.1:{closed_port()}/gone.html"
    listing.write_text(
        f"# test list\n{news_site.url(REDIRECT_START)}\n\nnot a url\n{dead}\n"
        f"{news_site.url(GZIP_PATH)}\n"
    )
    archive = tmp_path / "archive"
    crawl("urls", archive, "-a", f"urls={listing}")
    statuses = db_rows(
        archive, "select uri, http_status from captures where record_type='response'"
    )
    hops = [s for u, s in statuses if "library" in u]
    assert sorted(hops) == [200, 301, 302]
    failures = dict(db_rows(archive, "select uri, reason from failures"))
    assert "connection refused" in failures[dead].lower()
    assert "urls.txt:4: not an absolute http(s) URL" in failures["not%20a%20url"]
    documents = {u for (u,) in db_rows(archive, "select url from documents")}
    assert news_site.url(GZIP_PATH) in documents  # extracted from the decoded body
    assert news_site.url("/news/2024/05/library-opens.html") in documents


def test_a_long_url_list_waits_outside_the_scheduler(news_site: NewsSite, tmp_path: Path) -> None:
    """Scrapy would park the whole list in its scheduler before fetching; the spider hands it
    over a batch at a time, so memory does not grow with the list, and every URL is fetched."""
    listing = tmp_path / "urls.txt"
    paths = [f"/missing/{number}.html" for number in range(3 * START_REQUEST_BATCH + 50)]
    listing.write_text("".join(news_site.url(path) + "\n" for path in paths))
    archive = tmp_path / "archive"
    crawl("urls", archive, "-a", f"urls={listing}", "-s", "CONCURRENT_REQUESTS=4")
    assert sorted(hit for hit in news_site.hits if hit != "/robots.txt") == sorted(paths)
    assert db_rows(archive, "select count(*), min(reason), max(reason) from failures") == [
        (len(paths), "HTTP 404", "HTTP 404")
    ]
    [(stats,)] = db_rows(archive, "select stats from crawls")
    peak = json.loads(stats)["scheduler/pending_peak"]
    assert 1 <= peak <= START_REQUEST_BATCH


def test_bad_arguments_are_refused_before_the_crawl(tmp_path: Path) -> None:
    # Exit code 2, one line, nothing written (README, "Exit codes"); tests/test_exit_codes.py
    # covers every spider argument.
    result = run_scrapy(
        "crawl", "site", "-a", "url=ftp://example/", "-a", "max_depth=2", env=archive_env(tmp_path)
    )
    assert result.code == 2, result.err[-3000:]
    assert result.err == "newsvault: error: url: not an absolute http(s) URL: 'ftp://example/'\n"
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_interrupted_crawl_resumes_without_refetching(news_site: NewsSite, tmp_path: Path) -> None:
    jobdir, archive = tmp_path / "job", tmp_path / "archive"
    args = (
        "-a",
        f"url={news_site.url('/')}",
        "-s",
        f"JOBDIR={jobdir}",
        "-s",
        "CONCURRENT_REQUESTS=1",
    )
    crawl("site", archive, *args, "-s", "CLOSESPIDER_PAGECOUNT=3")
    first = [h for h in news_site.hits if h != "/robots.txt"]
    assert 2 <= len(first) < 12
    crawl("site", archive, *args)
    fetched = [h for h in news_site.hits if h != "/robots.txt"]
    assert len(fetched) > len(first)
    assert len(fetched) == len(set(fetched)), "a page was fetched twice"
    uris = [u for (u,) in db_rows(archive, "select uri from captures where record_type='response'")]
    assert len(uris) == len(set(uris))
