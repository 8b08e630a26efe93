"""A disk that fills up under the archive stops the crawl with one line and exit code 1 (not an
error per item and exit 0); what was archived stays consistent, and the same crawl after freeing
space loses nothing. The archive lives on a small tmpfs (root only: skipped otherwise).
"""

from __future__ import annotations

import json
import random
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli import PROJECT_DIR, Result, archive_env, scrapy
from tests.tmpfs import small_tmpfs

ARTICLE_COUNT = 60
STOPPED = (
    r"newsvault: error: the disk is full under {archive} \((.+)\): the crawl stopped; "
    r"what it archived is kept: free some space and run it again"
)
NOT_STARTED = (
    r"newsvault: error: the disk is full under {archive} \((.+)\): the crawl could not start; "
    r"free some space and run it again"
)
UNINDEXED = re.compile(
    r"\d+ records in the WARC files are not in the index: run a crawl to recover them or "
    r"`scrapy reindex`"
)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with small_tmpfs(tmp_path / "disk", "2m") as mount:
        yield mount


@pytest.fixture(scope="module")
def articles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sixty distinct articles of some 16 kB each: more than the small disk takes, indexed."""
    folder = tmp_path_factory.mktemp("disk_full_articles")
    words = (
        (PROJECT_DIR / "tests" / "data" / "articles" / "drills-aug2023.txt")
        .read_text("utf-8")
        .split()
    )
    rng = random.Random(7)
    for number in range(ARTICLE_COUNT):
        lines = [f"Harbour council votes on bridge number {number}"]
        lines += [" ".join(rng.choice(words) for _ in range(60)) + "." for _ in range(40)]
        (folder / f"article-{number:02d}.txt").write_text("\n".join(lines) + "\n", "utf-8")
    return folder


def last_line_matches(result: Result, pattern: str, mentions: int = 2) -> None:
    assert result.code == 1, (result.code, result.out[-2000:], result.err[-3000:])
    assert "Traceback" not in result.err, result.err[-5000:]
    assert "Task exception" not in result.err
    lines = result.err.splitlines()
    assert re.fullmatch(pattern, lines[-1]), lines[-1]
    # The reason is said once as the crawl's last line, once in the log: not once per item.
    said = sum(1 for line in lines if "the disk is full under" in line)
    assert said == mentions, result.err[-3000:]


def exported_urls(env: dict[str, str], out: Path) -> list[str]:
    result = scrapy("export", "-o", str(out), env=env)
    assert result.code == 0, result.err
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    return sorted(str(row["url"]) for row in rows)


def grow(mount: Path) -> None:
    subprocess.run(["mount", "-o", "remount,size=64m", str(mount)], check=True)


def assert_everything_archived(articles: Path, env: dict[str, str], out: Path) -> None:
    verify = scrapy("verify", env=env)
    assert verify.code == 0, verify.out + verify.err
    expected = sorted(path.as_uri() for path in articles.glob("*.txt"))
    assert exported_urls(env, out) == expected


def test_a_disk_filling_up_mid_crawl_stops_it_and_nothing_is_lost(
    articles: Path, small_disk: Path, tmp_path: Path
) -> None:
    archive = small_disk / "archive"
    env = archive_env(archive)
    crawl = scrapy("crawl", "files", "-a", f"path={articles}", env=env)
    last_line_matches(crawl, STOPPED.format(archive=re.escape(str(archive))))
    verify = scrapy("verify", env=env)
    # What reached the WARC files and not the index is named, never a silent "OK".
    if verify.code != 0:
        assert verify.code == 1 and UNINDEXED.fullmatch(verify.out.splitlines()[-1]), verify.out
    grow(small_disk)
    again = scrapy("crawl", "files", "-a", f"path={articles}", env=env)
    assert again.code == 0, again.err[-3000:]
    assert_everything_archived(articles, env, tmp_path / "docs.jsonl")


def test_a_full_disk_at_start_is_one_line_and_the_archive_is_unchanged(
    articles: Path, small_disk: Path, tmp_path: Path
) -> None:
    archive = small_disk / "archive"
    env = archive_env(archive)
    first = sorted(articles.glob("*.txt"))[:2]
    for path in first:
        done = scrapy("crawl", "files", "-a", f"path={path}", env=env)
        assert done.code == 0, done.err[-3000:]
    filler = small_disk / "filler"
    subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=4k"], capture_output=True)
    crawl = scrapy("crawl", "files", "-a", f"path={articles}", env=env)
    # Refused before Scrapy starts: the one line is all of stderr.
    last_line_matches(crawl, NOT_STARTED.format(archive=re.escape(str(archive))), mentions=1)
    assert len(crawl.err.splitlines()) == 1, crawl.err
    filler.unlink()
    grow(small_disk)
    assert sorted(exported_urls(env, tmp_path / "before.jsonl")) == [p.as_uri() for p in first]
    again = scrapy("crawl", "files", "-a", f"path={articles}", env=env)
    assert again.code == 0, again.err[-3000:]
    assert_everything_archived(articles, env, tmp_path / "docs.jsonl")
