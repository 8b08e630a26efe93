from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import unicodedata
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest

from pipeline.dedup import (
    DEFAULT_THRESHOLD,
    NUM_PERM,
    SHINGLE_SIZE,
    STORY_THRESHOLD,
    EmptyTextError,
    StoryFeatures,
    StoryVector,
    choose_story,
    estimated_jaccard,
    lsh_bands,
    minhash,
    normalise_text,
    signature,
    signature_from_bytes,
    signature_to_bytes,
    stories,
    story_features,
    story_keys,
    story_similarity,
    text_digest,
    vector_similarity,
)
from pipeline.dedup.minhash import BANDS
from pipeline.dedup.stories import stored_features_vector

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
ARTICLES = ROOT / "tests" / "data" / "articles"


def _split(path: Path) -> tuple[str, str]:
    title, body = path.read_text(encoding="utf-8").strip().split("\n", 1)
    return title.strip(), body


def _features(path: Path) -> StoryFeatures:
    return story_features(*_split(path))


def _vector(path: Path) -> StoryVector:
    return StoryVector.of(_features(path))


# --- digests -------------------------------------------------------------------------------


def test_normalise_unifies_case_quotes_dashes_width_and_space() -> None:
    a = "North Korea\u2019s  Kim Jong\u2013un said: \u201cVictory Day!\u201d  \uff21\uff22"
    b = 'north korea\'s kim jong-un said "victory day" ab'
    assert normalise_text(a) == normalise_text(b) == "north koreas kim jong un said victory day ab"
    assert text_digest(a) == text_digest(b)


def test_digest_format_and_difference() -> None:
    digest = text_digest("Some text")
    assert digest.startswith("sha256:") and len(digest) == 7 + 64
    assert text_digest("Some text") != text_digest("Some other text")
    assert text_digest("") == text_digest("  !!! ")


def test_normalise_rejects_non_text() -> None:
    with pytest.raises(TypeError, match="expects str"):
        normalise_text(b"bytes")  # type: ignore[arg-type]


# --- MinHash -------------------------------------------------------------------------------


def _article() -> str:
    return (ARTICLES / "nk-missile-jul2023_a.txt").read_text(encoding="utf-8")


def test_identical_text_identical_signature() -> None:
    text = _article()
    assert signature(text) == signature(text.upper().replace(" ", "  "))
    assert estimated_jaccard(signature(text), signature(text)) == 1.0


def test_syndicated_copy_is_near_duplicate() -> None:
    text = _article()
    paragraphs = text.split("\n\n")
    copy = "Subscribe now\n\n" + "\n\n".join(paragraphs[:-1]) + "\n\nShare this article"
    a, b = signature(text), signature(copy)
    assert estimated_jaccard(a, b) >= DEFAULT_THRESHOLD
    assert set(lsh_bands(a)) & set(lsh_bands(b))


def test_different_articles_are_not_near_duplicates() -> None:
    a = signature(_article())
    b = signature((ARTICLES / "nk-missile-jul2023_b.txt").read_text(encoding="utf-8"))
    assert estimated_jaccard(a, b) < 0.2
    assert not set(lsh_bands(a)) & set(lsh_bands(b))


def test_seeds_are_pairwise_not_near_duplicates() -> None:
    assert len(SEEDS) == 5
    sigs = [signature(p.read_text(encoding="utf-8")) for p in SEEDS]
    for a, b in combinations(sigs, 2):
        assert estimated_jaccard(a, b) < DEFAULT_THRESHOLD / 2
        assert not set(lsh_bands(a)) & set(lsh_bands(b))


def test_signature_bytes_round_trip_and_bad_bytes() -> None:
    sig = signature(_article())
    data = signature_to_bytes(sig)
    assert signature_from_bytes(data) == sig
    assert len(signature_from_bytes(data).values) == NUM_PERM
    with pytest.raises(ValueError, match="too short"):
        signature_from_bytes(b"NV")
    with pytest.raises(ValueError, match="scheme"):
        signature_from_bytes(b"XXXX" + data[4:])
    with pytest.raises(ValueError, match="must be"):
        signature_from_bytes(data[:-8])


def test_band_hashes_fit_signed_64_bit() -> None:
    bands = lsh_bands(signature(_article()))
    assert [band for band, _ in bands] == list(range(BANDS))
    assert all(-(2**63) <= h < 2**63 for _, h in bands)
    assert any(h < 0 for _, h in bands) or any(h >= 2**62 for _, h in bands)


def test_short_texts_get_signatures() -> None:
    short = "Fire in town"
    assert len(short.split()) < SHINGLE_SIZE
    assert signature(short) == signature("fire IN town!")
    assert estimated_jaccard(signature(short), signature("Flood in town")) < 0.5
    assert len(lsh_bands(signature("word"))) == BANDS


def test_empty_text_is_a_clear_error() -> None:
    with pytest.raises(EmptyTextError, match="no words"):
        signature("  \n -- !! ")


def test_huge_and_unicode_text() -> None:
    rng = np.random.default_rng(1)
    words = [f"w{n}" for n in rng.integers(0, 50_000, size=300_000)]
    sig = signature(" ".join(words))
    assert len(sig.values) == NUM_PERM
    uni = "Москва заявила о переговорах с Пхеньяном 北朝鮮 ミサイル 발사 🚀 émigré"
    assert estimated_jaccard(signature(uni), signature(uni.upper())) == 1.0


def test_compare_signatures_of_other_parameters_fails() -> None:
    from pipeline.dedup.minhash import signature_with

    with pytest.raises(ValueError, match="different parameters"):
        estimated_jaccard(signature("a b c d e f"), signature_with("a b c d e f", 3, NUM_PERM))


# --- stories -------------------------------------------------------------------------------


def test_seeds_form_one_story() -> None:
    features = [_features(p) for p in SEEDS]
    for a, b in combinations(features, 2):
        assert story_similarity(a, b) >= STORY_THRESHOLD
        assert set(story_keys(a)) & set(story_keys(b))
    story: list[tuple[int, StoryVector]] = [(1, StoryVector.of(features[0]))]
    for feats in features[1:]:
        choice = choose_story(story, StoryVector.of(feats))
        assert choice is not None and choice[0] == 1
        story.append((1, StoryVector.of(feats)))


@pytest.mark.parametrize("path", sorted(ARTICLES.glob("*.txt")), ids=lambda p: p.stem)
def test_other_articles_do_not_join_the_seed_story(path: Path) -> None:
    seed_story = [(1, _vector(p)) for p in SEEDS]
    assert choose_story(seed_story, _vector(path)) is None


def test_two_reports_of_one_other_event_group() -> None:
    for stem in ("nk-missile-jul2023", "morocco-quake-sep2023", "ecb-rates-sep2023"):
        a, b = _features(ARTICLES / f"{stem}_a.txt"), _features(ARTICLES / f"{stem}_b.txt")
        assert story_similarity(a, b) >= STORY_THRESHOLD, stem
        assert set(story_keys(a)) & set(story_keys(b)), stem


def test_choose_story_picks_best_and_handles_empty() -> None:
    seed = _vector(SEEDS[0])
    other = _vector(ARTICLES / "ecb-rates-sep2023_a.txt")
    assert choose_story([], seed) is None
    choice = choose_story([(7, other), (3, _vector(SEEDS[1]))], seed)
    assert choice is not None and choice[0] == 3 and choice[1] >= STORY_THRESHOLD


def test_story_keys_short_and_limited() -> None:
    keys = story_keys(_features(SEEDS[2]), limit=5)
    assert 0 < len(keys) <= 5 and all(len(k) <= 64 for k in keys)
    with pytest.raises(ValueError, match="positive"):
        story_keys(_features(SEEDS[2]), limit=0)


def test_story_features_json_round_trip_and_errors() -> None:
    feats = _features(SEEDS[3])
    assert StoryFeatures.from_json(feats.to_json()) == feats
    with pytest.raises(ValueError, match="invalid story features"):
        StoryFeatures.from_json("{not json")
    with pytest.raises(ValueError, match="invalid story features"):
        StoryFeatures.from_json('{"terms": []}')
    with pytest.raises(ValueError, match="entity is not a string"):
        StoryFeatures.from_json('{"terms": {"kyiv": 0.5}, "entities": ["kyiv", 7]}')
    # Whole-number weights written by hand or by another tool still come back as floats.
    whole = StoryFeatures.from_json('{"terms": {"kyiv": 1, "port": 0.25}, "entities": ["kyiv"]}')
    assert whole.terms == {"kyiv": 1.0, "port": 0.25}
    assert [type(weight) for weight in whole.terms.values()] == [float, float]


def test_vectors_of_stored_features_are_computed_once_per_content() -> None:
    feats = _features(SEEDS[4])
    stored = feats.to_json()
    # Another str object with the same content, as the next database read returns it.
    read_again = "".join([stored[:10], stored[10:]])
    assert read_again is not stored
    first = stored_features_vector(stored)
    assert first.to_bytes() == StoryVector.of(feats).to_bytes()
    assert stored_features_vector(read_again) is first
    other = _features(SEEDS[1])
    assert stored_features_vector(other.to_json()).to_bytes() == StoryVector.of(other).to_bytes()


def _reference_similarity(a: StoryFeatures, b: StoryFeatures) -> float:
    """The story similarity as defined: cosine of the weights over the shared terms, times the
    share of three single names both reports have (at most 1)."""
    shared_terms = a.terms.keys() & b.terms.keys()
    cosine = math.fsum(a.terms[term] * b.terms[term] for term in shared_terms)
    shared = len(a.single_entities & b.single_entities)
    return cosine * min(1.0, shared / 3)


def test_vector_similarity_is_the_cosine_of_the_features() -> None:
    reports = [_features(path) for path in [*SEEDS, *sorted(ARTICLES.glob("*.txt"))]]
    vectors = [StoryVector.of(report) for report in reports]
    related = 0
    for (fa, va), (fb, vb) in combinations(zip(reports, vectors, strict=True), 2):
        expected = _reference_similarity(fa, fb)
        assert vector_similarity(va, vb) == pytest.approx(expected, rel=1e-12, abs=1e-15)
        # The same value, to the last bit, whichever report comes first.
        assert vector_similarity(va, vb) == vector_similarity(vb, va)
        related += expected >= STORY_THRESHOLD
    assert 10 <= related < len(reports) * (len(reports) - 1) // 2  # both kinds of pair compared


def test_story_vector_bytes_round_trip_and_errors() -> None:
    feats = _features(SEEDS[3])
    vector = StoryVector.of(feats)
    data = vector.to_bytes()
    assert len(data) == 12 + 16 * len(feats.terms) + 8 * len(feats.single_entities)
    again = StoryVector.from_bytes(data)
    assert again.to_bytes() == data
    assert np.array_equal(np.sort(again.weights), np.sort(list(feats.terms.values())))
    assert list(again.terms) == sorted(again.terms)
    assert vector_similarity(again, vector) == pytest.approx(_reference_similarity(feats, feats))
    with pytest.raises(ValueError, match="shorter than its header"):
        StoryVector.from_bytes(data[:5])
    with pytest.raises(ValueError, match="not a story vector"):
        StoryVector.from_bytes(b"XXXX" + data[4:])
    with pytest.raises(ValueError, match=r"should be \d+ bytes, not"):
        StoryVector.from_bytes(data[:-1])
    swapped = data[:12] + data[20:28] + data[12:20] + data[28:]
    with pytest.raises(ValueError, match="not in ascending order"):
        StoryVector.from_bytes(swapped)
    empty = StoryVector.of(StoryFeatures())
    assert StoryVector.from_bytes(empty.to_bytes()).to_bytes() == empty.to_bytes()
    assert vector_similarity(empty, vector) == vector_similarity(vector, empty) == 0.0


def test_single_entities_leave_out_runs_and_broad_names() -> None:
    feats = StoryFeatures(
        terms={"shoigu": 0.5, "russia": 0.3},
        entities=frozenset({"shoigu", "russia", "sergei shoigu"}),
    )
    assert "shoigu" in feats.single_entities
    assert "sergei shoigu" not in feats.single_entities
    assert "russia" not in feats.single_entities  # a country: every report on the region


def test_story_features_of_empty_and_untitled_text() -> None:
    empty = story_features(None, "")
    assert empty.terms == {} and story_keys(empty) == []
    assert story_similarity(empty, _features(SEEDS[0])) == 0.0


# --- the cheaper ways of computing the same values -------------------------------------------

# Every character of these ranges between words (ASCII, Latin, punctuation, dashes and quotes,
# CJK punctuation, compatibility forms), and a few space and control characters on their own.
_CHARACTERS = [chr(code) for code in (*range(0x3100), *range(0xFE30, 0xFF70))]


def _normalise_by_definition(text: str) -> str:
    """normalise_text as its docstring defines it, one character at a time."""
    quotes = {**dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u00b4\u0060\u02bc", "'")}
    quotes.update(dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'))
    dashes = dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63", "-")
    folded = "".join(
        {**quotes, **dashes}.get(char, char)
        for char in unicodedata.normalize("NFKC", text).casefold()
    )
    folded = re.sub(r"(?<=\w)'(?=\w)", "", folded)
    spaced = "".join(" " if unicodedata.category(c)[0] in "PS" else c for c in folded)
    return re.sub(r"\s+", " ", spaced).strip()


def test_normalise_text_agrees_with_its_definition_for_every_character() -> None:
    texts = [f"Ab{c}cd {c}x{c} '{c}' e{c}'f" for c in _CHARACTERS]
    texts.append("".join(_CHARACTERS))
    for text in texts:
        assert normalise_text(text) == _normalise_by_definition(text), repr(text)


def test_story_features_json_is_json_dumps_of_its_fields() -> None:
    def dumps(features: StoryFeatures) -> str:
        fields = {"terms": features.terms, "entities": sorted(features.entities)}
        return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))

    reports = [_features(path) for path in [*SEEDS, *sorted(ARTICLES.glob("*.txt"))]]
    assert all(report.to_json() == dumps(report) for report in reports)
    odd = [
        StoryFeatures({"zero": 0.0, "minus zero": -0.0, "one": 0.5, "again": 0.5}),
        StoryFeatures({"int": 1, "float": 1.0}, frozenset({"x"})),  # type: ignore[dict-item]
        StoryFeatures({"inf": math.inf, "nan": math.nan}),
        StoryFeatures({'quote"back\\slash\u0001': 0.25, "\u00e9\u4e2d": 0.75}),
        StoryFeatures({}, frozenset({'na"me', "\u00df", "\u4e2d\u6587"})),
        StoryFeatures(),
    ]
    for features in odd:
        assert features.to_json() == dumps(features)


def test_story_features_do_not_depend_on_what_was_seen_before() -> None:
    """Word facts are cached across reports: a report's features are the same when the caches
    are cold, warm from other reports, or emptied because they were full."""
    title, body = _split(SEEDS[1])
    warm = story_features(title, body).to_json()
    for path in SEEDS:
        story_features(*_split(path))
    assert story_features(title, body).to_json() == warm
    stories._NAME_KINDS.clear()
    stories._CONTENT_KEYS.clear()
    assert story_features(title, body).to_json() == warm


def test_story_features_are_the_same_bytes_in_every_process() -> None:
    """Stored features do not follow the string hash seed, which differs from run to run: the
    same page crawled twice, or an archive reindexed, stores the same bytes."""
    program = (
        "import sys\n"
        "from pathlib import Path\n"
        "from pipeline.dedup import StoryVector, story_features\n"
        "for name in sys.argv[1:]:\n"
        "    title, _, body = Path(name).read_text(encoding='utf-8').partition('\\n')\n"
        "    features = story_features(title, body)\n"
        "    print(features.to_json(), StoryVector.of(features).to_bytes().hex())\n"
    )
    outputs = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", program, *map(str, SEEDS)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1
    assert len(next(iter(outputs)).splitlines()) == len(SEEDS)


def test_signature_does_not_depend_on_the_token_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    text = " ".join(_split(path)[1] for path in SEEDS)
    expected = signature_to_bytes(signature(text))
    minhash._TOKEN_HASHES.clear()
    assert signature_to_bytes(signature(text)) == expected
    monkeypatch.setattr(minhash, "_TOKEN_CACHE_LIMIT", 7)  # emptied again and again
    minhash._TOKEN_HASHES.clear()
    assert signature_to_bytes(signature(text)) == expected
    assert len(minhash._TOKEN_HASHES) <= 7


def test_minhash_in_blocks_is_the_minimum_over_all_shingles() -> None:
    words = [f"w{i}" for i in range(3 * minhash._CHUNK + 17)]  # several blocks and a rest
    shingles = minhash.shingle_hashes(words)
    seeds = minhash._perm_seeds(NUM_PERM)
    whole = minhash._splitmix64(shingles[:, None] ^ seeds[None, :]).min(axis=0)
    assert np.array_equal(minhash.minhash_values(shingles), whole)
