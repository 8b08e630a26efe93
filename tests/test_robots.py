"""robots.txt holds for every request: real crawls against loopback servers that count their hits.

Scrapy's own middleware let the third and later requests waiting for a host's robots.txt through
under the asyncio reactor; these crawls start many requests to one host at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.cli import Result, archive_env, scrapy
from tests.newsite import (
    DISALLOWED_PATH,
    NewsSite,
    article_html,
    db_rows,
    news_site,
    warc_records,
)

__all__ = ["news_site"]  # fixture, imported for pytest

RULES = b"User-agent: *\nDisallow: /private/\n"
ROBOTS_DELAY = 1.0  # seconds robots.txt takes: every start request is waiting for it by then
PUBLIC = [f"/news/story-{n}.html" for n in range(10)]
PRIVATE = [f"/private/draft-{n}.html" for n in range(6)]
# Private pages spread over the start list, the first one third: each waiter position is covered.
START_PATHS = [*PUBLIC[:2], PRIVATE[0], PUBLIC[2], PRIVATE[1], PUBLIC[3], PRIVATE[2], PUBLIC[4]]
START_PATHS += [PRIVATE[3], *PUBLIC[5:8], PRIVATE[4], PUBLIC[8], PRIVATE[5], PUBLIC[9]]
FORBIDDEN = "forbidden by robots.txt"
SETTINGS = (
    "-s", "AUTOTHROTTLE_ENABLED=false",
    "-s", "DOWNLOAD_DELAY=0",
    "-s", "CONCURRENT_REQUESTS=16",
    "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16",
)  # fmt: skip


def page_body(path: str) -> bytes:
    name = path.rsplit("/", 1)[1].removesuffix(".html")  # story-3, draft-3: a text of its own
    return article_html(f"Story {name}", f"harbour works {name}", f"Town {name}").encode()


@dataclass
class RobotsSite:
    """How /robots.txt answers: "rules" (after ROBOTS_DELAY), "500", "404", "close", "timeout"."""

    robots: str
    base: str = ""
    hits: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return self.base + path

    def count(self, path: str) -> int:
        with self.lock:
            return self.hits.count(path)

    def private_hits(self) -> list[str]:
        with self.lock:
            return [hit for hit in self.hits if hit.startswith("/private/")]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        site = self.server.site
        with site.lock:
            site.hits.append(self.path)
        if self.path == "/robots.txt":
            self._robots(site.robots)
        elif self.path in PUBLIC or self.path in PRIVATE:
            self._send(200, page_body(self.path), "text/html; charset=utf-8")
        else:
            self._send(404, b"<html><body>Not found</body></html>", "text/html")

    def _robots(self, mode: str) -> None:
        if mode == "rules":
            time.sleep(ROBOTS_DELAY)
            self._send(200, RULES, "text/plain")
        elif mode == "500":
            self._send(500, b"<html><body>Internal Server Error</body></html>", "text/html")
        elif mode == "500-with-rules":
            self._send(500, RULES, "text/plain")
        elif mode == "404":
            self._send(404, b"<html><body>Not found</body></html>", "text/html")
        elif mode == "close":
            self.close_connection = True  # no status line: the client sees the connection close
        elif mode == "timeout":
            time.sleep(3)  # the crawl runs with DOWNLOAD_TIMEOUT=1
            self.close_connection = True
        else:
            raise AssertionError(f"unknown robots mode {mode}")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # the hit list is the log


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: RobotsSite


@pytest.fixture
def robots_site(request: pytest.FixtureRequest) -> Iterator[RobotsSite]:
    mode = getattr(request, "param", "rules")
    server = _Server(("127.0.0.1", 0), _Handler)
    site = RobotsSite(robots=mode, base=f"http://127.0.0.1:{server.server_address[1]}")
    server.site = site
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


def run_crawl(spider: str, archive: Path, *args: str) -> Result:
    result = scrapy("crawl", spider, *args, *SETTINGS, env=archive_env(archive))
    assert result.code == 0, result.err[-3000:]
    assert "Traceback" not in result.err, result.err[-3000:]
    return result


def crawl_urls(site: RobotsSite, tmp_path: Path, paths: list[str], *settings: str) -> Path:
    url_file = tmp_path / "urls.txt"
    url_file.write_text("".join(site.url(path) + "\n" for path in paths))
    archive = tmp_path / "archive"
    run_crawl("urls", archive, "-a", f"urls={url_file}", *settings)
    return archive


def failures(archive: Path, base: str) -> dict[str, str]:
    rows = db_rows(archive, "select uri, reason from failures")
    return {uri.removeprefix(base): reason for uri, reason in rows}


def documents(archive: Path, base: str) -> set[str]:
    return {url.removeprefix(base) for (url,) in db_rows(archive, "select url from documents")}


# -- rules fetched: every request waits for them ----------------------------------------------


def test_sixteen_requests_at_once_all_wait_for_the_rules(
    robots_site: RobotsSite, tmp_path: Path
) -> None:
    archive = crawl_urls(robots_site, tmp_path, START_PATHS)

    assert robots_site.private_hits() == []
    assert robots_site.count("/robots.txt") == 1
    assert robots_site.hits[0] == "/robots.txt"
    assert sorted(robots_site.hits[1:]) == sorted(PUBLIC)
    rows = failures(archive, robots_site.base)
    assert {path: rows.get(path) for path in PRIVATE} == dict.fromkeys(PRIVATE, FORBIDDEN)
    assert documents(archive, robots_site.base) == set(PUBLIC)


def test_rules_hold_under_a_non_asyncio_reactor(robots_site: RobotsSite, tmp_path: Path) -> None:
    """The item pipelines need asyncio, so this crawl runs without them: only the hits count."""
    reactor = "twisted.internet.selectreactor.SelectReactor"
    crawl_urls(
        robots_site, tmp_path, START_PATHS, "-s", f"TWISTED_REACTOR={reactor}",
        "-s", "ITEM_PIPELINES={}",
    )  # fmt: skip

    assert robots_site.private_hits() == []
    assert robots_site.count("/robots.txt") == 1
    assert sorted(robots_site.hits[1:]) == sorted(PUBLIC)


def test_robots_txt_is_archived_and_indexed_as_captured_only(
    robots_site: RobotsSite, tmp_path: Path
) -> None:
    archive = crawl_urls(robots_site, tmp_path, [PUBLIC[0], PRIVATE[0], PUBLIC[1]])

    robots_url = robots_site.url("/robots.txt")
    responses = [r for r in warc_records(archive) if r.rec_type == "response"]
    robots = [r for r in responses if r.uri == robots_url]
    assert len(robots) == 1 and robots[0].payload.endswith(RULES)
    captured = db_rows(
        archive,
        "select http_status, document_id from captures"
        f" where uri = '{robots_url}' and record_type = 'response'",
    )
    assert captured == [(200, None)]  # indexed, as a capture without a document
    assert robots_url not in documents(archive, "")
    assert robots_site.private_hits() == []


def test_site_spider_with_three_start_urls(news_site: NewsSite, tmp_path: Path) -> None:
    starts = " ".join(news_site.url(p) for p in ["/", "/section/world.html", DISALLOWED_PATH])
    archive = tmp_path / "archive"
    run_crawl("site", archive, "-a", f"url={starts}", "-a", "max_depth=0")

    assert DISALLOWED_PATH not in news_site.hits
    assert news_site.hits.count("/robots.txt") == 1
    assert {"/", "/section/world.html"} <= set(news_site.hits)
    assert failures(archive, news_site.base)[DISALLOWED_PATH] == FORBIDDEN


# -- robots.txt that cannot be fetched: as Scrapy's middleware does ---------------------------

FAILING_CASES = [
    # mode, extra settings, robots.txt hits (RETRY_TIMES=1: 5xx and errors are tried twice)
    ("404", (), 1),
    ("500", (), 2),
    ("close", (), 2),
    ("timeout", ("-s", "DOWNLOAD_TIMEOUT=1"), 2),
]


@pytest.mark.parametrize(
    ("robots_site", "settings", "robots_hits"),
    FAILING_CASES,
    indirect=["robots_site"],
    ids=[case[0] for case in FAILING_CASES],
)
def test_robots_txt_that_cannot_be_fetched_allows_the_host(
    robots_site: RobotsSite, tmp_path: Path, settings: tuple[str, ...], robots_hits: int
) -> None:
    paths = [PUBLIC[0], PRIVATE[0], PRIVATE[1], PUBLIC[1]]
    archive = crawl_urls(robots_site, tmp_path, paths, "-s", "RETRY_TIMES=1", *settings)

    assert robots_site.count("/robots.txt") == robots_hits
    assert sorted(robots_site.private_hits()) == PRIVATE[:2]
    assert FORBIDDEN not in failures(archive, robots_site.base).values()
    assert set(paths) <= documents(archive, robots_site.base)


@pytest.mark.parametrize("robots_site", ["500-with-rules"], indirect=True)
def test_an_error_status_is_still_read_as_rules(robots_site: RobotsSite, tmp_path: Path) -> None:
    """Scrapy parses the body of any robots.txt response, whatever its status."""
    archive = crawl_urls(robots_site, tmp_path, [PUBLIC[0], PRIVATE[0], PRIVATE[1]])

    assert robots_site.private_hits() == []
    rows = failures(archive, robots_site.base)
    assert [rows.get(path) for path in PRIVATE[:2]] == [FORBIDDEN, FORBIDDEN]
