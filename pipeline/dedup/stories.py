"""Story grouping: which reports, in their own words, are about the same event.

Features of a report are its content words (sublinear tf, title words boosted, generic news
words damped) and its named entities (capitalised tokens and runs of them, demonyms folded
into their country). Similarity is the cosine of the term vectors, confirmed by how many
distinct entities the two reports share: outlets covering one event name the same people,
places and things, while an article merely about the same countries shares few of them.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from itertools import combinations
from json.encoder import encode_basestring as _json_string
from typing import Any

import orjson

from pipeline.dedup.stopwords import BROAD_NAMES, CALENDAR, DEMONYMS, NEWS_WORDS, STOPWORDS
from pipeline.dedup.story_vectors import StoryVector, vector_similarity

STORY_THRESHOLD: float = 0.30
_NEWS_WEIGHT = 0.25  # generic news words count a quarter
_BROAD_WEIGHT = 0.35  # country-level names: shared by every report on a region
_ENTITY_BOOST = 2.0  # a word used as a name identifies an event more than a common word
_TITLE_BOOST = 1.0  # added to the log-tf of every word in the headline
_MAX_KEY_LEN = 64
# Vectors of members stored before story vectors were (~12 kB each for ~700 distinct words),
# kept by stored_features_vector: the members of the stories of recent days.
STORED_FEATURES_CACHED = 512

_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"), "-")
_DASHES.update(dict.fromkeys(map(ord, "\u2018\u2019\u02bc\u2032"), "'"))
_WORD = re.compile(r"[^\W\d_]+(?:[-'][^\W\d_]+)*")
_SENTENCE_END = r"[.!?:;\"\u201c\u201d]\s+|\n+"
# A word (the group) or a sentence end (an empty group): _WORD and _SENTENCE_END in one pass.
_TOKEN = re.compile(f"({_WORD.pattern})|{_SENTENCE_END}")


@dataclass(frozen=True)
class StoryFeatures:
    """Weighted content terms (L2-normalised) and the set of named entities of one report."""

    terms: dict[str, float] = field(default_factory=dict)
    entities: frozenset[str] = field(default_factory=frozenset)

    def to_json(self) -> str:
        """``json.dumps({"terms": ..., "entities": sorted(...)}, ensure_ascii=False,
        separators=(",", ":"))``, written here for speed: most of json's time goes into the
        repr of each weight, and most terms share one of a few weights, so each distinct
        weight is written once. Anything but str terms and finite non-zero float weights goes
        through json itself."""
        written: dict[float, str] = {}
        terms = []
        for term, weight in self.terms.items():
            number = written.get(weight) if type(weight) is float else None
            if number is None:
                if type(term) is not str or type(weight) is not float:
                    return self._json_dumps()
                if not weight or not math.isfinite(weight):  # -0.0 == 0.0; nan, inf
                    return self._json_dumps()
                number = written[weight] = repr(weight)
            terms.append(f"{_json_string(term)}:{number}")
        entities = sorted(self.entities)
        if any(type(entity) is not str for entity in entities):
            return self._json_dumps()
        names = ",".join(map(_json_string, entities))
        return f'{{"terms":{{{",".join(terms)}}},"entities":[{names}]}}'

    def _json_dumps(self) -> str:
        return json.dumps(
            {"terms": self.terms, "entities": sorted(self.entities)},
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, data: str) -> StoryFeatures:
        """Inverse of :meth:`to_json`; ValueError with the reason for anything else.

        The index writer reads the features of members stored before story vectors (migration
        0009) this way: orjson parses the ~600 weights about four times faster than json, and a
        stored weight is kept as parsed when it is already a float (only ints are converted).
        """
        try:
            raw = orjson.loads(data)
            terms = raw["terms"]
            if not isinstance(terms, dict):
                raise TypeError(f"terms is a {type(terms).__name__}, not an object")
            if not set(map(type, terms.values())) <= {float}:
                terms = {k: float(v) for k, v in terms.items()}
            entities = frozenset(raw["entities"])
            if not set(map(type, entities)) <= {str}:
                raise TypeError("an entity is not a string")
        except (TypeError, KeyError, AttributeError, ValueError) as error:
            raise ValueError(f"invalid story features JSON: {error}") from error
        return cls(terms=terms, entities=entities)

    @cached_property
    def single_entities(self) -> frozenset[str]:
        """One-word names that identify an event (not generic news words, not countries).

        Computed once per report: its story keys and its vector both need them."""
        return frozenset(
            e
            for e in self.entities
            if " " not in e and e not in NEWS_WORDS and e not in BROAD_NAMES
        )


@lru_cache(maxsize=STORED_FEATURES_CACHED)
def stored_features_vector(data: str) -> StoryVector:
    """The vector of features stored only as JSON (rows indexed before migration 0009),
    remembered for the most recently read reports.

    The index writer compares every new report with up to twenty members of recent stories,
    and the same members come back for report after report. Keyed by the stored JSON itself,
    so a cached value can never be stale (a rolled-back row, a reused id).
    """
    return StoryVector.of(StoryFeatures.from_json(data))


# A regex visits only the characters to change; str.translate looks up every one (slower).
_DASH_VARIANT = re.compile("[" + "".join(map(chr, sorted(_DASHES))) + "]")


def _unify_dash(match: re.Match[str]) -> str:
    return _DASHES[ord(match.group())]


def _clean(text: str) -> str:
    return _DASH_VARIANT.sub(_unify_dash, unicodedata.normalize("NFKC", text))


@lru_cache(maxsize=1 << 16)
def _fold(word: str) -> str:
    """Casefold, drop a possessive, fold demonyms and plain plurals: one key per concept.

    Memoised: a report folds thousands of words, most of them common ones seen before."""
    word = word.casefold().replace("-", " ")
    if word.endswith("'s") or word.endswith("s'"):
        word = word[:-2] if word.endswith("'s") else word[:-1]
    word = word.replace("'", "")
    if word in DEMONYMS:
        return DEMONYMS[word]
    if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    return word


# Word kinds for names, by the word as written: never a name (lower case, stopword, calendar),
# a name, or a name except when it opens a sentence (a capitalised common news word).
_NOT_NAME, _NAME, _NAME_INSIDE = 0, 1, 2
# Per-word facts cached across reports (most words recur); emptied when this large.
_CACHE_LIMIT = 1 << 16
_NAME_KINDS: dict[str, int] = {}
_CONTENT_KEYS: dict[str, str] = {}  # word -> its folded content key, "" when not a content word
# The log-tf of a term frequency (0.0 for a word only in the headline), for the frequencies
# most words have.
_LOG_TF = [0.0] + [1.0 + math.log(tf) for tf in range(1, 256)]


def _remember(cache: dict[str, Any], word: str, value: Any) -> None:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[word] = value


def _name_kind(word: str) -> int:
    kind = _NAME_KINDS.get(word)
    if kind is None:
        folded = word.casefold()
        if not word[0].isupper() or folded in STOPWORDS or folded in CALENDAR:
            kind = _NOT_NAME
        else:
            # A capital at a sentence start proves nothing unless the word is not a common one.
            kind = _NAME_INSIDE if folded in NEWS_WORDS else _NAME
        _remember(_NAME_KINDS, word, kind)
    return kind


def _content_key(word: str) -> str:
    key = _CONTENT_KEYS.get(word)
    if key is None:
        key = _fold(word) if word else ""
        if len(key) <= 2 or key in STOPWORDS or key in CALENDAR:
            key = ""
        _remember(_CONTENT_KEYS, word, key)
    return key


def _tokens(text: str) -> list[str]:
    """The words of the text in order, with "" at every sentence end: one regex pass serves
    names (which need sentence starts) and content words. Sentence ends are never inside a
    word, so these are exactly the words of the text's sentences."""
    return _TOKEN.findall(text)


def _entities_of(tokens: list[str]) -> Counter[str]:
    """Names: runs of capitalised words (and each word of a run), folded.

    A capitalised word that opens a sentence ("Meanwhile") only counts when the same word
    is also capitalised somewhere inside a sentence.
    """
    found: Counter[str] = Counter()
    openers: Counter[str] = Counter()
    counted = found.get
    kinds = _NAME_KINDS
    run: list[str] = []
    first = ""  # the word that opened the current sentence
    opening = True
    for word in [*tokens, ""]:
        if word:
            if opening:
                first, opening = word, False
            kind = kinds.get(word)
            if kind is None:
                kind = _name_kind(word)
            if not run and kind == _NOT_NAME:
                continue  # most words: not a name, no run to end
            if kind == _NAME or (kind == _NAME_INSIDE and (run or word is not first)):
                run.append(_fold(word))
                continue
        else:
            opening = True
            if not run:
                continue
        # A run of names ends here.
        if len(run) == 1 and run[0] == _fold(first):
            openers[run[0]] += 1
        else:
            # found.update(...) by hand: Counter.update costs more than the run itself.
            for part in run:
                if len(part) > 1:
                    found[part] = counted(part, 0) + 1
            found[" ".join(run)] += len(run) > 1
        run = []
    for word, count in openers.items():
        if word in found:
            found[word] += count
    return +found


def _content_words(tokens: list[str]) -> dict[str, int]:
    """Folded content words and their counts, in the order they first occur."""
    counts: dict[str, int] = {}
    keys = _CONTENT_KEYS
    known = counts.get
    # Each distinct word is folded once; a key's first word is its first occurrence, so keys
    # keep the order in which they first occur in the text.
    for word, count in Counter(tokens).items():
        key = keys.get(word)
        if key is None:
            key = _content_key(word)
        if key:
            counts[key] = known(key, 0) + count
    return counts


def story_features(title: str | None, text: str) -> StoryFeatures:
    """Features of one report from its headline (may be None) and article text."""
    body = _clean(text)
    headline = _clean(title or "")
    # Headlines are often in title case, so their capitals are not evidence of names.
    tokens = _tokens(body)
    entities = _entities_of(tokens)
    counts = _content_words(tokens)
    title_words = _content_words(_WORD.findall(headline))
    log_tf = _LOG_TF
    weights: dict[str, float] = {}
    # Terms in the order they first occur, body then headline: stored features are the same
    # bytes in every run (a set's order would follow the process's string hash seed).
    for word in {**counts, **title_words}:
        tf = counts.get(word, 0)
        weight = (log_tf[tf] if tf < len(log_tf) else 1.0 + math.log(tf)) + (
            _TITLE_BOOST if word in title_words else 0
        )
        if word in entities:
            weight *= _ENTITY_BOOST
        if word in NEWS_WORDS:
            weight *= _NEWS_WEIGHT
        elif word in BROAD_NAMES:
            weight *= _BROAD_WEIGHT
        weights[word] = weight
    norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
    # Most words share one of a few weights: divide and round each distinct weight once.
    scaled: dict[float, float] = {}
    terms = {}
    for word, weight in weights.items():
        value = scaled.get(weight)
        if value is None:
            value = scaled[weight] = round(weight / norm, 6)
        terms[word] = value
    return StoryFeatures(terms=terms, entities=frozenset(entities))


def story_similarity(a: StoryFeatures, b: StoryFeatures) -> float:
    """Cosine of the term vectors, scaled down when the reports share few distinct names
    (computed as the index writer does, on their stored vectors)."""
    return vector_similarity(StoryVector.of(a), StoryVector.of(b))


def _ranked_entities(features: StoryFeatures) -> list[str]:
    singles = features.single_entities
    return sorted(singles, key=lambda e: (-features.terms.get(e, 0.0), e))


def _key(prefix: str, value: str) -> str:
    return (prefix + value)[:_MAX_KEY_LEN]


def story_keys(features: StoryFeatures, limit: int = 12) -> list[str]:
    """Lookup keys: pairs of the report's main names, then the names themselves.

    A pair ("korea+shoigu") is selective where a single name ("korea") would fetch every
    report about the country; the single names keep recall for reports that weigh names
    differently.
    """
    if limit <= 0:
        raise ValueError(f"story key limit must be positive, got {limit}")
    top = _ranked_entities(features)[:5]
    keys = [_key("p:", "+".join(sorted(pair))) for pair in combinations(top, 2)]
    keys += [_key("e:", name) for name in top]
    return list(dict.fromkeys(keys))[:limit]


def choose_story(
    candidate_vectors: Sequence[tuple[int, StoryVector]],
    vector: StoryVector,
    threshold: float = STORY_THRESHOLD,
) -> tuple[int, float] | None:
    """The story whose closest member is most similar, if at least ``threshold``; else None."""
    best: dict[int, float] = defaultdict(float)
    for story_id, member in candidate_vectors:
        best[story_id] = max(best[story_id], vector_similarity(member, vector))
    if not best:
        return None
    story_id, score = max(best.items(), key=lambda item: (item[1], -item[0]))
    return (story_id, score) if score >= threshold else None
