"""CPU of a short crawl as a whole, start-up included: `newsvault crawl files` of a folder, run
as a user runs it, in this tree and in baseline commits, alternating in the same run.

    .venv/bin/python bench/startup_cost.py [--baseline COMMIT ...] [--runs 5] [--workers 2] \
        [--path seeds]

A short crawl is mostly start-up: the main process's imports and migration check, the index
writer's and each extraction worker's imports (spawned processes, which also run the entry
point's module again), then a few pages. Each run is a fresh archive; the figure is the CPU
(user + system) of the whole process tree, read as this process's reaped children's rusage
(the crawl reaps its workers and index writer before it exits), and the wall time. Best of
``--runs`` per tree, and the median.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.baseline_tree import ROOT, export_tree

NEWSVAULT = Path(sys.executable).with_name("newsvault")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def crawl_once(tree: Path, folder: Path, workers: int) -> tuple[float, float]:
    """(CPU seconds of the whole crawl, wall seconds) of one `newsvault crawl files`."""
    archive = Path(tempfile.mkdtemp(prefix="nv_startup_"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    env.update(
        PYTHONPATH=str(tree),
        ARCHIVE_DIR=str(archive),
        ARCHIVE_EXTRACT_WORKERS=str(workers),
    )
    try:
        before, began = children_cpu(), time.perf_counter()
        done = subprocess.run(
            [str(NEWSVAULT), "crawl", "files", "-a", f"path={folder}"],
            cwd=tree,
            env=env,
            capture_output=True,
            check=False,
        )
        wall, cpu = time.perf_counter() - began, children_cpu() - before
    finally:
        shutil.rmtree(archive, ignore_errors=True)
    if done.returncode != 0:
        raise SystemExit(f"crawl in {tree} failed:\n{done.stderr.decode()[-2000:]}")
    return cpu, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", action="append", default=[], help="commit to compare with")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2, help="ARCHIVE_EXTRACT_WORKERS")
    parser.add_argument("--path", type=Path, default=ROOT / "seeds", help="folder to crawl")
    args = parser.parse_args()
    if not NEWSVAULT.exists():
        raise SystemExit(f"no {NEWSVAULT}: install the project (pip install -e .)")
    folder = args.path.resolve()
    with tempfile.TemporaryDirectory(prefix="nv_startup_trees_") as scratch:
        trees: dict[str, Path] = {"this tree": ROOT}
        for commit in args.baseline:
            folder_of = Path(scratch) / commit
            folder_of.mkdir()
            trees[export_tree(commit, folder_of)] = folder_of
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
        for _ in range(args.runs):
            for name, tree in trees.items():
                results[name].append(crawl_once(tree, folder, args.workers))
    files = sum(1 for p in folder.rglob("*") if p.is_file())
    print(f"`newsvault crawl files` of {folder} ({files} files), {args.workers} extraction "
          f"worker(s), {args.runs} runs per tree, alternating")  # fmt: skip
    mine = min(cpu for cpu, _ in results["this tree"])
    for name, runs in results.items():
        cpus = [cpu for cpu, _ in runs]
        walls = [wall for _, wall in runs]
        ratio = f", {min(cpus) / mine:.2f}x this tree" if name != "this tree" else ""
        print(
            f"{name:>10}: CPU best {min(cpus):.2f} s, median {statistics.median(cpus):.2f} s; "
            f"wall best {min(walls):.2f} s, median {statistics.median(walls):.2f} s{ratio}"
        )


if __name__ == "__main__":
    main()
