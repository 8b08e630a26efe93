"""The database connection killed under a running crawl: the crawl goes on or stops cleanly, and
afterwards every page is indexed once.

PostgreSQL ends every other session of the crawl's database (`pg_terminate_backend`, what a
server restart or a failover does to a client) three times while a crawl of a loopback site runs.
The index writer fails the batch it was writing; items it failed are indexed from the crawl's
WARC files when the crawl closes (ArchiveRuntime.close), or by the next crawl's start-up.
"""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from bench.archive_audit import audit_archive
from bench.crawl_run import archive_env, crawl_args, scrapy_command, scrapy_output, start
from bench.loopback_site import build_site, serve

PAGES = 300
# Documents committed before each kill: early, in the middle, later (fetching is far ahead of
# indexing, so the kills are timed by what the index writer did).
KILL_AT = (20, 60, 100)
TERMINATE_OTHERS = (
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
    "WHERE datname = %s AND pid <> pg_backend_pid()"
)


def committed_documents(conninfo: str) -> int:
    try:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            row = connection.execute("SELECT count(*) FROM documents").fetchone()
    except psycopg.errors.UndefinedTable:  # the crawl has not created the schema yet
        return 0
    return int(row[0]) if row else 0


def terminate_sessions(conninfo: str, of_url: str | None = None) -> int:
    """End every other session of the database of ``of_url`` (default: the one connected to)."""
    with psycopg.connect(conninfo, autocommit=True) as connection:
        name = make_url(of_url).database if of_url else connection.info.dbname
        row = connection.execute(TERMINATE_OTHERS, (name,)).fetchone()
    return int(row[0]) if row else 0


@pytest.mark.postgres
def test_connections_killed_mid_crawl_lose_nothing(tmp_path: Path, pg_url: str) -> None:
    site = build_site(PAGES, seed=3)
    archive = tmp_path / "archive"
    env = archive_env(archive, pg_url, workers=2)
    conninfo = make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
    log_path = tmp_path / "crawl.log"
    with serve(site) as served, log_path.open("wb") as log:
        urls = served.write_url_list(tmp_path / "urls.txt")
        crawl = start(scrapy_command(crawl_args("urls", {"urls": str(urls)})), env, log)
        terminated = []
        try:
            for documents in KILL_AT:
                deadline = time.monotonic() + 120
                while committed_documents(conninfo) < documents and crawl.poll() is None:
                    assert time.monotonic() < deadline, "the crawl stalled"
                    time.sleep(0.02)
                # A batch may carry the count past two marks at once: wait for a session to end.
                ended = 0
                while not ended and crawl.poll() is None and time.monotonic() < deadline:
                    ended = terminate_sessions(conninfo)
                    time.sleep(0.01)
                if not ended:  # the crawl finished first: fewer kills, checked below
                    break
                terminated.append(ended)
            code = crawl.wait(timeout=300)
        finally:
            if crawl.poll() is None:
                crawl.kill()
                crawl.wait()
        output = log_path.read_text("utf-8", "replace")
        audit = audit_archive(archive, pg_url, served.article_urls, env)
    summary = "\n".join(audit.report_lines()) + "\n" + output[-4000:]
    assert len(terminated) >= 2, (terminated, summary)  # at least two kills mid-crawl
    assert code == 0, summary
    assert "Traceback" not in output, summary
    assert audit.lost == [] and audit.doubled_documents == [], summary
    assert audit.indexed_once == PAGES, summary
    assert audit.warc_missing == [] and audit.warc_doubled == [], summary
    assert audit.verify_code == 0, summary
    assert audit.open_files == [], summary


def set_connections_allowed(pg_url: str, allowed: bool) -> None:
    """Let clients connect to the database of ``pg_url`` or not (from the server's own database)."""
    url = make_url(pg_url)
    admin = url.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as db:
        db.execute(f'ALTER DATABASE "{url.database}" ALLOW_CONNECTIONS {str(allowed).lower()}')


@pytest.mark.postgres
def test_database_gone_at_the_end_exits_1_and_the_next_crawl_catches_up(
    tmp_path: Path, pg_url: str
) -> None:
    site = build_site(PAGES, seed=5)
    archive = tmp_path / "archive"
    env = archive_env(archive, pg_url, workers=2)
    conninfo = make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
    log_path = tmp_path / "crawl.log"
    with serve(site) as served:
        urls = served.write_url_list(tmp_path / "urls.txt")
        with log_path.open("wb") as log:
            crawl = start(scrapy_command(crawl_args("urls", {"urls": str(urls)})), env, log)
            try:
                deadline = time.monotonic() + 120
                while served.total_hits() < PAGES - 20 and crawl.poll() is None:
                    assert time.monotonic() < deadline, "the crawl stalled"
                    time.sleep(0.01)
                assert crawl.poll() is None, "the crawl ended before the database went away"
                set_connections_allowed(pg_url, False)
                terminate_sessions(conninfo.rsplit("/", 1)[0] + "/postgres", pg_url)
                code = crawl.wait(timeout=300)
            finally:
                set_connections_allowed(pg_url, True)
                if crawl.poll() is None:
                    crawl.kill()
                    crawl.wait()
        lines = [line for line in log_path.read_text("utf-8", "replace").splitlines() if line]
        assert code == 1, "\n".join(lines[-40:])
        assert "Traceback" not in "\n".join(lines), "\n".join(lines[-40:])
        assert lines[-1].startswith("newsvault: error: the database failed at the end of crawl 1: ")
        assert lines[-1].endswith("the next crawl indexes what is missing)"), lines[-1]
        # The next crawl (one page) indexes what the first one archived but could not index.
        again = scrapy_output(crawl_args("urls", {"url": served.article_urls[0]}), env, timeout=300)
        assert again[0] == 0, again[1][-3000:]
        audit = audit_archive(archive, pg_url, served.article_urls, env)
    summary = "\n".join(audit.report_lines())
    assert audit.lost == [] and audit.doubled_documents == [], summary
    assert audit.indexed_once == PAGES, summary
    assert audit.verify_code == 0, summary
