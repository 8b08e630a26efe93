from __future__ import annotations

from bench.corpus import SEED_STORY, build_corpus, shingle_set, true_jaccard
from bench.dedup_eval import near_dup_eval, signatures, story_eval
from pipeline.dedup import minhash


def test_near_duplicate_and_story_targets_on_small_corpus() -> None:
    docs = build_corpus(n_synthetic=30, variants=4)
    sigs, _ = signatures(docs, minhash.SHINGLE_SIZE, minhash.NUM_PERM)
    near = near_dup_eval(docs, sigs, minhash.BANDS, minhash.ROWS, minhash.DEFAULT_THRESHOLD)
    assert near.precision >= 0.99
    assert near.recall >= 0.95
    assert sum(total for _, total in near.buckets.values()) > 100
    stories = story_eval(docs)
    assert stories.seed_stories == 1 and stories.seed_intruders == 0
    assert stories.precision >= 0.95 and stories.recall >= 0.9


def test_corpus_is_deterministic_and_labelled() -> None:
    a, b = build_corpus(5, 3), build_corpus(5, 3)
    assert a == b
    assert {d.story for d in a if d.family.startswith("0")} == {SEED_STORY}
    seeds = [shingle_set(d.text, 5) for d in a if d.story == SEED_STORY and d.kind == "original"]
    assert len(seeds) == 5
    assert all(true_jaccard(x, y) < 0.05 for i, x in enumerate(seeds) for y in seeds[i + 1 :])
