"""A crawl killed with SIGKILL three times and resumed with the same command ends with every page
archived once: the short, fixed version of bench/crash_resume.py (same site, loop and audit), for
a URL list, a site crawl (whose links are found again in the archived pages) and local files, and
with single worker processes (extraction or index writer) killed under a running crawl."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.archive_audit import audit_archive
from bench.crash_resume import scenario
from bench.crawl_run import FAST_SETTINGS, archive_env, crawl_args, scrapy_command
from bench.kill_resume import KillPlan, KillResumeLoop
from bench.loopback_site import build_site, serve

PAGES = 150
# Fixed moments: right after the site answered 25 more requests (pages fetched, most not yet
# indexed), and a little later. Small enough that each run still has pages left to fetch.
KILLS = [KillPlan(after=25, delay=0.0), KillPlan(25, 0.2), KillPlan(25, 0.3)]
# Local files are read at once and their WARC bytes grow in bursts: a kill waits for fewer
# pages' worth and no longer, so that the third run still has pages left.
FILES_KILLS = [KillPlan(after=8, delay=0.0)] * 3
# Worker kills all land in one run (its main process goes on), which may have fetched every page
# by the second or third: after the first, they follow by time while extraction is under way.
WORKER_KILLS = [KillPlan(after=25, delay=0.0), KillPlan(0, 0.3), KillPlan(0, 0.3)]


@pytest.mark.parametrize(
    ("spider", "target"),
    [("urls", "main"), ("site", "main"), ("files", "main"), ("urls", "worker")],
)
def test_crawl_killed_three_times_and_resumed_archives_every_page_once(
    tmp_path: Path, spider: str, target: str
) -> None:
    site = build_site(PAGES, seed=7)
    archive = tmp_path / "archive"
    db_url = f"sqlite:///{tmp_path / 'index.sqlite'}"
    env = archive_env(archive, db_url, workers=2)
    with serve(site) as served:
        spider_args, expected, progress = scenario(spider, site, served, tmp_path)
        settings = (*FAST_SETTINGS, f"JOBDIR={tmp_path / 'job'}")
        command = scrapy_command(crawl_args(spider, spider_args, settings))
        loop = KillResumeLoop(
            command, env, tmp_path, target=target, progress=progress, run_timeout=300, max_runs=6
        )
        if target == "worker":
            report = loop.run(WORKER_KILLS)
        else:
            report = loop.run(FILES_KILLS if spider == "files" else KILLS)
        audit = audit_archive(archive, db_url, expected, env)
        fetched = served.article_hits()
    summary = "\n".join(report.report_lines() + audit.report_lines())

    assert report.kills == 3, summary
    assert report.ended_by_itself and report.runs[-1].outcome == "exited 0", summary
    assert audit.lost == [], summary
    assert audit.doubled_documents == [], summary
    assert audit.warc_missing == [] and audit.warc_doubled == [], summary
    assert audit.verify_code == 0, summary
    assert audit.warcio_failures == [] and audit.read_errors == [], summary
    assert audit.open_files == [], summary
    assert report.orphans == [], summary
    if spider != "files":
        # Resumed runs answer what the job archived from the WARC files, not from the site:
        # a page is fetched again only if a kill caught it in flight (32 at a time).
        assert sum(fetched) - len(fetched) <= 3 * 32, summary
