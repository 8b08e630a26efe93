"""A generated news site served on 127.0.0.1 from a process of its own, with hit counters.

Layout: ``/`` links to one hub per section (``/world/``, ...), each hub links to every article of
its section, and articles (bench.article_pages) link to hubs, other articles and furniture pages:
a ``site`` crawl of depth 2 reaches every article and expands none (so fetches no 404).
Articles are sent gzip-compressed (``Content-Encoding: gzip``), every fourth one with chunked
transfer encoding; anything else is a 404. The server counts the
requests it answered, in total and per article, so a caller can act at a given point of a crawl
and see which pages were fetched more than once.
"""

from __future__ import annotations

import gzip
import html
import multiprocessing
import multiprocessing.connection
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.sharedctypes import Synchronized, SynchronizedArray
from pathlib import Path

from bench.article_pages import SECTIONS, ArticlePage, generate_pages

HTML_TYPE = "text/html; charset=utf-8"
CHUNK_SIZE = 4096
START_TIMEOUT = 30.0


@dataclass(frozen=True)
class Route:
    body: bytes  # as sent on the wire (gzip-compressed when ``gzipped``)
    gzipped: bool = False
    chunked: bool = False
    article: int = -1  # index of the article, -1 for other pages


@dataclass(frozen=True)
class Site:
    """Every route of the site, and the articles it holds."""

    text_source: str
    articles: list[ArticlePage]
    routes: dict[str, Route]

    def write_files(self, folder: Path) -> list[Path]:
        """The articles as local .html files (for ``scrapy crawl files``), in article order."""
        paths = []
        for page in self.articles:
            path = folder / page.path.lstrip("/")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(page.html, encoding="utf-8")
            paths.append(path)
        return paths


def hub_paths() -> tuple[str, ...]:
    return tuple(f"/{section}/" for section in SECTIONS)


def build_site(count: int, seed: int = 1) -> Site:
    source, articles = generate_pages(count, seed, hub_paths())
    routes: dict[str, Route] = {}
    for page in articles:
        body = gzip.compress(page.html.encode("utf-8"), compresslevel=6, mtime=0)
        chunked = page.index % 4 == 1
        routes[page.path] = Route(body, gzipped=True, chunked=chunked, article=page.index)
    for hub in hub_paths():
        members = [page for page in articles if page.path.startswith(hub)]
        links = [(page.path, page.title) for page in members]
        routes[hub] = Route(_link_page(hub.strip("/").title(), links))
    routes["/"] = Route(
        _link_page(
            "The Loopback Herald",
            [(hub, hub.strip("/").title()) for hub in hub_paths()],
        )
    )
    return Site(source, articles, routes)


def _link_page(title: str, links: list[tuple[str, str]]) -> bytes:
    items = "\n".join(f'<li><a href="{href}">{html.escape(text)}</a></li>' for href, text in links)
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}'
        f'</title><meta property="og:type" content="website"></head><body><h1>'
        f"{html.escape(title)}</h1><ul>\n{items}\n</ul></body></html>"
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        route = self.server.routes.get(self.path.split("?", 1)[0])
        with self.server.total_hits.get_lock():
            self.server.total_hits.value += 1
        if route is None:
            self._send(404, b"<html><body>Not found</body></html>", [])
            return
        if route.article >= 0:
            with self.server.article_hits.get_lock():
                self.server.article_hits[route.article] += 1
        headers = [("Content-Encoding", "gzip")] if route.gzipped else []
        if route.chunked:
            self.send_response(200)
            self.send_header("Content-Type", HTML_TYPE)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(route.body), CHUNK_SIZE):
                piece = route.body[start : start + CHUNK_SIZE]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
            return
        self._send(200, route.body, headers)

    def _send(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", HTML_TYPE)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # the counters are the log


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    routes: dict[str, Route]
    total_hits: Synchronized[int]
    article_hits: SynchronizedArray[int]

    def handle_error(self, request: object, client_address: object) -> None:
        # A crawl killed mid-response drops its connections: expected here, not worth a traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def _serve(
    routes: dict[str, Route],
    total_hits: Synchronized[int],
    article_hits: SynchronizedArray[int],
    ready: multiprocessing.connection.Connection,
) -> None:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.routes = routes
    server.total_hits = total_hits
    server.article_hits = article_hits
    ready.send(server.server_address[1])
    ready.close()
    server.serve_forever()


@dataclass
class ServedSite:
    """A running server: its base URL and live counters."""

    site: Site
    base: str
    total_hits_value: Synchronized[int]
    article_hits_array: SynchronizedArray[int]

    def url(self, path: str) -> str:
        return self.base + path

    @property
    def article_urls(self) -> list[str]:
        return [self.url(page.path) for page in self.site.articles]

    def total_hits(self) -> int:
        return int(self.total_hits_value.value)

    def article_hits(self) -> list[int]:
        with self.article_hits_array.get_lock():
            return [int(count) for count in self.article_hits_array[:]]

    def write_url_list(self, path: Path) -> Path:
        path.write_text("".join(url + "\n" for url in self.article_urls), encoding="utf-8")
        return path


@contextmanager
def serve(site: Site) -> Iterator[ServedSite]:
    """Serve ``site`` on 127.0.0.1 (a free port) from a child process until the block ends."""
    context = multiprocessing.get_context("spawn")
    total_hits = context.Value("q", 0)
    article_hits = context.Array("i", len(site.articles))
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_serve,
        args=(site.routes, total_hits, article_hits, sender),
        name="loopback-site",
        daemon=True,
    )
    process.start()
    sender.close()
    try:
        if not receiver.poll(START_TIMEOUT):
            raise RuntimeError(f"the loopback site did not start within {START_TIMEOUT:.0f} s")
        port = int(receiver.recv())
        yield ServedSite(site, f"http://127.0.0.1:{port}", total_hits, article_hits)
    finally:
        receiver.close()
        process.kill()
        process.join(10)
