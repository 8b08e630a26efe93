"""`reindex` as a whole process: wall time, its CPU and the database server's, against baselines.

    .venv/bin/python bench/reindex_speed.py [--pages 3000] [--db postgresql|sqlite] \
        [--baseline DIR ...] [--rounds 1] [--archive DIR] [--keep]

Builds an archive once (``--pages`` generated article pages of ``bench.article_pages``, written
as files and archived by the real ``scrapy crawl files``; or the archive in ``--archive DIR``,
read only), then rebuilds its index from the WARC files with the real ``scrapy reindex`` into a
new, empty database: for this tree and for each ``--baseline DIR`` (a source tree, e.g. ``git
archive HEAD | tar -x -C DIR``, whose ``pipeline`` the process imports first), alternating, in
``--rounds`` rounds. Prints per tree the best wall time, the command's CPU (its own and its
children's, from the kernel's accounting of the reaped process), and with ``--db postgresql`` on
this machine the CPU of the server processes serving the database (sampled from /proc every
0.2 s while the command runs: the last fraction of a second before it disconnects may be
missed). Fails unless every tree's index holds the same documents, duplicates and stories.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.article_pages import generate_pages  # noqa: E402
from bench.baseline_tree import tree_env  # noqa: E402
from bench.crawl_run import SCRAPY, archive_env  # noqa: E402
from bench.scratch_db import POSTGRES_SERVER, scratch_database  # noqa: E402
from bench.server_cpu import ServerCpuSampler  # noqa: E402

# What the rebuilt index holds, compared between trees.
INDEX_COUNTS = (
    "SELECT (SELECT count(*) FROM documents), "
    "(SELECT count(*) FROM documents WHERE duplicate_of IS NOT NULL), "
    "(SELECT count(DISTINCT story_id) FROM documents), "
    "(SELECT count(*) FROM captures WHERE document_id IS NOT NULL)"
)


@dataclass
class Run:
    wall_s: float
    cpu_s: float
    server_s: float | None
    counts: tuple[int, ...]


def build_archive(pages: int, folder: Path) -> Path:
    """An archive of ``pages`` generated article pages, made by `scrapy crawl files`."""
    files = folder / "pages"
    files.mkdir()
    source, generated = generate_pages(pages, seed=3)
    for number, page in enumerate(generated):
        (files / f"page-{number:05d}.html").write_text(page.html, encoding="utf-8")
    archive = folder / "archive"
    print(f"archiving {len(generated)} pages from {source} with `scrapy crawl files`", flush=True)
    subprocess.run(
        [str(SCRAPY), "crawl", "files", "-a", f"path={files}"],
        cwd=ROOT,
        env=archive_env(archive, None, None),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return archive


def reindex(tree: Path, archive: Path, db_url: str) -> Run:
    """`scrapy reindex` in ``tree``; its CPU (its own and its children's, reaped) from the growth
    of this process's RUSAGE_CHILDREN."""
    env = {**archive_env(archive, db_url, None), "PYTHONPATH": tree_env(tree)["PYTHONPATH"]}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(SCRAPY), "reindex"],
        cwd=tree,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    with ServerCpuSampler(db_url) as server:
        output, _ = process.communicate()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode != 0:
        raise SystemExit(f"reindex in {tree} failed ({process.returncode}):\n{output.decode()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(wall, cpu, server.cpu_seconds, index_counts(db_url))


def index_counts(db_url: str) -> tuple[int, ...]:
    from sqlalchemy import text

    from pipeline.db.session import make_engine

    engine = make_engine(db_url, set_wal=False)
    try:
        with engine.connect() as connection:
            row = connection.execute(text(INDEX_COUNTS)).one()
    finally:
        engine.dispose()
    return tuple(int(value) for value in row)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=3000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--baseline", type=Path, action="append", default=[])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--archive", type=Path, help="an existing archive to read (not changed)")
    parser.add_argument("--postgres-server", default=POSTGRES_SERVER)
    parser.add_argument("--keep", action="store_true", help="keep the run's folder")
    args = parser.parse_args()
    if args.pages < 1 or args.rounds < 1:
        parser.error("--pages and --rounds must be at least 1")
    trees = [ROOT, *(baseline.resolve() for baseline in args.baseline)]
    folder = Path(tempfile.mkdtemp(prefix="nv_reindex_speed_"))
    try:
        archive = args.archive.resolve() if args.archive else build_archive(args.pages, folder)
        warc_folder = folder / "warc-only"
        # reindex writes nothing into the archive but its index: each run reads a copy of the
        # WARC files in an archive folder of its own, so the given one stays as it is.
        shutil.copytree(archive / "warc", warc_folder / "warc")
        print(f"load average {os.getloadavg()[0]:.1f}; database {args.db}", flush=True)
        best: dict[int, Run] = {}
        for round_number in range(args.rounds):
            for position, tree in enumerate(trees):
                db_folder = folder / f"db-{round_number}-{position}"
                db_folder.mkdir()
                with scratch_database(args.db, db_folder, args.postgres_server) as db_url:
                    run = reindex(tree, warc_folder, db_url)
                print(
                    f"  {tree}: {run.wall_s:.1f} s, CPU {run.cpu_s:.1f} s"
                    + ("" if run.server_s is None else f", server CPU {run.server_s:.1f} s")
                    + f"; documents, duplicates, stories, linked captures {run.counts}",
                    flush=True,
                )
                kept = best.get(position)
                if kept is not None and kept.counts != run.counts:
                    raise SystemExit(f"{tree}: two runs gave different indexes")
                if kept is None or run.wall_s < kept.wall_s:
                    best[position] = run
    finally:
        if args.keep:
            print(f"run folder (kept): {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    print("best of rounds (by wall time):")
    for position, tree in enumerate(trees):
        run = best[position]
        server = "" if run.server_s is None else f", server CPU {run.server_s:.1f} s"
        print(f"  {tree}: {run.wall_s:.1f} s wall, CPU {run.cpu_s:.1f} s{server}")
    if any(run.counts != best[0].counts for run in best.values()):
        print("INDEXES DIFFER between trees")
        return 1
    print(f"indexes: the same in every tree {best[0].counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
