"""Two crawl workers on one Redis frontier and one PostgreSQL index (ARCHIVE_REDIS_URL): every
article fetched once in total and indexed once, both workers doing a real share; then a worker
killed with SIGKILL in the middle of a second crawl, the other finishing: nothing lost or doubled.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bench.archive_audit import audit_archive
from bench.crawl_run import archive_env, scrapy_output
from bench.loopback_site import Route, Site, build_site, hub_paths, serve
from bench.scale_workers import (
    REDIS_TEST_ENV,
    WorkerRun,
    captures_per_crawl,
    redis_keys,
    redis_prefix,
    run_workers,
    worker_env,
)
from pipeline.crawl.frontier import REQUEUED_MARK, Frontier, frontier_name
from tests.pgdb import fresh_postgres_database

ARTICLES = 600
# Articles also served under a second URL, linked from a hub of their own: both workers fetch
# the two copies at about the same time, and the same text must end as one document.
COPIES = 60
TIMEOUT_S = 300
# The page budget of the max_pages test: far fewer pages than the site has.
BUDGET = 100


def redis_test_url() -> str:
    url = os.environ.get(REDIS_TEST_ENV)
    if not url:
        pytest.skip(f"{REDIS_TEST_ENV} is not set: scale-out tests skipped")
    import redis

    server = redis.Redis.from_url(url)
    try:
        server.ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis at {url} ({REDIS_TEST_ENV}) does not answer: {error}")
    finally:
        server.close()
    return url


def site_args(base: str, site: Site) -> dict[str, str]:
    # max_pages counts the pages of all workers together; at depth 3 articles' links to
    # furniture pages (404s) are admitted too, so the budget leaves room for them.
    return {"url": base + "/", "max_depth": "3", "max_pages": str(3 * len(site.routes))}


def last_crawl(env: dict[str, str]) -> dict[str, Any]:
    code, out = scrapy_output(["stats", "--json"], env, timeout=120)
    assert code == 0, out
    crawl: dict[str, Any] = json.loads(out)["last_crawl"]
    return crawl


def iso(json_time: str) -> str:
    """A `stats --json` time as the text lines print it (both ISO 8601, UTC, to the second)."""
    return datetime.fromisoformat(json_time).isoformat()


def worker_rows(crawl: dict[str, Any], run: WorkerRun) -> list[dict[str, Any]]:
    """The crawl's worker rows in the order of ``run.workers`` (matched by pid)."""
    by_pid = {row["pid"]: row for row in crawl["workers"]}
    assert sorted(by_pid) == sorted(w.process.pid for w in run.workers), crawl
    return [by_pid[w.process.pid] for w in run.workers]


def with_copies(site: Site, count: int) -> Site:
    """The site with its first ``count`` articles served again under /copies/, and a hub."""
    routes = dict(site.routes)
    copies = [f"/copies{page.path}" for page in site.articles[:count]]
    for page, path in zip(site.articles, copies, strict=False):
        routes[path] = Route(site.routes[page.path].body, gzipped=True)
    links = [*hub_paths(), "/copies/"]
    routes["/copies/"] = Route(link_page(copies))
    routes["/"] = Route(link_page(links))
    return Site(site.text_source, site.articles, routes)


def link_page(paths: list[str]) -> bytes:
    items = "".join(f'<li><a href="{path}">{path}</a></li>' for path in paths)
    head = "<!DOCTYPE html><html><head><title>Hub</title></head>"
    return f"{head}<body><ul>{items}</ul></body></html>".encode()


def index_rows(db_url: str) -> tuple[int, set[str]]:
    """(documents, URIs with a capture row) in the index."""
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            documents = connection.execute(text("SELECT count(*) FROM documents")).scalar_one()
            linked = connection.execute(text("SELECT DISTINCT uri FROM captures")).scalars()
            return int(documents), set(linked)
    finally:
        engine.dispose()


def test_two_workers_share_one_frontier_and_survive_a_killed_worker(tmp_path: Path) -> None:
    redis_url = redis_test_url()
    with (
        fresh_postgres_database("nv_scale") as db_url,
        redis_prefix(redis_url) as prefix,
    ):
        archive = tmp_path / "archive"
        env = worker_env(archive_env(archive, db_url, workers=1), redis_url, prefix)
        env["ARCHIVE_REDIS_WORKER_TIMEOUT"] = "6"  # the killed worker is noticed sooner

        # 1. Two workers started together share the crawl.
        first = with_copies(build_site(ARTICLES, seed=3), COPIES)
        with serve(first) as served:
            run = run_workers(
                2, site_args(served.base, first), env, tmp_path / "run1", timeout=TIMEOUT_S
            )
            hits = served.article_hits()
            fetches = served.total_hits()
            urls, base = served.article_urls, served.base
        report = run.logs_tail()
        assert run.codes() == [0, 0], report
        assert hits == [1] * ARTICLES, f"articles fetched other than once: {report}"
        # Articles served once: one response record and one document each.
        single = urls[COPIES:]
        audit = audit_archive(archive, db_url, single, env)
        summary = "\n".join(audit.report_lines()) + "\n" + report
        assert audit.indexed_once == audit.warc_once == len(single), summary
        assert audit.verify_code == 0, summary
        # Articles served twice (same bytes, often fetched by both workers at once): still one
        # document each, whichever URL came first, and both URLs captured.
        documents, linked = index_rows(db_url)
        copies = [served_url.replace(f"{base}/", f"{base}/copies/") for served_url in urls[:COPIES]]
        assert documents == ARTICLES, summary
        assert set(urls) | set(copies) <= linked, summary
        shares = captures_per_crawl(db_url, set(urls))
        assert len(shares) == 2 and sum(shares) == ARTICLES, f"{shares}\n{summary}"
        assert min(shares) >= ARTICLES * 0.2, f"one worker did too little: {shares}\n{report}"
        assert redis_keys(redis_url, prefix) == [], "a finished crawl leaves its frontier behind"
        # `scrapy stats`: one crawl of two workers, whose pages add up to what the server sent.
        crawl = last_crawl(env)
        rows = worker_rows(crawl, run)
        # The shared crawl's id is the crawl id of the worker that reached Redis first.
        assert crawl["scaled_out"] is True and crawl["id"] in [r["crawl_id"] for r in rows], crawl
        assert [r["outcome"] for r in rows] == ["finished", "finished"], crawl
        assert crawl["finished"] == max(r["finished"] for r in rows), crawl
        assert sum(r["pages"] for r in rows) == fetches, crawl
        assert sum(r["documents"] for r in rows) == ARTICLES, crawl
        # Every page of the site once; the rest were articles' links to absent pages (404s).
        assert sum(r["failures"] for r in rows) == fetches - len(first.routes), crawl

        # 2. A second crawl (another site): worker 0 is killed halfway, worker 1 finishes it.
        second = build_site(ARTICLES, seed=11)
        with serve(second) as served2:
            run2 = run_workers(
                2,
                site_args(served2.base, second),
                env,
                tmp_path / "run2",
                timeout=TIMEOUT_S,
                kill_when=lambda: sum(served2.article_hits()) >= ARTICLES // 2,
            )
            hits2 = served2.article_hits()
            urls2 = served2.article_urls
        report2 = run2.logs_tail()
        assert run2.workers[0].killed, report2
        assert run2.workers[1].process.returncode == 0, report2
        assert min(hits2) >= 1, report2
        # Only what the killed worker had in flight (32 requests at most) may be fetched again.
        assert sum(hits2) - ARTICLES <= 32, f"{sum(hits2)} fetches\n{report2}"
        audit2 = audit_archive(archive, db_url, single + urls2, env)
        summary2 = "\n".join(audit2.report_lines()) + "\n" + report2
        assert audit2.lost == [] and audit2.doubled_documents == [], summary2
        assert audit2.indexed_once == len(single) + ARTICLES, summary2
        assert audit2.open_files == [] and audit2.verify_code == 0, summary2
        assert "is gone" in run2.workers[1].log(), "the live worker never requeued the dead one's"
        assert redis_keys(redis_url, prefix) == [], "a finished crawl leaves its frontier behind"
        # The second crawl is a crawl of its own: the killed worker died, the other finished.
        crawl2 = last_crawl(env)
        killed, finished = worker_rows(crawl2, run2)
        assert crawl2["id"] > crawl["id"], crawl2
        assert (killed["outcome"], finished["outcome"]) == ("died", "finished"), crawl2
        assert killed["finished"] is None and crawl2["finished"] == finished["finished"], crawl2
        assert killed["documents"] + finished["documents"] == ARTICLES, crawl2


def test_max_pages_counts_the_pages_of_all_workers(tmp_path: Path) -> None:
    """`-a max_pages=N` with two workers: N pages requested in total (the server counts), each
    once; `scrapy stats` shows the two workers of one crawl, their pages adding up to N."""
    redis_url = redis_test_url()
    with (
        fresh_postgres_database("nv_budget") as db_url,
        redis_prefix(redis_url) as prefix,
    ):
        env = worker_env(archive_env(tmp_path / "archive", db_url, workers=1), redis_url, prefix)
        site = build_site(ARTICLES, seed=5)
        with serve(site) as served:
            args = {"url": served.base + "/", "max_depth": "3", "max_pages": str(BUDGET)}
            run = run_workers(2, args, env, tmp_path / "run", timeout=TIMEOUT_S)
            fetches, hits = served.total_hits(), served.article_hits()
        report = run.logs_tail()
        assert run.codes() == [0, 0], report
        assert fetches == BUDGET, f"{fetches} pages requested\n{report}"
        assert max(hits) == 1, report
        assert redis_keys(redis_url, prefix) == [], "a finished crawl leaves its frontier behind"
        crawl = last_crawl(env)
        rows = worker_rows(crawl, run)
        assert sum(row["pages"] for row in rows) == BUDGET, crawl
        assert sum(row["documents"] for row in rows) == sum(hits), crawl
        code, out = scrapy_output(["stats"], env, timeout=120)
        assert code == 0, out
        lines = out.splitlines()
        head = f"last crawl                {crawl['id']}: "
        heads = [line for line in lines if line.startswith(head)]
        span = f"{iso(crawl['started'])} .. {iso(crawl['finished'])}"
        assert heads == [f"{head}{span}, 2 worker(s)"], out
        for row in sorted(rows, key=lambda r: r["crawl_id"]):
            at = lines.index(
                f"  worker crawl {row['crawl_id']}  {row['host']} pid {row['pid']}  "
                f"{iso(row['started'])} .. {iso(row['finished'])}  finished"
            )
            assert lines[at + 1] == (
                f"    pages {row['pages']}  documents {row['documents']}  "
                f"revisits {row['revisits']}  failures {row['failures']}"
            ), out


def frontier_pair(redis_url: str, prefix: str) -> tuple[Frontier, Frontier]:
    from pipeline.crawl.frontier import connect

    server = connect(redis_url)
    name = frontier_name(prefix, "site", {"url": "http://127.0.0.1:9/"})
    return Frontier(server, name, "worker-a"), Frontier(server, name, "worker-b")


def test_frontier_holds_popped_requests_until_acknowledged_and_requeues_a_dead_workers() -> None:
    redis_url = redis_test_url()
    with redis_prefix(redis_url) as prefix:
        a, b = frontier_pair(redis_url, prefix)
        assert a.push("fp1", 0, b"\x80one", filter_seen=True, token="")
        assert a.push("fp2", 0, b"\x80two", filter_seen=True, token="")
        assert not b.push("fp1", 0, b"\x80one again", filter_seen=True, token="")
        assert b.push("fp1", 0, b"\x80one, retried", filter_seen=False, token="")
        assert a.queued() == 3

        popped = a.pop()
        assert popped is not None
        _token, data = popped
        assert a.queued() == 2 and a.inflight_count() == 1
        second = a.pop()
        assert second is not None
        a.ack([second[0]])
        assert a.inflight_count() == 1  # only the acknowledged one left

        # worker a dies: b puts what a still held back, marked as requeued
        a.register(crawl_id=None)
        assert b.requeue(a.worker) == 1
        assert a.inflight_count() == 0 and b.queued() == 2
        assert b.reap_count() == 1
        members = list(b.server.zrange(b.keys.queue, 0, -1))
        assert REQUEUED_MARK + data in members


def test_frontier_is_seeded_once_and_by_an_heir_when_the_seeder_died() -> None:
    redis_url = redis_test_url()
    with redis_prefix(redis_url) as prefix:
        a, b = frontier_pair(redis_url, prefix)
        a.register(crawl_id=None)
        assert a.claim_seeding()
        assert not b.claim_seeding()  # a is alive and seeding
        a.server.delete(a.keys.alive(a.worker))  # a died mid-seeding
        assert b.claim_seeding()
        b.mark_seeded()
        assert not a.claim_seeding() and a.is_seeded()
        a.drop()
        assert not b.is_seeded() and b.claim_seeding()
