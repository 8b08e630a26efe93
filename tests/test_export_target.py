"""`scrapy export -o FILE` replaces only a regular file of its own, never an archive file: a
device, a symbolic link, a folder, the index or a WARC file is refused with one line (exit 2); a
disk that fills up is one line (exit 1). Either way nothing is replaced and no scratch file stays.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli import PROJECT_DIR, archive_env, crawled_files_archive, scrapy
from tests.test_exit_codes import one_error_line, snapshot
from tests.tmpfs import small_tmpfs

ARTICLES = sorted((PROJECT_DIR / "tests" / "data" / "articles").glob("*.txt"))[:3]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("export_target")
    return crawled_files_archive(root, ARTICLES)


def scratch_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".partial"))


def warc_file(archive: Path) -> Path:
    return next((archive / "warc").glob("*.warc.gz"))


def test_a_regular_file_is_replaced(archive: Path, tmp_path: Path) -> None:
    out = tmp_path / "docs.jsonl"
    out.write_text("old export\n", encoding="utf-8")
    result = scrapy("export", "-o", str(out), env=archive_env(archive))
    assert result.code == 0, result.err
    assert result.out == f"exported {len(ARTICLES)} document(s) to {out} (jsonl)\n"
    assert len([json.loads(line) for line in out.read_text("utf-8").splitlines()]) == len(ARTICLES)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    assert scratch_files(tmp_path) == []


ARCHIVE_FILE = "{out} is an archive or database file: it is never replaced"
NOT_REGULAR = "{out} is %s: export writes only to a regular file"
# (how to name the output, given the archive and a scratch folder; extra options; the line)
REFUSED = [
    (lambda a, t: a / "index.sqlite", ["--format", "csv"], ARCHIVE_FILE),
    (lambda a, t: warc_file(a), ["--format", "jsonl"], ARCHIVE_FILE),
    (lambda a, t: a / "warc" / "new.jsonl", [], ARCHIVE_FILE),
    (lambda a, t: t / "mine.warc.gz", ["--format", "csv"], ARCHIVE_FILE),
    (lambda a, t: Path("/dev/full"), ["--format", "jsonl"], NOT_REGULAR % "a device"),
    (lambda a, t: Path("/dev/stdout"), ["--format", "csv"], NOT_REGULAR % "a symbolic link"),
    (lambda a, t: t, ["--format", "csv"], NOT_REGULAR % "a folder"),
    (lambda a, t: Path("/proc/x.jsonl"), [], "cannot write in /proc: No such file or directory"),
    (lambda a, t: t / "missing" / "x.jsonl", [], "no such folder: {tmp}/missing"),
]


@pytest.mark.parametrize(("name", "options", "message"), REFUSED)
def test_refused_targets_are_left_as_they_were(
    archive: Path, tmp_path: Path, name: object, options: list[str], message: str
) -> None:
    out = name(archive, tmp_path)  # type: ignore[operator]
    before = snapshot(archive)
    kind = os.lstat(out).st_mode if os.path.lexists(out) else None
    result = scrapy("export", "-o", str(out), *options, env=archive_env(archive))
    assert one_error_line(result, 2) == message.format(out=out, tmp=tmp_path)
    assert result.out == ""
    assert snapshot(archive) == before
    assert (os.lstat(out).st_mode if os.path.lexists(out) else None) == kind
    if out.parent.is_dir() and out.parent != Path("/proc"):
        assert scratch_files(out.parent) == []


def test_a_symlink_to_a_file_is_not_followed_nor_replaced(archive: Path, tmp_path: Path) -> None:
    real = tmp_path / "real.jsonl"
    real.write_text("keep me\n", encoding="utf-8")
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    result = scrapy("export", "-o", str(link), env=archive_env(archive))
    assert one_error_line(result, 2) == (
        f"{link} is a symbolic link: export writes only to a regular file"
    )
    assert link.is_symlink() and real.read_text("utf-8") == "keep me\n"


def test_another_sqlite_database_is_not_replaced(archive: Path, tmp_path: Path) -> None:
    other = tmp_path / "notes.csv"  # a database under an innocent name
    shutil.copy(archive / "index.sqlite", other)
    before = other.read_bytes()
    result = scrapy("export", "-o", str(other), env=archive_env(archive))
    assert one_error_line(result, 2) == (
        f"{other} is an archive or database file: it is never replaced"
    )
    assert other.read_bytes() == before


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with small_tmpfs(tmp_path / "disk", "64k") as mount:
        yield mount


def fill(path: Path) -> None:
    """Write zeros to ``path`` until its disk is full."""
    handle = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(handle, b"\0" * 1024):
            pass
    except OSError:
        pass
    finally:
        os.close(handle)


def test_a_full_disk_is_one_line_exit_1_and_the_old_export_stays(
    archive: Path, small_disk: Path
) -> None:
    out = small_disk / "docs.jsonl"
    out.write_text("old export\n", encoding="utf-8")
    fill(small_disk / "filler")
    result = scrapy("export", "-o", str(out), env=archive_env(archive))
    assert one_error_line(result, 1) == f"writing {out} failed: No space left on device"
    assert out.read_text("utf-8") == "old export\n"
    assert scratch_files(small_disk) == []


def test_a_wacz_the_full_disk_cannot_take_is_exit_1_and_the_old_file_stays(
    archive: Path, small_disk: Path
) -> None:
    out = small_disk / "archive.wacz"
    out.write_bytes(b"old package\n")
    fill(small_disk / "filler")
    result = scrapy("export", "-o", str(out), env=archive_env(archive))
    line = one_error_line(result, 1)
    assert line.startswith("cannot write ") and line.endswith("No space left on device"), line
    assert out.read_bytes() == b"old package\n"
    assert scratch_files(small_disk) == []
