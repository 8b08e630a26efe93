"""CPU cost of the plain-text cleaner, run as a whole process, against a baseline in the same run.

    .venv/bin/python bench/text_cleaner_speed.py [--baseline DIR ...] [--runs 7]

Measures ``clean_plain_text`` on the 100 kB text of ``bench/extract_speed.py`` (seeds and unseen
articles repeated) and on the dev set's real pages (``../shared/devsets/fundus/*.txt``, when
present), each page once per run with the line model's feature cache emptied first, as for
pages never seen before. With ``--baseline DIR`` (a source tree, e.g. ``git archive HEAD | tar
-x -C DIR``) the same measurement runs in a child process importing the cleaner from DIR, runs
alternating with this tree's, and the ratio is printed; ``--baseline`` may be given more than
once (e.g. the rules-only commit and the tree before a change), all measured in the same rounds.
Best of ``--runs`` CPU times.

    .venv/bin/python bench/text_cleaner_speed.py --instructions [--baseline DIR ...]

counts instructions instead (valgrind's callgrind, string hashes seeded), which do not depend
on what else the machine runs, where CPU times of two runs of the same tree differ by a quarter
on a shared machine. Each tree runs once with one pass over the inputs and once with
1 + ``--passes`` (default 4); the difference over ``--passes`` is one pass, start-up, imports
and the first pass's warm-up cancelled out. Averaged over several passes because single passes
differ by up to a tenth (a full garbage collection falls in one pass and not the next).
Instructions are not time (cache misses and memory stalls are not in them): they show where a
change adds work, and the CPU times say what it costs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEVSET = ROOT.parent / "shared" / "devsets" / "fundus"


def _inputs() -> tuple[str, list[str]]:
    """The 100 kB text and the dev set's pages (none when ../shared is not beside this tree)."""
    from bench.extract_speed import plain_text_corpus

    pages = [p.read_text(encoding="utf-8") for p in sorted(DEVSET.glob("*.txt"))]
    return plain_text_corpus(100_000), pages


def _cleaner() -> tuple[Callable[[], None], Callable[[str], object]]:
    """(forget, clean) of the tree this interpreter imports, compiled and warmed up: ``forget``
    empties the line features computed so far, as for pages never seen before."""
    from pipeline.extract import text

    def forget() -> None:
        cache = getattr(text, "_FEATURES", None)  # absent before the line model
        if cache is not None:
            cache.clear()

    text.clean_plain_text("Warm up\n\nThe rules are compiled once.")
    return forget, text.clean_plain_text


def measure(runs: int) -> dict[str, float]:
    """Best CPU milliseconds of this interpreter's ``pipeline`` (whichever tree it imports)."""
    corpus, pages = _inputs()
    forget, clean = _cleaner()
    results = {"100 kB text": float("inf"), "dev set pages": float("inf")}
    for _ in range(runs):
        forget()
        start = time.process_time()
        clean(corpus)
        results["100 kB text"] = min(results["100 kB text"], time.process_time() - start)
        if pages:
            spent = 0.0
            for page in pages:
                forget()
                start = time.process_time()
                clean(page)
                spent += time.process_time() - start
            results["dev set pages"] = min(results["dev set pages"], spent / len(pages))
    if not pages:
        del results["dev set pages"]
    return {name: seconds * 1000 for name, seconds in results.items()}


def clean_passes(passes: int, inputs: str) -> None:
    """Clean ``inputs`` ("text": the 100 kB text, "pages": every dev set page) ``passes`` times."""
    corpus, pages = _inputs()
    forget, clean = _cleaner()
    for _ in range(passes):
        for page in [corpus] if inputs == "text" else pages:
            forget()
            clean(page)


def instructions(tree: Path, passes: int, inputs: str) -> int:
    """Instructions callgrind counts for a whole child process cleaning ``inputs`` in ``tree``."""
    from bench.baseline_tree import tree_env

    with tempfile.TemporaryDirectory() as scratch:
        command = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={scratch}/callgrind.out",
            sys.executable,
            __file__,
            "--child",
            "--passes",
            str(passes),
            "--inputs",
            inputs,
        ]
        done = subprocess.run(
            command, env=tree_env(tree, hash_seed=0), cwd=tree, capture_output=True, text=True
        )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"callgrind failed in {tree}:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def count_instructions(trees: list[Path], passes: int) -> None:
    pages = len(list(DEVSET.glob("*.txt")))
    kinds = {"100 kB text": ("text", passes)}
    if pages:
        kinds["dev set pages"] = ("pages", passes * pages)
    # Why in parallel: counts do not depend on load, and each run takes minutes under valgrind.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as runs:
        for name, (inputs, per) in kinds.items():
            pending = [
                (
                    runs.submit(instructions, tree, 1 + passes, inputs),
                    runs.submit(instructions, tree, 1, inputs),
                )
                for tree in trees
            ]
            counts = [(more.result() - one.result()) / per for more, one in pending]
            line = f"{name}: {counts[0] / 1e6:.2f} M instructions per page"
            for tree, theirs in zip(trees[1:], counts[1:], strict=True):
                line += f" ({tree}: {theirs / 1e6:.2f} M, ratio {counts[0] / theirs:.3f})"
            print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", type=Path, action="append", default=[])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--instructions", action="store_true", help="count instructions (valgrind) instead"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--passes", type=int, default=4, help="passes counted (--instructions)")
    parser.add_argument("--inputs", choices=["text", "pages"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child and args.inputs:
        clean_passes(args.passes, args.inputs)
        return
    if args.child:
        print(json.dumps(measure(args.runs)))
        return
    sys.path.insert(0, str(ROOT))
    from bench.baseline_tree import child_json

    trees = [ROOT, *(baseline.resolve() for baseline in args.baseline)]
    if args.instructions:
        if args.passes < 1:
            parser.error("--passes must be at least 1")
        if shutil.which("valgrind") is None:
            parser.error("--instructions needs valgrind (Debian package valgrind) on PATH")
        count_instructions(trees, args.passes)
        return
    best: list[dict[str, float]] = [{} for _ in trees]
    # Why alternate in rounds: the machine is shared, and load shifts between two long runs.
    for _ in range(3):
        for tree, found in zip(trees, best, strict=True):
            for name, ms in child_json(__file__, tree, ["--runs", str(args.runs)]).items():
                found[name] = min(found.get(name, float("inf")), ms)
    ours = best[0]
    for name, ms in ours.items():
        line = f"{name}: {ms:.2f} ms CPU per page"
        for baseline, theirs in zip(args.baseline, best[1:], strict=True):
            if name in theirs:
                line += f" ({baseline}: {theirs[name]:.2f} ms, ratio {ms / theirs[name]:.2f})"
        print(line)


if __name__ == "__main__":
    main()
