"""One writer at a time on a SQLite archive: a second crawl and a reindex are refused with one
line while another process holds the archive, and a killed holder leaves no stale lock."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from pipeline.db.session import default_db_url
from tests.cli import archive_env, scrapy

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def hold_lock(archive: Path) -> subprocess.Popen[str]:
    """A process holding the archive's crawl lock (the lock a running crawl takes)."""
    program = textwrap.dedent(
        f"""
        import os, sys, time
        from pathlib import Path
        from pipeline.crawl.archive_lock import ArchiveLock
        ArchiveLock.acquire(Path({str(archive)!r}))
        print(os.getpid(), flush=True)
        time.sleep(600)
        """
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", program], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == str(holder.pid)
    return holder


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_second_writer_is_refused_and_a_killed_holder_frees_the_archive(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    env = archive_env(archive)
    first = scrapy("crawl", "files", "-a", f"path={SEEDS}", env=env)
    assert first.code == 0, first.err[-2000:]
    index = Path(default_db_url(archive).removeprefix("sqlite:///"))
    before = digest(index)
    warcs = sorted(p.name for p in (archive / "warc").iterdir())

    holder = hold_lock(archive)
    try:
        crawl = scrapy("crawl", "files", "-a", f"path={SEEDS}", env=env)
        assert crawl.code == 1, crawl.err[-2000:]
        line = one_error_line(crawl.err)
        assert f"another crawl (pid {holder.pid}) is writing to the archive" in line, line
        reindex = scrapy("reindex", env=env)
        assert reindex.code == 1, reindex.err[-2000:]
        line = one_error_line(reindex.err)
        assert f"a crawl (pid {holder.pid}) is writing" in line and "reindex once" in line, line
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # Nothing was written by the refused commands.
    assert digest(index) == before
    assert sorted(p.name for p in (archive / "warc").iterdir()) == warcs

    # The kernel dropped the dead holder's lock: the archive is usable again at once.
    again = scrapy("crawl", "files", "-a", f"path={SEEDS}", env=env)
    assert again.code == 0, again.err[-2000:]
    assert scrapy("reindex", env=env).code == 0
