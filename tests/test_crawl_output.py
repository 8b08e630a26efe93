"""A crawl's terminal output: our own start, progress and summary lines; counts that add up.

Every spider crawls for real (local files, the loopback news site, a WARC import) and its
summary is checked twice: the outcome lines add up to "inputs seen", and each line equals what
the index holds for that crawl. A crawl stopped with one SIGINT (as Ctrl-C sends it to the
process group) ends cleanly and counts what it did not process.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.cli import PROJECT_DIR, SCRAPY, Result, archive_env, scrapy
from tests.newsite import (
    ARTICLES,
    CRAWL_SETTINGS,
    DUPLICATE_PATH,
    REDIRECT_START,
    NewsSite,
    article_html,
    closed_port,
    db_rows,
    news_site,
)

__all__ = ["news_site"]  # a fixture, imported for pytest

SEEDS = PROJECT_DIR / "seeds"
OUTCOMES = (
    "documents added",
    "same text, other place",
    "payload revisits",
    "captured, not articles",
    "failures",
)
OPTIONAL = ("from the archive", "failed before, skipped", "not indexed", "not processed")
SUMMARY_ROW = re.compile(r"^  (\S.{0,22}?)\s+(\d+)(?:  \(.*\))?$")
PROGRESS = re.compile(
    r"^newsvault: \d+ s: (\d+) page\(s\) fetched, (\d+) document\(s\) added, (\d+) failure\(s\), "
    r"(\d+) input\(s\) done, \d+\.\d/s$"
)


def summary(out: str) -> tuple[str, dict[str, int]]:
    """(the summary's first line, its numeric rows by label)."""
    lines = out.splitlines()
    start = next(
        i
        for i, line in enumerate(lines)
        if re.match(r"newsvault: crawl \d+ \(\w+\) [a-z]", line) and " started: " not in line
    )
    rows: dict[str, int] = {}
    for line in lines[start + 1 :]:
        match = SUMMARY_ROW.match(line)
        if match:
            rows[match.group(1)] = int(match.group(2))
    return lines[start], rows


def assert_adds_up(rows: dict[str, int]) -> None:
    assert "unaccounted" not in rows, rows
    parts = [rows[label] for label in OUTCOMES] + [rows.get(label, 0) for label in OPTIONAL]
    assert rows["inputs seen"] == sum(parts), rows


def index_counts(archive: Path, crawl_id: int) -> dict[str, int]:
    """What the index holds for one crawl, counted as the summary counts it."""

    def count(sql: str) -> int:
        return int(db_rows(archive, sql)[0][0])

    own = f"crawl_id = {crawl_id}"
    sources = f"{own} and record_type in ('resource', 'response', 'revisit')"
    return {
        "documents added": count(  # documents whose first capture is this crawl's
            "select count(*) from (select min(id) as first from captures"
            " where document_id is not null group by document_id) f"
            f" join captures c on c.id = f.first where c.crawl_id = {crawl_id}"
        ),
        "payload revisits": count(
            f"select count(*) from captures where {own} and record_type = 'revisit'"
            " and document_id is not null"
        ),
        "failures": count(f"select count(*) from failures where {own}"),
        "sources": count(f"select count(*) from captures where {sources}"),
        "failures without capture": count(
            f"select count(*) from failures where {own} and capture_id is null"
        ),
    }


def crawl_id_of(header: str) -> int:
    match = re.match(r"newsvault: crawl (\d+) ", header)
    assert match, header
    return int(match.group(1))


def check_against_index(result: Result, archive: Path) -> dict[str, int]:
    """Summary rows equal the index's rows for the crawl; every input is a source or a failure."""
    assert result.code == 0, result.err[-3000:]
    header, rows = summary(result.out)
    assert_adds_up(rows)
    held = index_counts(archive, crawl_id_of(header))
    assert rows["documents added"] == held["documents added"], (rows, held)
    assert rows["failures"] == held["failures"], (rows, held)
    # Each input of a whole crawl left one source capture, or a failure row without one.
    assert rows["inputs seen"] == held["sources"] + held["failures without capture"], (rows, held)
    return rows


def numbered(text: str, number: int) -> str:
    """A seed made a page of its own: "Report number N." ends its longest paragraph.

    Why inside the article: a line above the headline is page furniture, and pages that
    differ only in furniture are one document.
    """
    lines = text.split("\n")
    longest = max(range(len(lines)), key=lambda i: len(lines[i]))
    lines[longest] = f"{lines[longest]} Report number {number}."
    return "\n".join(lines)


def crawl(
    spider: str, archive: Path, *args: str, env_extra: dict[str, str] | None = None
) -> Result:
    env = {**archive_env(archive), **(env_extra or {})}
    return scrapy("crawl", spider, *args, *CRAWL_SETTINGS, env=env)


def test_files_crawl_prints_our_lines_only(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    # No progress lines (their own test has them): a slow machine would print one in between.
    quiet = {"ARCHIVE_PROGRESS_INTERVAL": "0"}
    result = crawl("files", archive, "-a", f"path={SEEDS}", env_extra=quiet)
    lines = result.out.splitlines()
    assert lines[0] == (
        f"newsvault: crawl 1 (files) started: archive {archive}, "
        f"database sqlite:///{archive}/index.sqlite"
    )
    assert re.fullmatch(
        r"newsvault: crawl 1 \(files\) completed after \d+\.\d s \(\d+\.\d/s\)", lines[1]
    )
    assert lines[2:9] == [
        "  inputs seen             5",
        "  documents added         5  (of which near-duplicates: 0)",
        "  same text, other place  0",
        "  payload revisits        0",
        "  captured, not articles  0",
        "  failures                0",
        "  stories touched         1",
    ]
    assert lines[-2:] == [
        f"  archive                 {archive}",
        f"  database                sqlite:///{archive}/index.sqlite",
    ]
    assert result.err == ""  # no Scrapy log lines: warnings and errors only, and there are none
    check_against_index(result, archive)
    again = crawl("files", archive, "-a", f"path={SEEDS}")
    rows = check_against_index(again, archive)
    assert (rows["inputs seen"], rows["documents added"], rows["payload revisits"]) == (5, 0, 5)


def test_loglevel_info_restores_scrapys_log(tmp_path: Path) -> None:
    result = crawl("files", tmp_path / "archive", "-a", f"path={SEEDS}", "-L", "INFO")
    assert result.code == 0
    assert "[scrapy.core.engine] INFO: Spider opened" in result.err
    assert "[scrapy.statscollectors] INFO: Dumping Scrapy stats" in result.err
    assert summary(result.out)[1]["documents added"] == 5
    env = {**archive_env(tmp_path / "env"), "ARCHIVE_LOG_LEVEL": "INFO"}
    by_env = scrapy("crawl", "files", "-a", f"path={SEEDS}", env=env)
    assert "[scrapy.core.engine] INFO: Spider opened" in by_env.err


def test_progress_lines_while_crawling(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    seeds = sorted(SEEDS.iterdir())
    for number in range(60):
        text = seeds[number % len(seeds)].read_text("utf-8")
        (folder / f"{number:03}.txt").write_text(numbered(text, number), "utf-8")
    result = crawl(
        "files", tmp_path / "archive", "-a", f"path={folder}",
        env_extra={"ARCHIVE_PROGRESS_INTERVAL": "0.2"},
    )  # fmt: skip
    progress = [PROGRESS.match(line) for line in result.out.splitlines()[1:]]
    shown = [match for match in progress if match]
    assert len(shown) >= 2, result.out
    done = [int(match.group(4)) for match in shown]
    assert done == sorted(done) and all(0 <= d <= 60 for d in done)
    rows = check_against_index(result, tmp_path / "archive")
    assert rows["inputs seen"] == 60


def test_site_crawl_adds_up_and_shows_the_page_limit(news_site: NewsSite, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    result = crawl("site", archive, "-a", f"url={news_site.url('/')}", "-a", "max_pages=8")
    rows = check_against_index(result, archive)
    assert rows["inputs seen"] == len(news_site.hits) + rows["failures"] - sum(
        1 for (uri,) in db_rows(archive, "select uri from failures where capture_id is not null")
    )
    limit = [line for line in result.out.splitlines() if line.startswith("  page limit reached")]
    assert len(limit) == 1 and re.fullmatch(
        r"  page limit reached      max_pages=8: \d+ link\(s\) not followed", limit[0]
    ), result.out


def test_urls_crawl_adds_up(news_site: NewsSite, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    urls = tmp_path / "urls.txt"
    paths = [*list(ARTICLES)[:3], DUPLICATE_PATH, REDIRECT_START, "/missing.html"]
    lines = [news_site.url(p) for p in paths] + [f"http://127.0.0.1:{closed_port()}/x", "not a url"]
    urls.write_text("\n".join(lines) + "\n", "utf-8")
    result = crawl("urls", archive, "-a", f"urls={urls}")
    rows = check_against_index(result, archive)
    # 8 lines, robots.txt, and two redirect hops.
    assert rows["inputs seen"] == 11
    assert (rows["documents added"], rows["payload revisits"], rows["failures"]) == (4, 1, 3)


def test_sitemap_and_feed_crawls_add_up(news_site: NewsSite, tmp_path: Path) -> None:
    sitemap = crawl("sitemap", tmp_path / "s", "-a", f"url={news_site.url('/robots.txt')}")
    rows = check_against_index(sitemap, tmp_path / "s")
    # robots.txt, the sitemap index and its 4 sitemaps, 7 articles (one the AMP copy's bytes).
    assert [rows["inputs seen"]] + [rows[label] for label in OUTCOMES] == [13, 6, 0, 1, 6, 0]
    feed = crawl("feed", tmp_path / "f", "-a", f"url={news_site.url('/feed.rss')}")
    rows = check_against_index(feed, tmp_path / "f")
    # robots.txt, the feed and its 4 entries.
    assert [rows["inputs seen"]] + [rows[label] for label in OUTCOMES] == [6, 4, 0, 0, 2, 0]


def test_warc_import_counts_its_records(tmp_path: Path) -> None:
    source = tmp_path / "source"
    assert crawl("files", source, "-a", f"path={SEEDS}").code == 0
    archive = tmp_path / "archive"
    result = crawl("warc", archive, "-a", f"path={source / 'warc'}")
    header, rows = summary(result.out)
    assert result.code == 0 and " completed after " in header
    assert_adds_up(rows)
    # The files crawl wrote 5 resources with a conversion and a metadata record each: the
    # resources become documents, the derived records of the other tool are captured only.
    assert (rows["inputs seen"], rows["documents added"], rows["captured, not articles"]) == (
        15, 5, 10,
    )  # fmt: skip
    assert db_rows(archive, "select count(*) from documents") == [(5,)]


class SlowArticles(BaseHTTPRequestHandler):
    """Article pages that take a while each, so that a crawl can be stopped half way."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path == "/robots.txt":
            body, status = b"User-agent: *\nAllow: /\n", 200
        else:
            time.sleep(0.4)
            number = self.path.strip("/").split(".")[0]
            body = article_html(f"Report {number}", f"project {number}", f"Town {number}").encode()
            status = 200
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def slow_site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowArticles)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def interrupted(command: list[str], env: dict[str, str], fetched: int) -> Result:
    """Run a crawl, send SIGINT to its process group once ``fetched`` pages are fetched (as
    Ctrl-C in a terminal does), and wait for its clean end."""
    process = subprocess.Popen(
        command, cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    out: list[str] = []
    deadline = time.monotonic() + 120
    for raw in process.stdout:
        out.append(raw.decode())
        match = PROGRESS.match(out[-1].rstrip("\n"))
        if (match and int(match.group(1)) >= fetched) or time.monotonic() > deadline:
            break
    with contextlib.suppress(ProcessLookupError):  # ended already: the test then says so
        os.killpg(process.pid, signal.SIGINT)
    rest, err = process.communicate(timeout=120)
    return Result(process.returncode, "".join(out) + rest.decode(), err.decode(), b"")


def test_stopped_crawl_counts_what_it_did_not_process(slow_site: str, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    urls = tmp_path / "urls.txt"
    urls.write_text("".join(f"{slow_site}/{n}.html\n" for n in range(100)), "utf-8")
    env = {**archive_env(archive, workers=None), "ARCHIVE_PROGRESS_INTERVAL": "0.2"}
    command = [str(SCRAPY), "crawl", "urls", "-a", f"urls={urls}", *CRAWL_SETTINGS]
    result = interrupted(command, env, fetched=11)  # robots.txt and 10 pages
    assert result.code == 0, result.err[-3000:]
    assert "Traceback" not in result.err, result.err[-3000:]
    header, rows = summary(result.out)
    assert re.fullmatch(r"newsvault: crawl 1 \(urls\) stopped \(interrupted\) after .*", header)
    assert_adds_up(rows)
    assert rows["inputs seen"] == 101  # 100 URLs and robots.txt
    # What was fetched is processed before the crawl ends; the rest is not processed.
    assert 10 <= rows["documents added"] < 100 and rows["not processed"] > 0
    held = index_counts(archive, 1)
    assert rows["documents added"] == held["documents added"] == held["sources"] - 1
    assert rows["not processed"] == 101 - held["sources"]


def test_stopped_files_crawl_adds_up(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    seeds = sorted(SEEDS.iterdir())
    for number in range(300):
        text = seeds[number % len(seeds)].read_text("utf-8")
        (folder / f"{number:03}.txt").write_text(numbered(text, number), "utf-8")
    archive = tmp_path / "archive"
    env = {**archive_env(archive, workers=None), "ARCHIVE_PROGRESS_INTERVAL": "0.2"}
    command = [str(SCRAPY), "crawl", "files", "-a", f"path={folder}"]
    result = interrupted(command, env, fetched=20)
    assert result.code == 0 and "Traceback" not in result.err, result.err[-3000:]
    header, rows = summary(result.out)
    assert re.fullmatch(r"newsvault: crawl 1 \(files\) stopped \(interrupted\) after .*", header)
    assert_adds_up(rows)
    assert rows["inputs seen"] == 300
    held = index_counts(archive, 1)
    assert rows["documents added"] == held["documents added"] == held["sources"]
    # What was fetched is processed before the end: often every file, sometimes not.
    assert rows.get("not processed", 0) == 300 - held["sources"]
