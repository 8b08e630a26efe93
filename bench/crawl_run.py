"""How the benchmarks start a real crawl: `scrapy crawl ...` as a process of its own in the
project folder (so the project settings apply), with its archive and index where they are told."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

PROJECT_DIR = Path(__file__).resolve().parent.parent
SCRAPY = Path(sys.executable).with_name("scrapy")
WARCIO = Path(sys.executable).with_name("warcio")
WRAPPER = Path(__file__).resolve().with_name("crawl_wrapper.py")
# Politeness off: the site is ours, on loopback.
FAST_SETTINGS = (
    "AUTOTHROTTLE_ENABLED=False",
    "CONCURRENT_REQUESTS=32",
    "CONCURRENT_REQUESTS_PER_DOMAIN=32",
    "DOWNLOAD_DELAY=0",
    "ROBOTSTXT_OBEY=False",
)


def archive_env(archive_dir: Path, db_url: str | None, workers: int | None) -> dict[str, str]:
    """The environment of a crawl: no ARCHIVE_* setting leaks in from the caller's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    env["ARCHIVE_DIR"] = str(archive_dir)
    if db_url:
        env["ARCHIVE_DB_URL"] = db_url
    if workers is not None:
        env["ARCHIVE_EXTRACT_WORKERS"] = str(workers)
    return env


def crawl_args(
    spider: str, spider_args: dict[str, str], settings: tuple[str, ...] = FAST_SETTINGS
) -> list[str]:
    args = ["crawl", spider]
    for name, value in spider_args.items():
        args += ["-a", f"{name}={value}"]
    for setting in settings:
        args += ["-s", setting]
    return args


def scrapy_command(args: list[str], *, measured: bool = False) -> list[str]:
    """The command line: the `scrapy` script, or (measured) the wrapper that reports rusage."""
    if measured:
        return [sys.executable, str(WRAPPER), *args]
    return [str(SCRAPY), *args]


def start(command: list[str], env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    """Start a crawl in a session of its own, so its whole process group can be signalled."""
    return subprocess.Popen(
        command,
        cwd=PROJECT_DIR,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def scrapy_output(args: list[str], env: dict[str, str], timeout: float) -> tuple[int, str]:
    """(exit code, stdout + stderr) of a short scrapy command such as `verify`."""
    completed = subprocess.run(
        [str(SCRAPY), *args],
        cwd=PROJECT_DIR,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    output = completed.stdout.decode("utf-8", "replace") + completed.stderr.decode(
        "utf-8", "replace"
    )
    return completed.returncode, output


@contextmanager
def run_folder(prefix: str, keep: bool) -> Iterator[Path]:
    """A temporary folder for one run, removed afterwards unless ``keep``."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    if keep:
        print(f"run folder (kept): {folder}", flush=True)
    try:
        yield folder
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
