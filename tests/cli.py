"""Run newsvault's `scrapy` commands as a user would: a subprocess in the project folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
SCRAPY = Path(sys.executable).with_name("scrapy")


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str
    raw: bytes


def archive_env(
    archive_dir: Path, db_url: str | None = None, *, workers: int | None = 0
) -> dict[str, str]:
    """The environment of a crawl into ``archive_dir``; ``workers=None`` keeps the default
    extraction pool (one process per core), 0 extracts in a thread."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    env["ARCHIVE_DIR"] = str(archive_dir)
    if workers is not None:
        env["ARCHIVE_EXTRACT_WORKERS"] = str(workers)
    if db_url:
        env["ARCHIVE_DB_URL"] = db_url
    return env


def scrapy(*args: str, env: dict[str, str], timeout: float = 180) -> Result:
    return run_command([str(SCRAPY), *args], cwd=PROJECT_DIR, env=env, timeout=timeout)


def run_command(argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float) -> Result:
    completed = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, timeout=timeout, check=False
    )
    return Result(
        completed.returncode,
        completed.stdout.decode("utf-8", "replace"),
        completed.stderr.decode("utf-8", "replace"),
        completed.stdout,
    )


def assert_clean_error(result: Result, *needles: str) -> None:
    """Exit code 2, one line on stderr naming the problem, no traceback."""
    assert result.code == 2, (result.code, result.out, result.err)
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err
    for needle in needles:
        assert needle.lower() in lines[0].lower(), lines[0]


def crawled_files_archive(root: Path, files: Sequence[Path]) -> Path:
    """``root/archive``: a real `crawl files` of copies of ``files`` (in ``root/articles``)."""
    folder = root / "articles"
    folder.mkdir()
    for path in files:
        shutil.copy(path, folder / path.name)
    archive = root / "archive"
    result = scrapy("crawl", "files", "-a", f"path={folder}", env=archive_env(archive))
    assert result.code == 0, result.err[-3000:]
    return archive
