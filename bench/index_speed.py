"""CPU cost of the index writer on the crawl benchmark's pages, against a baseline in the same run.

    .venv/bin/python bench/index_speed.py [--pages 1000] [--db sqlite|postgresql]
        [--baseline DIR ...] [--rounds 2]

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


def measure(pages_file: Path, db: str) -> dict[str, object]:
    """CPU ms per document of analysis and of indexing, with this interpreter's ``pipeline``."""
    from bench.scratch_db import scratch_database
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
        policy = IndexPolicy()
        started = time.process_time()
        for start in range(0, len(items), BATCH):
            index_batch(factory, items[start : start + BATCH], crawl_id=None, policy=policy)
        index_s = time.process_time() - started
        engine.dispose()
    return {
        "analyse_ms": analyse_s * 1000 / len(items),
        "index_ms": index_s * 1000 / len(items),
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
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.db)))
        return 0
    if args.pages < 1 or args.rounds < 1:
        parser.error("--pages and --rounds must be at least 1")

    sys.path.insert(0, str(ROOT))
    from bench.article_pages import generate_pages
    from bench.baseline_tree import child_json

    source, pages = generate_pages(args.pages, seed=args.seed)
    trees = [ROOT, *(baseline.resolve() for baseline in args.baseline)]
    best: list[dict[str, float]] = [{} for _ in trees]
    decisions: list[object] = [None for _ in trees]
    with tempfile.TemporaryDirectory(prefix="nv_index_speed_") as folder:
        pages_file = Path(folder) / "pages.json"
        pages_file.write_text(
            json.dumps([(f"http://127.0.0.1:8000{page.path}", page.html) for page in pages]),
            encoding="utf-8",
        )
        print(
            f"{len(pages)} pages from {source}; database {args.db}; load average "
            f"{os.getloadavg()[0]:.1f}",
            flush=True,
        )
        # Why alternate in rounds: the machine is shared, and load shifts between two long runs.
        for _ in range(args.rounds):
            for position, tree in enumerate(trees):
                result = child_json(__file__, tree, [str(pages_file), "--db", args.db], 0)
                for name in ("analyse_ms", "index_ms"):
                    value = float(result[name])  # type: ignore[arg-type]
                    best[position][name] = min(best[position].get(name, float("inf")), value)
                decisions[position] = result["decisions"]
    for name, label in (("index_ms", "index writer"), ("analyse_ms", "analysis")):
        line = f"{label}: {best[0][name]:.2f} ms CPU per document"
        for baseline, theirs in zip(args.baseline, best[1:], strict=True):
            line += (
                f" ({baseline}: {theirs[name]:.2f} ms, ratio {best[0][name] / theirs[name]:.2f})"
            )
        print(line)
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
