"""An archive on a read-only disk (a mounted backup, a read-only share) can still be searched,
shown, counted, verified and exported; a crawl into it is refused with one line (exit 1).

SQLite in WAL mode needs its -shm file beside the database even to read; where the folder cannot
take one, the index is opened as an immutable file. The archive lives on a tmpfs remounted
read-only (root only: skipped otherwise).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli import PROJECT_DIR, archive_env, scrapy
from tests.test_exit_codes import one_error_line, snapshot

ARTICLES = sorted((PROJECT_DIR / "tests" / "data" / "articles").glob("*.txt"))[:3]


@pytest.fixture(scope="module")
def read_only_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("read_only")
    folder = root / "articles"
    folder.mkdir()
    for article in ARTICLES:
        shutil.copy(article, folder / article.name)
    mount = root / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        archive = mount / "archive"
        crawl = scrapy("crawl", "files", "-a", f"path={folder}", env=archive_env(archive))
        assert crawl.code == 0, crawl.err[-3000:]
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        yield archive
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_queries_read_a_read_only_archive(read_only_archive: Path, tmp_path: Path) -> None:
    env = archive_env(read_only_archive)
    before = snapshot(read_only_archive)
    stats = scrapy("stats", "--json", env=env)
    assert stats.code == 0, stats.err
    assert json.loads(stats.out)["documents"] == len(ARTICLES)
    search = scrapy("search", "--json", "minister", env=env)
    assert search.code == 0, search.err
    found = sorted(json.loads(line)["url"] for line in search.out.splitlines())
    folder = read_only_archive.parent.parent / "articles"
    mention = [p for p in sorted(folder.glob("*.txt")) if "minister" in p.read_text().lower()]
    assert found == [path.as_uri() for path in mention] != []
    show = scrapy("show", "--json", "1", env=env)
    assert show.code == 0, show.err
    assert json.loads(show.out)["id"] == 1
    verify = scrapy("verify", env=env)
    assert verify.code == 0, verify.out + verify.err
    assert verify.out.endswith(": OK\n"), verify.out
    out = tmp_path / "docs.jsonl"
    export = scrapy("export", "-o", str(out), env=env)
    assert export.code == 0, export.err
    urls = sorted(json.loads(line)["url"] for line in out.read_text("utf-8").splitlines())
    assert urls == sorted(path.as_uri() for path in folder.glob("*.txt"))
    assert snapshot(read_only_archive) == before
    names = sorted(p.name for p in read_only_archive.iterdir())
    assert names == [".crawl.lock", "index.sqlite", "warc"]  # no -wal or -shm file made


def test_a_crawl_into_a_read_only_archive_is_one_line_exit_1(read_only_archive: Path) -> None:
    env = archive_env(read_only_archive)
    before = snapshot(read_only_archive)
    result = scrapy("crawl", "files", "-a", f"path={ARTICLES[0]}", env=env)
    assert one_error_line(result, 1) == (
        f"the archive folder {read_only_archive} is not writable (Read-only file system): "
        "a crawl needs to write there"
    )
    assert snapshot(read_only_archive) == before
