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
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEVSET = ROOT.parent / "shared" / "devsets" / "fundus"


def measure(runs: int) -> dict[str, float]:
    """Best CPU milliseconds of this interpreter's ``pipeline`` (whichever tree it imports)."""
    from bench.extract_speed import plain_text_corpus
    from pipeline.extract import text

    def forget() -> None:
        cache = getattr(text, "_FEATURES", None)
        if cache is not None:
            cache.clear()

    corpus = plain_text_corpus(100_000)
    pages = [p.read_text(encoding="utf-8") for p in sorted(DEVSET.glob("*.txt"))]
    text.clean_plain_text("Warm up\n\nThe rules are compiled once.")
    results = {"100 kB text": float("inf"), "dev set pages": float("inf")}
    for _ in range(runs):
        forget()
        start = time.process_time()
        text.clean_plain_text(corpus)
        results["100 kB text"] = min(results["100 kB text"], time.process_time() - start)
        if pages:
            spent = 0.0
            for page in pages:
                forget()
                start = time.process_time()
                text.clean_plain_text(page)
                spent += time.process_time() - start
            results["dev set pages"] = min(results["dev set pages"], spent / len(pages))
    if not pages:
        del results["dev set pages"]
    return {name: seconds * 1000 for name, seconds in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", type=Path, action="append", default=[])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.runs)))
        return
    sys.path.insert(0, str(ROOT))
    from bench.baseline_tree import child_json

    trees = [ROOT, *(baseline.resolve() for baseline in args.baseline)]
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
