"""`scrapy failures`: every failure row of a real crawl, filtered by stage and day, as lines or
JSON Lines."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from tests.cli import PROJECT_DIR, Result, archive_env, assert_clean_error, scrapy

SEED = PROJECT_DIR / "seeds" / "000_45aba19d97436708.txt"


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A files crawl with one document and three failures at fixed times."""
    root = tmp_path_factory.mktemp("failures")
    inbox = root / "inbox"
    inbox.mkdir()
    (inbox / "article.txt").write_bytes(SEED.read_bytes())
    (inbox / "empty.txt").write_bytes(b"")
    (inbox / "report.pdf").write_bytes(b"%PDF-1.4 binary")
    (inbox / "picture.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20)
    archive = root / "archive"
    result = scrapy("crawl", "files", "-a", f"path={inbox}", env=archive_env(archive))
    assert result.code == 0, result.err[-2000:]
    # Fixed times, so that day bounds can be tested to the second.
    times = {
        "empty.txt": "2024-05-13 10:00:00",
        "picture.txt": "2024-05-14 23:59:59",
        "report.pdf": "2024-05-15 00:00:00",
    }
    with closing(sqlite3.connect(archive / "index.sqlite")) as db, db:
        for name, when in times.items():
            db.execute("update failures set created_at = ? where uri like ?", (when, f"%/{name}"))
        assert db.execute("select count(*) from failures").fetchone() == (3,)
    yield archive


def failures(archive: Path, *args: str) -> Result:
    return scrapy("failures", *args, env=archive_env(archive))


def test_lists_every_failure_newest_first(archive: Path) -> None:
    inbox = archive.parent / "inbox"
    result = failures(archive)
    assert result.code == 0 and result.err == ""
    assert result.out.splitlines() == [
        f"2024-05-15T00:00:00+00:00  input     {(inbox / 'report.pdf').as_uri()}  "
        "unsupported file type '.pdf' (reads .txt, .html, .htm, no extension)",
        f"2024-05-14T23:59:59+00:00  extract   {(inbox / 'picture.txt').as_uri()}  "
        "binary content: looks like PNG image",
        f"2024-05-13T10:00:00+00:00  extract   {(inbox / 'empty.txt').as_uri()}  empty file",
    ]


def names(result: Result) -> list[str]:
    assert result.code == 0, result.err
    return [Path(line.split()[2]).name for line in result.out.splitlines() if "  " in line]


def test_day_bounds_are_inclusive(archive: Path) -> None:
    assert names(failures(archive, "--until", "2024-05-14")) == ["picture.txt", "empty.txt"]
    assert names(failures(archive, "--since", "2024-05-14")) == ["report.pdf", "picture.txt"]
    day = failures(archive, "--since", "2024-05-14", "--until", "2024-05-14")
    assert names(day) == ["picture.txt"]
    assert failures(archive, "--since", "2024-05-16").out == "no failures\n"


def test_stage_and_limit(archive: Path) -> None:
    assert names(failures(archive, "--stage", "extract")) == ["picture.txt", "empty.txt"]
    assert names(failures(archive, "--stage", "extract", "--limit", "1")) == ["picture.txt"]
    assert failures(archive, "--stage", "fetch").out == "no failures\n"


def test_json_lines(archive: Path) -> None:
    result = failures(archive, "--json", "--stage", "input")
    rows = [json.loads(line) for line in result.out.splitlines()]
    assert len(rows) == 1
    row = rows[0]
    assert isinstance(row["id"], int) and row["crawl_id"] == 1
    del row["id"], row["capture_id"]
    assert row == {
        "when": "2024-05-15T00:00:00+00:00",
        "stage": "input",
        "uri": (archive.parent / "inbox" / "report.pdf").as_uri(),
        "reason": "unsupported file type '.pdf' (reads .txt, .html, .htm, no extension)",
        "crawl_id": 1,
    }


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--stage", "fetchh"), "unknown stage 'fetchh'"),
        (("--since", "14.05.2024"), "--since: not a date"),
        (("--since", "2024-05-15", "--until", "2024-05-14"), "is after --until"),
        (("extra",), "failures takes no arguments, got 'extra'"),
    ],
)
def test_bad_options_are_one_line_exit_2(archive: Path, args: tuple[str, ...], needle: str) -> None:
    assert_clean_error(failures(archive, *args), needle)
