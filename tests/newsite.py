"""A small local news site for the web-capture tests: a threaded http.server on 127.0.0.1, port 0.

Every route is fixed bytes, so tests compare what was archived with exactly what was sent.
``NewsSite.hits`` lists the paths (with query) that were requested, in order.
"""

from __future__ import annotations

import gzip
import socket
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.cli import Result, archive_env, scrapy

SIZE_LIMIT = 200_000  # tests pass -s DOWNLOAD_MAXSIZE=SIZE_LIMIT; /big.html is larger


@dataclass
class Page:
    status: int = 200
    body: bytes = b""  # the bytes on the wire (already gzip-compressed for gzip pages)
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    chunked: bool = False


def _paragraphs(topic: str, place: str, count: int = 6) -> str:
    sentences = [
        f"Officials in {place} confirmed on Tuesday that the {topic} would go ahead as planned, "
        f"after months of debate among residents, business owners and the regional council.",
        f"The decision on the {topic} follows a public consultation in which more than 2000 "
        f"people in {place} submitted written comments, most of them in favour of the proposal.",
        f"Critics of the {topic} argue that costs doubled since the first estimate and that "
        f"the timetable leaves little room for the inevitable delays of a project of this size.",
        f"Supporters in {place} say the {topic} will create hundreds of jobs over the next three "
        f"years and bring visitors back to a district that has struggled since the factory closed.",
        f"A council spokesperson said the {topic} would be reviewed every six months and that "
        f"the full financial report would be published on the council website before the summer.",
        f"Local historians in {place} welcomed the plans for the {topic}, noting that the site had "
        f"been neglected for decades and that several original features could still be restored.",
    ]
    return "\n".join(f"<p>{s}</p>" for s in sentences[:count])


def article_html(title: str, topic: str, place: str, *, extra_head: str = "") -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - Example Gazette</title>
<meta property="og:type" content="article"><meta property="og:title" content="{title}">
<script type="application/ld+json">{{"@context": "https://schema.org", "@type": "NewsArticle",
"headline": "{title}", "datePublished": "2024-05-14T08:00:00Z"}}</script>{extra_head}
</head><body><nav><a href="/">Home</a> | <a href="/section/world.html">World</a> |
<a href="/tag/climate.html">Climate</a></nav>
<article><h1>{title}</h1><p class="byline">By Jane Reporter, 14 May 2024</p>
{_paragraphs(topic, place)}
</article><footer>(c) Example Gazette. <a href="/about.html">About us</a></footer></body></html>
"""


def hub_html(title: str, links: list[tuple[str, str]]) -> str:
    items = "\n".join(
        f'<li><a href="{href}">{text}</a> <span>Read more</span></li>' for href, text in links
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - Example Gazette</title>
<meta property="og:type" content="website"></head><body>
<nav><a href="/">Home</a> | <a href="/section/world.html">World</a> |
<a href="/tag/climate.html">Climate</a> | <a href="/private/drafts.html">Drafts</a></nav>
<h1>{title}</h1><ul>
{items}
</ul></body></html>
"""


ARTICLES: dict[str, tuple[str, str, str]] = {
    "/news/2024/05/harbour-bridge.html": (
        "Harbour bridge reopens",
        "bridge renovation",
        "Portside",
    ),
    "/news/2024/05/council-budget.html": ("Council passes budget", "city budget", "Millbrook"),
    "/news/2024/05/storm-warning.html": ("Storm warning issued", "storm barrier", "Eastcliff"),
    "/news/2024/05/market-report.html": ("Market hall to expand", "market expansion", "Oldtown"),
    "/news/2024/05/library-opens.html": ("New library opens", "library building", "Riverside"),
    "/news/2024/05/river-cleanup.html": ("River clean-up begins", "river clean-up", "Westford"),
}
DUPLICATE_PATH = "/amp/harbour-bridge.html"  # the same bytes as ARTICLES' first entry
QUERY_PATH = "/story?id=42&lang=en"
CP1252_PATH = "/news/2024/05/cafe-reopens.html"
GZIP_PATH = "/news/2024/05/storm-warning.html"
CHUNKED_PATH = "/news/2024/05/market-report.html"
COOKIE_PATH = "/news/2024/05/council-budget.html"
REDIRECT_START = "/old/library"  # 301 -> /moved/library -> 302 -> library-opens.html
DISALLOWED_PATH = "/private/drafts.html"


def _cp1252_page() -> bytes:
    text = article_html("Café reopens – “finally”", "café renovation", "Sainte-Anne")
    # No charset anywhere: the test is that the bytes survive and are decoded by detection.
    return text.replace('<meta charset="utf-8">', "").encode("cp1252")


def _sitemaps(base: str) -> dict[str, Page]:
    news = [(path, "2024-05-14T08:00:00+00:00") for path in list(ARTICLES)[:4]] + [
        (list(ARTICLES)[4], "2023-01-02T08:00:00+00:00")
    ]
    news_xml = "".join(
        f"<url><loc>{base}{path}</loc><news:news><news:publication><news:name>Example Gazette"
        f"</news:name><news:language>en</news:language></news:publication>"
        f"<news:publication_date>{date}</news:publication_date><news:title>t</news:title>"
        f"</news:news></url>"
        for path, date in news
    )
    pages_xml = "".join(
        f"<url><loc>{base}{path}</loc><lastmod>{date}</lastmod></url>"
        for path, date in [
            ("/", "2024-05-14"),
            ("/section/world.html", "2024-05-13"),
            (CP1252_PATH, "2024-05-12"),
        ]
    )
    xml = "application/xml"
    return {
        "/sitemap_index.xml": Page(
            body=(
                '<?xml version="1.0" encoding="UTF-8"?>'
                '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"<sitemap><loc>{base}/sitemap-news.xml</loc></sitemap>"
                f"<sitemap><loc>{base}/sitemap-pages.xml.gz</loc></sitemap></sitemapindex>"
            ).encode(),
            content_type=xml,
        ),
        "/sitemap-news.xml": Page(
            body=(
                '<?xml version="1.0" encoding="UTF-8"?>'
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
                f"{news_xml}</urlset>"
            ).encode(),
            content_type=xml,
        ),
        "/sitemap-pages.xml.gz": Page(
            body=gzip.compress(
                (
                    '<?xml version="1.0" encoding="UTF-8"?>'
                    f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{pages_xml}</urlset>'
                ).encode(),
                mtime=0,
            ),
            content_type="application/gzip",
        ),
    }


def _feeds(base: str) -> dict[str, Page]:
    paths = list(ARTICLES)
    rss_items = (
        "".join(
            f"<item><title>{ARTICLES[p][0]}</title><link>{base}{p}</link>"
            f'<guid isPermaLink="false">id-{i}</guid>'
            "<pubDate>Tue, 14 May 2024 08:00:00 GMT</pubDate></item>"
            for i, p in enumerate(paths[:3])
        )
        + f"<item><title>Story</title><link>{base}{QUERY_PATH.replace('&', '&amp;')}</link></item>"
    )
    atom_entries = "".join(
        f"<entry><title>{ARTICLES[p][0]}</title><id>tag:example,2024:{i}</id>"
        f'<link rel="alternate" type="text/html" href="{base}{p}"/>'
        f'<link rel="enclosure" href="{base}/media/photo{i}.jpg"/>'
        f"<updated>2024-05-14T08:00:00Z</updated></entry>"
        for i, p in enumerate(paths[3:5])
    )
    rdf_items = "".join(
        f'<item rdf:about="{base}{p}"><title>{ARTICLES[p][0]}</title><link>{base}{p}</link></item>'
        for p in paths[5:]
    )
    return {
        "/feed.rss": Page(
            body=(
                '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
                f"<title>Example Gazette</title><link>{base}/</link>{rss_items}</channel></rss>"
            ).encode(),
            content_type="application/rss+xml",
        ),
        "/feed.atom": Page(
            body=(
                '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
                f'<title>Example Gazette</title><link href="{base}/"/>{atom_entries}</feed>'
            ).encode(),
            content_type="application/atom+xml",
        ),
        "/feed.rdf": Page(
            body=(
                '<?xml version="1.0"?>'
                '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
                'xmlns="http://purl.org/rss/1.0/">'
                f'<channel rdf:about="{base}/"><title>Example Gazette</title></channel>'
                f"{rdf_items}</rdf:RDF>"
            ).encode(),
            content_type="application/rdf+xml",
        ),
    }


def build_routes(base: str) -> dict[str, Page]:
    routes: dict[str, Page] = {}
    for path, (title, topic, place) in ARTICLES.items():
        routes[path] = Page(body=article_html(title, topic, place).encode())
    routes[DUPLICATE_PATH] = Page(body=routes["/news/2024/05/harbour-bridge.html"].body)
    routes[GZIP_PATH] = Page(
        body=gzip.compress(routes[GZIP_PATH].body, mtime=0), headers=[("Content-Encoding", "gzip")]
    )
    routes[CHUNKED_PATH].chunked = True
    routes[COOKIE_PATH].headers = [("Set-Cookie", "session=abc; Path=/"), ("Set-Cookie", "seen=1")]
    routes[QUERY_PATH] = Page(
        body=article_html("Ferry timetable changes", "ferry timetable", "Bayview").encode()
    )
    routes[CP1252_PATH] = Page(body=_cp1252_page(), content_type="text/html")
    routes[DISALLOWED_PATH] = Page(body=article_html("Draft", "secret draft", "Nowhere").encode())
    article_links = [(p, ARTICLES[p][0]) for p in ARTICLES] + [
        (QUERY_PATH.replace("&", "&amp;"), "Ferry")
    ]
    routes["/"] = Page(
        body=hub_html(
            "Example Gazette",
            [
                *article_links,
                ("/section/world.html", "World"),
                ("/tag/climate.html", "Climate"),
                (CP1252_PATH, "Café"),
                (REDIRECT_START, "Library (old link)"),
                ("/missing.html", "Gone"),
                ("/broken.html", "Broken"),
                ("/big.html", "Big"),
                (DUPLICATE_PATH, "Bridge (AMP)"),
            ],
        ).encode(),
        headers=[("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")],
    )
    routes["/section/world.html"] = Page(body=hub_html("World", article_links[:3]).encode())
    routes["/tag/climate.html"] = Page(body=hub_html("Climate", article_links[2:5]).encode())
    routes["/about.html"] = Page(body=hub_html("About", [("/", "Home")]).encode())
    routes[REDIRECT_START] = Page(status=301, headers=[("Location", "/moved/library")])
    routes["/moved/library"] = Page(
        status=302, headers=[("Location", "/news/2024/05/library-opens.html")]
    )
    routes["/broken.html"] = Page(status=500, body=b"<html><body>Internal error</body></html>")
    routes["/big.html"] = Page(
        body=b"<html><body>" + b"<p>filler text</p>" * 20_000 + b"</body></html>"
    )
    routes["/robots.txt"] = Page(
        body=f"User-agent: *\nDisallow: /private/\n\nSitemap: {base}/sitemap_index.xml\n".encode(),
        content_type="text/plain",
    )
    routes.update(_sitemaps(base))
    routes.update(_feeds(base))
    return routes


NOT_FOUND = Page(status=404, body=b"<html><body>Not found</body></html>")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.server.site.hits.append(self.path)
        page = self.server.site.routes.get(self.path, NOT_FOUND)
        self.send_response(page.status)
        if page.status not in (301, 302):
            self.send_header("Content-Type", page.content_type)
        for name, value in page.headers:
            self.send_header(name, value)
        if page.chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(page.body), 1000):
                piece = page.body[start : start + 1000]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_header("Content-Length", str(len(page.body)))
        self.end_headers()
        self.wfile.write(page.body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # the hit list is the log


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: NewsSite


@dataclass
class NewsSite:
    base: str = ""
    routes: dict[str, Page] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path


def start_site(
    routes: Callable[[str], dict[str, Page]] = build_routes,
) -> tuple[NewsSite, _Server]:
    """Serve ``routes(base URL)`` on a loopback port until the server is shut down."""
    server = _Server(("127.0.0.1", 0), _Handler)
    site = NewsSite(base=f"http://127.0.0.1:{server.server_address[1]}")
    site.routes = routes(site.base)
    server.site = site
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return site, server


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def news_site() -> Iterator[NewsSite]:
    site, server = start_site()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def module_news_site() -> Iterator[NewsSite]:
    """One site for a module whose tests share one crawl."""
    site, server = start_site()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


# -- running crawls against the site and reading back what they wrote ------------------------

CRAWL_SETTINGS = (
    "-s", "AUTOTHROTTLE_ENABLED=false",
    "-s", "DOWNLOAD_DELAY=0",
    "-s", f"DOWNLOAD_MAXSIZE={SIZE_LIMIT}",
    "-s", "RETRY_TIMES=0",
)  # fmt: skip


@dataclass
class WarcRecord:
    rec_type: str
    uri: str
    headers: dict[str, str]  # WARC headers
    status_line: str  # HTTP "200 OK" for responses, "GET /path HTTP/1.1" for requests
    http_headers: list[tuple[str, str]]
    payload: bytes  # as stored
    file: str
    offset: int


def crawl(spider: str, archive: Path, *args: str) -> Result:
    """``scrapy crawl SPIDER ARGS`` in the project, archive in ``archive``; fails on a crash."""
    result = scrapy("crawl", spider, *args, *CRAWL_SETTINGS, env=archive_env(archive))
    assert result.code == 0, result.err[-3000:]
    # Scrapy itself logs download errors with tracebacks; our code's errors are these two lines.
    for crash in ("Spider error processing", "Error processing {"):
        assert crash not in result.err, result.err[-3000:]
    return result


def warc_records(archive: Path) -> list[WarcRecord]:
    found = []
    for path in sorted((archive / "warc").glob("*.warc.gz")):
        with path.open("rb") as fh:
            iterator = ArchiveIterator(fh)
            for record in iterator:
                http = record.http_headers
                status_line = ""
                if http is not None:
                    is_request = record.rec_type == "request"
                    status_line = (
                        f"{http.protocol} {http.statusline}" if is_request else http.statusline
                    )
                payload = record.raw_stream.read()
                found.append(
                    WarcRecord(
                        record.rec_type,
                        record.rec_headers.get_header("WARC-Target-URI") or "",
                        dict(record.rec_headers.headers),
                        status_line,
                        list(http.headers) if http is not None else [],
                        payload,
                        path.name,
                        iterator.get_record_offset(),
                    )
                )
    return found


def db_rows(archive: Path, sql: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(archive / "index.sqlite")) as db:
        return list(db.execute(sql))
