"""CPU cost of the index writer on the crawl benchmark's pages, against a baseline in the same run.

    .venv/bin/python bench/index_speed.py [--pages 1000] [--db sqlite|postgresql]
        [--baseline DIR ...] [--rounds 2] [--story-window-days 7] [--devset-copies N]
        [--devset-pages K]

The pages of ``bench/crawl_speed.py`` (``bench.article_pages``, same seed) are extracted and
analysed once per process, then indexed into a fresh database the way the crawl's index writer
process does it (``pipeline.index.batch.index_batch``, batches of 200, one transaction each,
synthetic WARC references): the CPU of that stage alone, per document. Generated pages share
their names (the word chain is trained on real news), so every report has the full twenty
story candidates, as reports of a busy news week do.

With ``--baseline DIR`` (a source tree, e.g. ``git archive HEAD | tar -x -C DIR``) the same
measurement runs in a child process importing ``pipeline`` from DIR, in rounds alternating with
this tree's; the best CPU of each is printed with the ratio, and the run fails unless every tree
made the same decisions (outcome, duplicate, story and document id of every page).

With ``--db postgresql`` and the server on this machine, the CPU of the server processes serving
the run's database (its backends, read from /proc before their connections close) is printed
too, per document: the server's share of the index's cost.

The writer's CPU is also printed per tenth of the pages (per batch when there are fewer than ten):
flat, or growing with the archive.
``--story-window-days`` widens the story window (default 7: ~550 generated pages), so that the
members compared with each report are spread over more of the archive, as in a large one.
``--devset-copies N`` indexes N copies of each of the dev set's real pages instead
(bench.real_pages: 350 kB of HTML on average, longer article texts than the generated pages,
every copy a document of its own) and ignores ``--pages``; the copies of a page are one
near-duplicate group, N members at the end. ``--devset-pages K`` takes the first K pages only
(``--devset-pages 1 --devset-copies 600``: one group of 600 copies).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BATCH = 200
FIRST_FETCH = datetime(2024, 3, 1, 6, 0, tzinfo=UTC)
# One page every 37 minutes, as the generated pages' publication times: ~270 in a story window.
FETCH_STEP = timedelta(minutes=37)


def measure(pages_file: Path, db: str, story_window_days: int) -> dict[str, object]:
    """CPU ms per document of analysis and of indexing, with this interpreter's ``pipeline``."""
    from bench.scratch_db import scratch_database
    from bench.server_cpu import server_cpu_seconds
    from pipeline.analysis import analyse
    from pipeline.db.migrate import upgrade_to_head
    from pipeline.db.session import make_engine, make_session_factory
    from pipeline.extract.document import extract_document
    from pipeline.index.batch import index_batch
    from pipeline.index.deciding import IndexPolicy
    from pipeline.items import ArchiveItem
    from pipeline.warc.ref import RecordRef

    pages = json.loads(pages_file.read_text(encoding="utf-8"))
    items = []
    analyse_s = 0.0
    for index, (url, html) in enumerate(pages):
        when = FIRST_FETCH + index * FETCH_STEP
        document = extract_document(
            html.encode(), url=url, filename=None, content_type="text/html; charset=utf-8"
        )
        ref = RecordRef(
            record_id=f"<urn:uuid:{uuid.UUID(int=index + 1)}>",
            record_type="response",
            warc_file="bench-00000.warc.gz",
            offset=index * 4096,
            length=4000,
            target_uri=url,
            date=when,
            payload_digest=f"sha1:BENCH{index:012d}",
        )
        item = ArchiveItem(url=url, fetched_at=when, capture=ref, document=document)
        started = time.process_time()
        item.analysis = analyse(document)
        analyse_s += time.process_time() - started
        items.append(item)
    with (
        tempfile.TemporaryDirectory(prefix="nv_index_speed_") as folder,
        scratch_database(db, Path(folder)) as url,
    ):
        upgrade_to_head(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        policy = IndexPolicy(story_window_days=story_window_days)
        batch_s = []
        for start in range(0, len(items), BATCH):
            started = time.process_time()
            index_batch(factory, items[start : start + BATCH], crawl_id=None, policy=policy)
            batch_s.append((len(items[start : start + BATCH]), time.process_time() - started))
        # Read before the pool's connections close: their server processes end with them.
        server_s = server_cpu_seconds(url)
        engine.dispose()
    # Tenths of the batches; fewer than ten batches are printed one by one (no empty tenth).
    parts = min(10, len(batch_s))
    tenths = [
        batch_s[len(batch_s) * k // parts : len(batch_s) * (k + 1) // parts] for k in range(parts)
    ]
    return {
        "analyse_ms": analyse_s * 1000 / len(items),
        "index_ms": sum(s for _, s in batch_s) * 1000 / len(items),
        "server_ms": None if server_s is None else server_s * 1000 / len(items),
        "index_ms_by_tenth": [
            sum(s for _, s in part) * 1000 / max(1, sum(n for n, _ in part)) for part in tenths
        ],
        "decisions": [
            [item.outcome, item.duplicate_of, item.story_id, item.document_id] for item in items
        ],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--baseline", type=Path, action="append", default=[])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--story-window-days", type=int, default=7)
    parser.add_argument("--devset-copies", type=int, default=0, metavar="N")
    parser.add_argument("--devset-pages", type=int, default=None, metavar="K")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.db, args.story_window_days)))
        return 0
    if args.pages < 1 or args.rounds < 1 or args.story_window_days < 1:
        parser.error("--pages, --rounds and --story-window-days must be at least 1")
    if args.devset_copies < 0:
        parser.error("--devset-copies must not be negative")
    if args.devset_pages is not None and (args.devset_pages < 1 or not args.devset_copies):
        parser.error("--devset-pages must be at least 1, with --devset-copies")

    sys.path.insert(0, str(ROOT))
    from bench.article_pages import generate_pages
    from bench.baseline_tree import child_json
    from bench.real_pages import DEVSET, real_pages

    if args.devset_copies:
        pages = real_pages(args.devset_copies, first=args.devset_pages)
        originals = len(pages) // args.devset_copies
        source = f"{DEVSET.name} dev set, {originals} pages x {args.devset_copies} copies"
    else:
        source, pages = generate_pages(args.pages, seed=args.seed)
    trees = [ROOT, *(baseline.resolve() for baseline in args.baseline)]
    best: list[dict[str, float]] = [{} for _ in trees]
    best_tenths: list[list[float]] = [[] for _ in trees]
    decisions: list[object] = [None for _ in trees]
    with tempfile.TemporaryDirectory(prefix="nv_index_speed_") as folder:
        pages_file = Path(folder) / "pages.json"
        pages_file.write_text(
            json.dumps([(f"http://127.0.0.1:8000{page.path}", page.html) for page in pages]),
            encoding="utf-8",
        )
        print(
            f"{len(pages)} pages from {source}; database {args.db}; story window "
            f"{args.story_window_days} days; load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        # Why alternate in rounds: the machine is shared, and load shifts between two long runs.
        for _ in range(args.rounds):
            for position, tree in enumerate(trees):
                child_args = [str(pages_file), "--db", args.db]
                child_args += ["--story-window-days", str(args.story_window_days)]
                result = child_json(__file__, tree, child_args, 0)
                for name in ("analyse_ms", "index_ms", "server_ms"):
                    if result.get(name) is None:  # type: ignore[attr-defined]
                        continue  # no server CPU for SQLite, nor for a server elsewhere
                    value = float(result[name])  # type: ignore[arg-type]
                    best[position][name] = min(best[position].get(name, float("inf")), value)
                tenths = [float(v) for v in result["index_ms_by_tenth"]]  # type: ignore[attr-defined]
                mine = best_tenths[position]
                best_tenths[position] = (
                    [min(a, b) for a, b in zip(mine, tenths, strict=True)] if mine else tenths
                )
                decisions[position] = result["decisions"]
    measured = [
        ("index_ms", "index writer"),
        ("server_ms", "PostgreSQL server processes of the database"),
        ("analyse_ms", "analysis"),
    ]
    for name, label in measured:
        if any(name not in found for found in best):
            continue
        line = f"{label}: {best[0][name]:.2f} ms CPU per document"
        for baseline, theirs in zip(args.baseline, best[1:], strict=True):
            line += (
                f" ({baseline}: {theirs[name]:.2f} ms, ratio {best[0][name] / theirs[name]:.2f})"
            )
        print(line)
    for label, tenths in zip(["this tree", *map(str, args.baseline)], best_tenths, strict=True):
        print(
            f"index writer ms per document by tenth, {label}: "
            + " ".join(f"{v:.1f}" for v in tenths)
        )
    differing = [
        str(b) for b, d in zip(args.baseline, decisions[1:], strict=True) if d != decisions[0]
    ]
    if differing:
        print("DECISIONS DIFFER from: " + ", ".join(differing))
        return 1
    if args.baseline:
        print(f"decisions: the same for all {len(pages)} pages in every tree")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
