"""Evaluate near-duplicate detection and story grouping on the labelled corpus.

    python bench/dedup_eval.py [--synthetic N] [--variants V] [--no-sweep]

Near-duplicates run incrementally as the pipeline does: each document's LSH bands look up
earlier documents in an in-memory band index, candidates are confirmed by the estimated
Jaccard. Truth is the exact word-shingle Jaccard, computed for every pair from one source
article and for every predicted pair (pairs of different sources share no paragraphs beyond
an inserted one, so they are below 0.8). Stories run choose_story over candidates found
only through story_keys, as the database lookup does.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import combinations, pairwise
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.corpus import SEED_STORY, Document, build_corpus, shingle_set, true_jaccard
from pipeline.dedup import minhash
from pipeline.dedup.stories import (
    STORY_THRESHOLD,
    choose_story,
    story_features,
    story_keys,
)
from pipeline.dedup.story_vectors import StoryVector

BUCKETS = (0.0, 0.1, 0.5, 0.7, 0.8, 0.9, 1.01)


@dataclass
class NearDupResult:
    precision: float
    recall: float  # on pairs with true Jaccard >= 0.8
    candidates_per_doc: float
    buckets: dict[str, tuple[int, int]]  # true-Jaccard range -> (detected, total)


def near_dup_eval(
    docs: list[Document], sigs: list[minhash.Signature], bands: int, rows: int, threshold: float
) -> NearDupResult:
    index: dict[tuple[int, int], list[int]] = defaultdict(list)
    predicted: set[tuple[int, int]] = set()
    candidates = 0
    for doc, sig in zip(docs, sigs, strict=True):
        keys = minhash.lsh_bands_with(sig, bands, rows)
        found = {other for key in keys for other in index[key]}
        candidates += len(found)
        for other in found:
            if minhash.estimated_jaccard(sigs[other], sig) >= threshold:
                predicted.add((other, doc.doc_id))
        for key in keys:
            index[key].append(doc.doc_id)
    return _score_near_dups(docs, predicted, sigs[0].shingle_size, candidates / len(docs))


def _score_near_dups(
    docs: list[Document], predicted: set[tuple[int, int]], size: int, per_doc: float
) -> NearDupResult:
    shingles = [shingle_set(d.text, size) for d in docs]
    families: dict[str, list[int]] = defaultdict(list)
    for doc in docs:
        families[doc.family].append(doc.doc_id)
    labelled = {p for ids in families.values() for p in combinations(sorted(ids), 2)}
    truth = {p: true_jaccard(shingles[p[0]], shingles[p[1]]) for p in labelled | predicted}
    buckets = {}
    for low, high in pairwise(BUCKETS):
        pairs = [p for p in labelled if low <= truth[p] < high]
        buckets[f"{low:.1f}-{min(high, 1.0):.1f}"] = (len(predicted & set(pairs)), len(pairs))
    positives = {p for p in labelled if truth[p] >= 0.8}
    correct = len(predicted & labelled)
    return NearDupResult(
        precision=correct / len(predicted) if predicted else 1.0,
        recall=len(predicted & positives) / len(positives) if positives else 1.0,
        candidates_per_doc=per_doc,
        buckets=buckets,
    )


@dataclass
class StoryResult:
    precision: float
    recall: float
    key_recall: float  # same-story pairs of different sources that share a story key
    seed_stories: int  # how many stories the seed articles' documents ended in
    seed_intruders: int  # documents of other events in those stories


def story_eval(docs: list[Document], threshold: float = STORY_THRESHOLD) -> StoryResult:
    by_key: dict[str, list[int]] = defaultdict(list)
    vectors, keys, assigned = [], [], []
    for doc in docs:
        feats = story_features(doc.title, doc.body)
        doc_keys = story_keys(feats)
        found = {other for key in doc_keys for other in by_key[key]}
        vector = StoryVector.of(feats)
        choice = choose_story([(assigned[o], vectors[o]) for o in sorted(found)], vector, threshold)
        assigned.append(choice[0] if choice else doc.doc_id)
        vectors.append(vector)
        keys.append(set(doc_keys))
        for key in doc_keys:
            by_key[key].append(doc.doc_id)
    return _score_stories(docs, assigned, keys)


def _pairs(counts: Counter) -> int:
    return sum(n * (n - 1) // 2 for n in counts.values())


def _score_stories(docs: list[Document], assigned: list[int], keys: list[set[str]]) -> StoryResult:
    both = _pairs(Counter((assigned[d.doc_id], d.story) for d in docs))
    predicted = _pairs(Counter(assigned))
    actual = _pairs(Counter(d.story for d in docs))
    cross = [
        (a, b) for a, b in combinations(docs, 2) if a.story == b.story and a.family != b.family
    ]
    shared = sum(1 for a, b in cross if keys[a.doc_id] & keys[b.doc_id])
    seed_groups = {assigned[d.doc_id] for d in docs if d.story == SEED_STORY}
    intruders = sum(1 for d in docs if assigned[d.doc_id] in seed_groups and d.story != SEED_STORY)
    return StoryResult(
        precision=both / predicted if predicted else 1.0,
        recall=both / actual if actual else 1.0,
        key_recall=shared / len(cross) if cross else 1.0,
        seed_stories=len(seed_groups),
        seed_intruders=intruders,
    )


def signatures(docs: list[Document], size: int, perms: int) -> tuple[list, float]:
    start = time.perf_counter()
    sigs = [minhash.signature_with(d.text, size, perms) for d in docs]
    return sigs, len(docs) / (time.perf_counter() - start)


def datasketch_speed(docs: list[Document], size: int, perms: int) -> float:
    from datasketch import MinHash

    start = time.perf_counter()
    for doc in docs:
        words = minhash.normalise_text(doc.text).split()
        grams = [" ".join(words[i : i + size]) for i in range(max(1, len(words) - size + 1))]
        sketch = MinHash(num_perm=perms)
        sketch.update_batch([g.encode("utf-8") for g in grams])
    return len(docs) / (time.perf_counter() - start)


SWEEP = {64: [(16, 4), (8, 8)], 128: [(32, 4), (16, 8)], 256: [(64, 4), (32, 8)]}


def sweep(docs: list[Document]) -> None:
    print("\nshingle perms bands x rows threshold precision recall(J>=.8) cand/doc docs/s")
    for size in (3, 4, 5):
        for perms, configs in SWEEP.items():
            sigs, speed = signatures(docs, size, perms)
            for bands, rows in configs:
                for threshold in (0.7, 0.75, 0.8):
                    r = near_dup_eval(docs, sigs, bands, rows, threshold)
                    print(
                        f"{size:7d} {perms:5d} {bands:5d} x {rows:<4d} {threshold:9.2f} "
                        f"{r.precision:9.4f} {r.recall:14.4f} {r.candidates_per_doc:8.2f} "
                        f"{speed:6.0f}"
                    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=int, default=200)
    parser.add_argument("--variants", type=int, default=4)
    parser.add_argument("--no-sweep", action="store_true")
    args = parser.parse_args(argv)
    docs = build_corpus(args.synthetic, args.variants)
    print(f"corpus: {len(docs)} documents, {len({d.family for d in docs})} source articles")
    ours, theirs = 0.0, 0.0
    for _ in range(3):  # interleaved best-of-3: the machine is shared, single runs are noisy
        sigs, speed = signatures(docs, minhash.SHINGLE_SIZE, minhash.NUM_PERM)
        ours = max(ours, speed)
        theirs = max(theirs, datasketch_speed(docs, minhash.SHINGLE_SIZE, minhash.NUM_PERM))
    print(f"signature speed (best of 3): numpy {ours:.0f} docs/s, datasketch {theirs:.0f} docs/s")
    r = near_dup_eval(docs, sigs, minhash.BANDS, minhash.ROWS, minhash.DEFAULT_THRESHOLD)
    print(
        f"near-duplicates (k={minhash.SHINGLE_SIZE}, {minhash.BANDS}x{minhash.ROWS}, "
        f"t={minhash.DEFAULT_THRESHOLD}): precision {r.precision:.4f} recall {r.recall:.4f} "
        f"candidates/doc {r.candidates_per_doc:.2f}"
    )
    for name, (hit, total) in r.buckets.items():
        print(f"  true J {name}: detected {hit}/{total}")
    s = story_eval(docs)
    print(
        f"stories (t={STORY_THRESHOLD}): pairwise precision {s.precision:.4f} recall "
        f"{s.recall:.4f}; key recall {s.key_recall:.4f}; seed documents in "
        f"{s.seed_stories} story, {s.seed_intruders} other documents with them"
    )
    if not args.no_sweep:
        sweep(docs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
