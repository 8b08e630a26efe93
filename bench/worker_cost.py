"""Extraction worker CPU per page against a baseline commit, and proof that outputs are identical.

    .venv/bin/python bench/worker_cost.py [--baseline main] [--pages 300] [--seed 1] [--rounds 3] \
        [--timed generated|devset]

Exports ``--baseline`` (a commit) with ``git archive`` into a temporary folder, then runs the
same measurement in child processes alternating between that tree and this one (``PYTHONPATH``
chooses which ``pipeline`` a child imports; the machine is shared, so rounds alternate and the
best CPU time of each stage is kept). Inputs: ``--pages`` generated article pages
(bench.article_pages), the dev set's HTML pages (../shared/devsets/fundus), the seeds (seeds/,
../shared/seeds) and tests/data.

Checks that every output of ``pipeline.analysis.extract_for_archive`` is the same in both trees:
the ExtractedDocument's fields (and word count), the Analysis (text digest, signature bytes, LSH
bands, story features JSON, story keys), the error string, and the derived WARC records (headers
and decompressed bytes, less WARC-Record-ID and WARC-Date, which are new for every record).
Story features JSON lists terms in the order of a set of strings, which follows Python's string
hashing: each pair of children runs with the same ``PYTHONHASHSEED`` (a different one per round).
Exit 1 on any difference.

Prints ``time.process_time`` per page for each stage (best of ``--rounds`` passes in each of
three rounds of child processes), for the baseline and this tree, and the bare
``trafilatura.extract(html, favor_precision=True, include_comments=False)`` as the reference.
``--timed`` says which pages are timed: the generated ones (3.4-50 kB, the crawl benchmarks'
pages) or the dev set's real pages (``devset``: 119 pages, 350 kB of HTML on average, where
trafilatura's own cost per page is three times larger).
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import pickle
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
URL = "https://example.invalid/news/article"
HTML_TYPE = "text/html; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
# Fields of a derived record that are new for every record built.
FRESH_FIELDS = (b"WARC-Record-ID:", b"WARC-Date:")

BARE = "bare trafilatura.extract"

# (set name, body, filename, content type)
Input = tuple[str, bytes, str | None, str | None]


def inputs(pages: int, seed: int) -> list[Input]:
    sys.path.insert(0, str(ROOT))
    from bench.article_pages import generate_pages

    found: list[Input] = [
        ("generated", page.html.encode(), None, HTML_TYPE)
        for page in generate_pages(pages, seed=seed)[1]
    ]
    for path in sorted((SHARED / "devsets" / "fundus").glob("*.html")):
        found.append(("dev set", path.read_bytes(), None, "text/html"))
    texts = [*sorted((ROOT / "seeds").glob("*.txt")), *sorted((SHARED / "seeds").glob("*.txt"))]
    for path in texts:
        found.append(("seeds", path.read_bytes(), path.name, TEXT_TYPE))
    for path in sorted((ROOT / "tests" / "data").rglob("*")):
        if path.is_file():
            kind = "application/json" if path.suffix == ".json" else TEXT_TYPE
            found.append(("tests/data", path.read_bytes(), path.name, kind))
    return found


def _record_bytes(member: bytes) -> bytes:
    record = gzip.decompress(member)
    head, _, rest = record.partition(b"\r\n\r\n")
    kept = [line for line in head.split(b"\r\n") if not line.startswith(FRESH_FIELDS)]
    return b"\r\n".join(kept) + b"\r\n\r\n" + rest


def comparable(result: Any) -> tuple[Any, ...]:
    """Everything extract_for_archive returns, less what is new for every record."""
    document = result.document
    fields = None if document is None else (dataclasses.asdict(document), document.word_count)
    analysis = None if result.analysis is None else dataclasses.astuple(result.analysis)
    records = tuple(
        (
            record.what,
            [(k, v) for k, v in record.headers if k not in ("WARC-Record-ID", "WARC-Date")],
            _record_bytes(record.member),
        )
        for record in result.prepared
    )
    return (fields, analysis, result.error, records)


def _best_ms(function: Callable[[], object], count: int, passes: int) -> float:
    best = float("inf")
    for _ in range(passes):
        start = time.process_time()
        function()
        best = min(best, time.process_time() - start)
    return best * 1000 / count


TIMED_SETS = {"generated": "generated", "devset": "dev set"}


def measure(input_file: Path, passes: int, timed: str) -> dict[str, Any]:
    """This interpreter's pipeline (whichever tree PYTHONPATH puts first): outputs and timings."""
    import trafilatura

    from pipeline import analysis
    from pipeline.dedup.digests import normalise_text
    from pipeline.dedup.minhash import lsh_bands, signature_of_normalised
    from pipeline.dedup.stories import story_features, story_keys
    from pipeline.extract.decode import decode_bytes, meta_charset
    from pipeline.extract.document import extract_document
    from pipeline.index.derived import DerivedContext, prepare_derived_records

    items: list[Input] = pickle.loads(input_file.read_bytes())
    context = DerivedContext(
        URL, "<urn:uuid:00000000-0000-4000-8000-000000000000>", {"url": URL, "fetched_at": "x"}
    )
    for _, body, filename, kind in items[:20]:  # language model, regex caches
        analysis.extract_for_archive(body, URL, filename, kind, context)
    outputs = [
        comparable(analysis.extract_for_archive(body, URL, filename, kind, context))
        for _, body, filename, kind in items
    ]
    pages = [(body, kind) for name, body, _, kind in items if name == TIMED_SETS[timed]]
    htmls = [decode_bytes(body, meta_charset(body)).text for body, _ in pages]
    documents = [extract_document(body, url=URL, content_type=kind) for body, kind in pages]
    normalised = [normalise_text(d.text) for d in documents]
    signatures = [signature_of_normalised(n) for n in normalised]
    features = [story_features(d.title, d.text) for d in documents]
    results = [analysis.analyse(d) for d in documents]
    count = len(pages)

    def run(each: Callable[[Any], object], over: list[Any]) -> Callable[[], None]:
        def loop() -> None:
            for x in over:
                each(x)

        return loop

    stages = {
        BARE: run(
            lambda html: trafilatura.extract(html, favor_precision=True, include_comments=False),
            htmls,
        ),
        "extract_for_archive (whole worker)": run(
            lambda page: analysis.extract_for_archive(page[0], URL, None, page[1], context), pages
        ),
        "extract_document": run(lambda page: extract_document(page[0], url=URL), pages),
        "analyse": run(analysis.analyse, documents),
        "  normalise_text": run(lambda d: normalise_text(d.text), documents),
        "  signature_of_normalised": run(signature_of_normalised, normalised),
        "  lsh_bands": run(lsh_bands, signatures),
        "  story_features": run(lambda d: story_features(d.title, d.text), documents),
        "  StoryFeatures.to_json": run(lambda f: f.to_json(), features),
        "  story_keys": run(story_keys, features),
        "prepare_derived_records": run(
            lambda pair: prepare_derived_records(context, pair[0], pair[1].text_digest),
            list(zip(documents, results, strict=True)),
        ),
    }
    timings = {name: _best_ms(function, count, passes) for name, function in stages.items()}
    return {"outputs": outputs, "timings": timings}


def _child(tree: Path, input_file: Path, passes: int, hash_seed: int, timed: str) -> dict[str, Any]:
    from bench.baseline_tree import tree_env

    output = input_file.with_suffix(f".{tree.name}.out")
    command = [sys.executable, __file__, "--child", str(input_file), str(output)]
    subprocess.run(
        [*command, "--rounds", str(passes), "--timed", timed],
        env=tree_env(tree, hash_seed),
        cwd=tree,
        check=True,
    )
    result: dict[str, Any] = pickle.loads(output.read_bytes())
    return result


def differences(items: list[Input], ours: list[Any], theirs: list[Any]) -> list[str]:
    found = []
    for (name, _, filename, _), mine, before in zip(items, ours, theirs, strict=True):
        if mine != before:
            parts = ("document", "analysis", "error", "derived records")
            which = [part for part, a, b in zip(parts, mine, before, strict=True) if a != b]
            found.append(f"{name} {filename or ''}: {', '.join(which)} differ")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", default="main", help="commit to compare with")
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3, help="timed passes per child")
    parser.add_argument(
        "--timed", choices=sorted(TIMED_SETS), default="generated", help="which pages are timed"
    )
    parser.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        input_file, output = args.child
        output.write_bytes(pickle.dumps(measure(input_file, args.rounds, args.timed)))
        return
    sys.path.insert(0, str(ROOT))
    from bench.baseline_tree import export_tree

    with tempfile.TemporaryDirectory(prefix="worker-cost-") as scratch:
        folder = Path(scratch)
        baseline = folder / "baseline"
        baseline.mkdir()
        commit = export_tree(args.baseline, baseline)
        items = inputs(args.pages, args.seed)
        input_file = folder / "inputs.pickle"
        input_file.write_bytes(pickle.dumps(items))
        sets: dict[str, int] = {}
        for name, *_ in items:
            sets[name] = sets.get(name, 0) + 1
        if not sets.get(TIMED_SETS[args.timed]):
            parser.error(f"no {TIMED_SETS[args.timed]} pages to time (--timed {args.timed})")
        print(f"baseline {commit}; inputs: " + ", ".join(f"{n} {s}" for s, n in sets.items()))
        best: dict[str, dict[str, float]] = {"baseline": {}, "now": {}}
        failed = False
        for round_number in range(3):
            hash_seed = 1000 + round_number
            before = _child(baseline, input_file, args.rounds, hash_seed, args.timed)
            now = _child(ROOT, input_file, args.rounds, hash_seed, args.timed)
            for label, result in (("baseline", before), ("now", now)):
                for stage, ms in result["timings"].items():
                    best[label][stage] = min(best[label].get(stage, float("inf")), ms)
            found = differences(items, now["outputs"], before["outputs"])
            verdict = f"{len(found)} differ" if found else "all identical"
            print(
                f"round {round_number + 1} (PYTHONHASHSEED={hash_seed}): "
                f"{len(items)} inputs, {verdict}"
            )
            for line in found[:20]:
                print("  " + line)
            failed = failed or bool(found)
    if args.timed == "generated":
        timed = f"{args.pages} generated pages, seed {args.seed}"
    else:
        timed = f"{sets[TIMED_SETS[args.timed]]} dev-set pages"
    print(f"\nCPU ms per page ({timed}), best of rounds;")
    print("x bare: the stage as a multiple of the bare extractor measured in the same children")
    print(f"{'stage':38} {'baseline':>9} {'now':>9} {'saved':>7} {'x bare':>13}")
    bare = {label: found[BARE] for label, found in best.items()}
    for stage, ms in best["now"].items():
        was = best["baseline"][stage]
        ratios = f"{was / bare['baseline']:.3f} {ms / bare['now']:.3f}"
        print(f"{stage:38} {was:9.2f} {ms:9.2f} {was - ms:7.2f} {ratios:>13}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
