"""An imported record that inflates to far more than it takes on disk (a gzip bomb) is read in
bounded chunks: a failure row over ARCHIVE_MAX_FILE_SIZE, the rest of the file imported, and the
crawl's memory stays far below the record's size."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.bad_input_corpus import good_warc, gzip_bomb_record
from tests.cli import PROJECT_DIR, SCRAPY, archive_env

BOMB_BYTES = 256 << 20  # inflated; some 256 kB on disk
PEAK_LIMIT_BYTES = 320 << 20  # a crawl's own size is ~200 MB; the record alone would be 256 MB more

MEASURE = """
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps({"code": done.returncode, "peak": peak, "err": done.stderr.decode()[-3000:]}))
"""


def test_a_gzip_bomb_record_is_a_row_and_memory_stays_bounded(tmp_path: Path) -> None:
    source = tmp_path / "bomb.warc.gz"
    source.write_bytes(
        gzip_bomb_record("http://example.org/bomb.html", BOMB_BYTES) + good_warc(1, 1)
    )
    assert source.stat().st_size < 1 << 20
    archive = tmp_path / "archive"
    measured = subprocess.run(
        [sys.executable, "-c", MEASURE, str(SCRAPY), "crawl", "warc", "-a", f"path={source}"],
        cwd=PROJECT_DIR, env=archive_env(archive), capture_output=True, check=True, timeout=600,
    )  # fmt: skip
    run = json.loads(measured.stdout)
    assert run["code"] == 0, run["err"]
    assert "Traceback" not in run["err"]
    assert run["peak"] < PEAK_LIMIT_BYTES, run["peak"]
    with sqlite3.connect(archive / "index.sqlite") as db:
        failures = db.execute("SELECT uri, stage, reason FROM failures").fetchall()
        titles = db.execute("SELECT title FROM documents").fetchall()
    assert failures == [
        (
            "http://example.org/bomb.html",
            "input",
            "record too large: payload over 20971520 bytes (ARCHIVE_MAX_FILE_SIZE), not read",
        )
    ]
    assert titles == [("Story 1",)]
