"""`scrapy crawl warc -a copy=true` copies each imported file whole or not at all: a file with a
record broken in the middle leaves nothing of it in our WARC files and no row but its failure."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.bad_input_corpus import corrupt_in_the_middle, good_warc
from tests.cli import archive_env, scrapy


def test_a_file_broken_in_the_middle_is_not_copied_at_all(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "good.warc.gz").write_bytes(good_warc(1))
    (sources / "broken.warc.gz").write_bytes(corrupt_in_the_middle())  # records 10, 11, 12
    archive = tmp_path / "archive"
    env = archive_env(archive)
    result = scrapy("crawl", "warc", "-a", f"path={sources}", "-a", "copy=true", env=env)
    assert result.code == 0, result.err[-3000:]
    assert "Traceback" not in result.err
    with sqlite3.connect(archive / "index.sqlite") as db:
        failures = db.execute("SELECT uri, stage, reason FROM failures").fetchall()
        captured = db.execute(
            "SELECT c.uri, w.name FROM captures c JOIN warc_files w ON w.id = c.warc_file_id "
            "WHERE c.record_type = 'response'"
        ).fetchall()
    assert failures == [
        (
            str(sources / "broken.warc.gz"),
            "input",
            "offset 475: corrupt gzip member: Error -3 while decompressing data: incorrect data "
            "check; not copied (copy=true copies a file whole or not at all)",
        )
    ]
    # Every record of the good file, copied into our WARC files; none of the broken one.
    assert sorted(uri for uri, _ in captured) == [f"http://example.org/{n}.html" for n in (1, 2, 3)]
    ours = {path.name for path in (archive / "warc").glob("*.warc.gz")}
    assert {name for _, name in captured} <= ours
    verify = scrapy("verify", env=env)
    assert verify.code == 0, verify.out + verify.err


def test_without_copy_the_complete_records_before_the_break_are_imported(tmp_path: Path) -> None:
    """The contrast: imported where they lie, the whole records of a broken file are kept."""
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "broken.warc.gz").write_bytes(corrupt_in_the_middle())
    archive = tmp_path / "archive"
    result = scrapy("crawl", "warc", "-a", f"path={sources}", env=archive_env(archive))
    assert result.code == 0, result.err[-3000:]
    with sqlite3.connect(archive / "index.sqlite") as db:
        uris = [row[0] for row in db.execute(
            "SELECT uri FROM captures WHERE record_type = 'response'"
        )]  # fmt: skip
    assert uris == ["http://example.org/10.html"]
