"""The trained line model: which lines of a plain-text page are article, and which is the headline.

Two logistic models over :mod:`pipeline.extract.line_features` score every line as article or
furniture (the second also sees what the first thinks of the neighbours); a third ranks the
headline candidates above the start of the article body. The weights live in
``rules/line_model.json``, written by ``python -m pipeline.extract.line_training``; nothing is
downloaded at run time. Evaluation is a few matrix products per page.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

import numpy as np

from pipeline.extract.furniture import Line
from pipeline.extract.line_features import (
    DATE,
    FEATURE_NAMES,
    OWN_NAMES,
    SMOOTH_NAMES,
    TIME,
    FloatArray,
    effective_words,
    smoothed,
)
from pipeline.extract.text_lists import fact_list_lines, list_items

MODEL_PATH = Path(__file__).with_name("rules") / "line_model.json"
# How far above the body's first line a headline is looked for (counting lines of no interface
# kind, see window_top).
TITLE_WINDOW = 30
TITLE_BELOW = 4  # and how far below it (a kicker or a lead may come first)
# The share of a wrapped copy ("<headline> | Site") that the headline alone takes at least.
HELD_SHARE = 0.6
KICKER_MAX_WORDS = 6  # a kicker names the topic in a few words ("LTE-Patent", "Flood inquiry")
TITLE_NAMES: tuple[str, ...] = (
    "bias",
    *(f"offset {name}" for name in ("0", "-1", "-2", "-3..-5", "-6..-12", "-13..", "+1..")),
    "words<=3",
    "words 4..25",
    "words>25",
    "sentence end",
    "kicker end",
    "capital share",
    "date or time",
    "rule furniture",
    "p article",
    "repeated",
    "body overlap",
    "log furniture between",
    "longest nearby",
    "next is article",
    "log distance",
    "lead-like",
    "headline shape",
    "lead below",
    "short above",
    "headline shapes between",
    "rule date or byline",
    "rule interface",
    "rule list entry",
    "date or byline below",
    "date or byline above",
    "capitalised words",
    "short with a number",
    "standfirst length",
    "question end",
    "after short lines",
    "weighted body overlap",
)
# Why: these kinds never hold a headline, however the rest of the line looks ("Skip to main
# content", "LIVE: <another story>").
_NOT_HEADLINE = frozenset(
    {"site date bar", "separator", "weather widget", "skip link", "live ticker"}
)
_STAMP_KINDS = frozenset({"site date bar", "timestamp", "byline"})
_INTERFACE_KINDS = frozenset(
    {
        "share prompt",
        "comment prompt",
        "pagination",
        "advertisement marker",
        "cookie notice",
        "subscription blurb",
        "photo caption",
        "image alt text",
    }
)
_LIST_KINDS = frozenset({"promo label", "related-article link", "breadcrumb", "repeated block"})
_TOKEN = re.compile(r"\w{3,}")
_DIGIT = re.compile(r"\d")
_STRIP_SEPARATOR = re.compile(r"\s+[/|·•›»>]\s+")
STRIP_PART_WORDS = 3
STAMP_WORDS = 6
_DASHES = frozenset("-–—")
_CLOSERS = ")]\"'»«“”‘’ "
SHORT_LINE_WORDS = 3  # menu entries and section names above a headline ("Politik", "Log In")
_CJK = re.compile("[\u3040-\u9fff\uac00-\ud7af]")
_LEADING_MARKS = re.compile(r"^[\W_]+")
# A section name in CJK script is a word or two ("政治", "地震・災害"); a headline is a phrase.
CJK_SECTION_CHARS = 5


def sigmoid(values: FloatArray) -> FloatArray:
    return 1.0 / (1.0 + np.exp(-np.clip(values, -30.0, 30.0)))


@dataclass(frozen=True)
class LineModel:
    first: FloatArray  # logistic weights over FEATURE_NAMES
    second: FloatArray  # logistic weights over FEATURE_NAMES + SMOOTH_NAMES
    title: FloatArray  # logistic weights over TITLE_NAMES
    drop_below: float  # a line no rule marked is furniture below this probability
    keep_above: float  # a line a rule marked is article above this probability
    # A page whose unmarked lines are mostly prose is lightly furnished: the rules found its
    # furniture already, and the model removes only what it is near certain of.
    light_share: float
    light_drop_below: float
    light_keep_above: float

    def thresholds(self, light: bool) -> tuple[float, float]:
        """(drop_below, keep_above) for a light or a heavily furnished page."""
        if light:
            return self.light_drop_below, self.light_keep_above
        return self.drop_below, self.keep_above

    def article_probabilities(self, features: FloatArray) -> FloatArray:
        first = sigmoid(features @ self.first)
        width = features.shape[1]
        return sigmoid(features @ self.second[:width] + smoothed(first) @ self.second[width:])

    def title_scores(self, candidates: FloatArray) -> FloatArray:
        return candidates @ self.title


def model_from_json(data: dict[str, object]) -> LineModel:
    """A model from its JSON form; the feature names must be the ones this code computes."""
    names = data.get("features")
    if names != {
        "first": list(FEATURE_NAMES),
        "second": list(FEATURE_NAMES + SMOOTH_NAMES),
        "title": list(TITLE_NAMES),
    }:
        raise ValueError("its features are not the ones pipeline.extract.line_features computes")
    weights = data["weights"]
    thresholds = data["thresholds"]
    if not isinstance(weights, dict) or not isinstance(thresholds, dict):
        raise TypeError("'weights' and 'thresholds' must be objects")
    return LineModel(
        first=np.array(weights["first"], dtype=np.float64),
        second=np.array(weights["second"], dtype=np.float64),
        title=np.array(weights["title"], dtype=np.float64),
        drop_below=float(thresholds["drop_below"]),
        keep_above=float(thresholds["keep_above"]),
        light_share=float(thresholds["light_share"]),
        light_drop_below=float(thresholds["light_drop_below"]),
        light_keep_above=float(thresholds["light_keep_above"]),
    )


@lru_cache(maxsize=2)
def load_model(path: Path = MODEL_PATH) -> LineModel:
    """The committed model; a missing or mismatched file stops with a message naming it."""
    try:
        return model_from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, KeyError, TypeError, ValueError) as error:
        raise RuntimeError(f"line model {path} is unusable: {error}") from error


def tokens(text: str) -> set[str]:
    """Content-word tokens; CJK text (no spaces) contributes its character pairs."""
    found = {t.casefold() for t in _TOKEN.findall(text)}
    if not text.isascii():
        cjk = _CJK.findall(text)
        found.update(a + b for a, b in pairwise(cjk))
    return found


def body_start(probabilities: FloatArray, features: FloatArray) -> int | None:
    """Where the article body starts: the main run of prose, or an article line just above it.

    Why not the first article line alone: the lead under the headline is often scored lower than
    the paragraphs below it, and a start too low puts captions and bylines among the candidates.
    """
    in_span = np.flatnonzero(features[:, FEATURE_NAMES.index("in main span")] > 0)
    article = np.flatnonzero(probabilities >= 0.5)
    starts = [int(found[0]) for found in (in_span, article) if len(found)]
    if not starts:
        return None
    if len(starts) == 2 and starts[1] < starts[0] - TITLE_WINDOW:
        return starts[0]  # an isolated "article" line far above the body is a teaser
    return min(starts)


def title_candidates(
    lines: Sequence[Line],
    kinds: Sequence[str | None],
    features: FloatArray,
    probabilities: FloatArray,
    start: int,
    facts: Collection[int],
) -> tuple[list[int], FloatArray]:
    """Lines that may be the headline, near the body's start, and their TITLE_NAMES features.

    ``facts`` are the page's lines of lists of facts (``fact_list_lines``): a line of a list of
    facts ("Price: 349 euros") is never the headline.
    """
    low = window_top(kinds, start)
    indices = [
        i
        for i in range(low, min(len(lines), start + TITLE_BELOW + 1))
        if effective_words(lines[i].norm) >= 3
        and lines[i].words <= 40
        and any(c.isalpha() for c in lines[i].norm[:80])
        and (kinds[i] or "").split(":")[0] not in _NOT_HEADLINE
        and not section_strip(lines[i].norm)
        and not date_and_time(lines[i])
        and i not in facts
        and not lowercase_start(lines[i].norm)
        and not cjk_section_name(lines[i].norm)
        and not parenthesised(lines[i].norm)
    ]
    if not indices:
        return [], np.zeros((0, len(TITLE_NAMES)))
    # Why the main span too: on a short page the model may be sure of no line, yet the run of
    # prose is the article the headline's words come from.
    in_span = features[:, FEATURE_NAMES.index("in main span")] > 0
    article = np.flatnonzero((probabilities >= 0.5) | in_span)
    body_indices = [int(i) for i in article[article >= start][:12]]
    body_tokens = {i: tokens(lines[i].norm[:2000]) for i in body_indices}
    # How many body lines hold each token: a candidate inside the body is left out of its own
    # overlap by counting its tokens once less.
    holders: Counter[str] = Counter(t for found in body_tokens.values() for t in found)
    counts = _token_counts(lines)
    size = len(lines) + 1
    words = features[:, : OWN_NAMES.index("words>25") + 1]
    col = OWN_NAMES.index
    rows = []
    # Per-line flags only over the window, as offsets from its top: pages may be long.
    top = low
    bottom = min(len(lines), start + TITLE_BELOW + 6)
    furniture_prefix = np.cumsum([kind is not None for kind in kinds[top:bottom]])
    sentence = features[top:bottom, col("sentence end")] > 0
    shape = [_headline_shape(line, bool(sentence[j])) for j, line in enumerate(lines[top:bottom])]
    shape_prefix = np.cumsum(shape)
    stamp = [(kind or "").split(":")[0] in _STAMP_KINDS for kind in kinds[top:bottom]]
    for i in indices:
        offset = i - start
        own = features[i]
        line_tokens = body_tokens[i] if i in body_tokens else tokens(lines[i].norm)
        # Why leave the line itself out: a paragraph always overlaps with itself.
        own_count = 1 if i in body_tokens else 0
        shared = sum(1 for t in line_tokens if holders[t] > own_count)
        overlap = shared / len(line_tokens) if line_tokens else 0.0
        weights = [math.log(size / (counts[t] + 0.5)) if t in counts else 0.0 for t in line_tokens]
        weight = sum(weights)
        weighted = sum(
            w for t, w in zip(line_tokens, weights, strict=True) if holders[t] > own_count
        )
        above = [lines[j].words for j in range(max(0, i - 4), i)]
        at = i - top
        between = furniture_prefix[start - 1 - top] - furniture_prefix[at] if i < start else 0
        nearby = [lines[j].words for j in range(max(0, i - 3), min(len(lines), i + 4))]
        rows.append(
            [
                1.0,
                float(offset == 0),
                float(offset == -1),
                float(offset == -2),
                float(-5 <= offset <= -3),
                float(-12 <= offset <= -6),
                float(offset < -12),
                float(offset > 0),
                float(words[i, :2].sum() > 0),
                float(words[i, 2:5].sum() > 0),
                float(words[i, 5] > 0),
                own[col("sentence end")],
                # Why: a kicker runs into the headline below it with a colon or a dash, printed at
                # its end or as a separator line of its own.
                float(
                    own[col("colon end")] > 0
                    or lines[i].norm[-1:] in _DASHES
                    or (i + 1 < len(lines) and (kinds[i + 1] or "").split(":")[0] == "separator")
                ),
                own[col("capital share")],
                float(own[col("date")] > 0 or own[col("time")] > 0),
                float(kinds[i] is not None),
                float(probabilities[i]),
                own[FEATURE_NAMES.index("repeated")],
                overlap,
                np.log1p(max(0, between)) / 3.0,
                float(lines[i].words >= max(nearby)),
                float(i + 1 < len(lines) and probabilities[i + 1] >= 0.5),
                np.log1p(abs(offset)) / 3.0,
                float(own[col("sentence end")] > 0 and lines[i].words >= 15),
                float(shape[at]),
                float(i + 1 < len(lines) and lines[i + 1].words >= 15),
                float(i == 0 or lines[i - 1].words <= 3 or kinds[i - 1] is not None),
                np.log1p(shape_prefix[start - 1 - top] - shape_prefix[at] if i < start else 0)
                / 3.0,
                float(stamp[at]),
                float((kinds[i] or "").split(":")[0] in _INTERFACE_KINDS),
                float((kinds[i] or "").split(":")[0] in _LIST_KINDS),
                float(any(stamp[at + 1 : at + 5])),
                float(any(stamp[max(0, at - 3) : at])),
                own[col("capitalised words")],
                # Why: a relative stamp ("3 hours ago" in any language) is short and counts.
                float(lines[i].words <= 5 and _DIGIT.search(lines[i].norm) is not None),
                # Why: standfirsts and captions run longer than headlines, yet shorter than the
                # paragraphs "words>25" and "lead-like" describe.
                float(19 <= lines[i].words <= 26),
                # Why apart from "sentence end": headlines ask and exclaim, while captions and
                # standfirsts end in a full stop.
                float(lines[i].norm.rstrip(_CLOSERS)[-1:] in ("?", "!")),
                # Why: the headline is the first long line after the menus' short entries.
                float(len(above) >= 2 and max(above) <= SHORT_LINE_WORDS),
                weighted / weight if weight > 0 else 0.0,
            ]
        )
    return indices, np.array(rows)


def window_top(kinds: Sequence[str | None], start: int) -> int:
    """The first line of the headline window: TITLE_WINDOW lines above ``start`` that are of no
    interface kind, and every interface line among them.

    Why: rows of share, comment and subscription buttons (a dozen lines or more, "Share this
    item on X", "Leave a comment") stand between many a headline and its body; counted, they
    pushed the headline out of the window (36 lines above the body on one page).
    """
    top = start
    counted = 0
    while top > 0 and counted < TITLE_WINDOW:
        top -= 1
        if (kinds[top] or "").split(":")[0] not in _INTERFACE_KINDS:
            counted += 1
    return top


def _token_counts(lines: Sequence[Line]) -> Counter[str]:
    """How often the page prints each token (as :func:`tokens` finds them), for weighing tokens
    by how rare they are.

    Why: a line sharing only grammar words, the site's name or menu words with the article
    ("New to <Site>? Subscribe") overlaps with it as much as a headline does when every token
    counts alike; words the page prints rarely are the article's topic. Occurrences are
    counted, not lines holding them.
    """
    # Why each distinct line once, weighted by its repeats: pages repeat lines (menus, widgets,
    # blank lines), and reading every copy cost a sixth of the cleaner on a long text. Lines
    # repeated alike are read in one pass (a token never runs across a line break).
    repeats = Counter(line.norm[:120] for line in lines)
    by_repeats: dict[int, list[str]] = {}
    for text, times in repeats.items():
        by_repeats.setdefault(times, []).append(text)
    counts: Counter[str] = Counter()
    for times, texts in by_repeats.items():
        for spelling, found in Counter(_TOKEN.findall("\n".join(texts))).items():
            counts[spelling.casefold()] += found * times
    if any(not text.isascii() and _CJK.search(text) for text in repeats):
        # CJK pairs over the page's text in order: a pair may join two lines.
        cjk = _CJK.findall("\n".join(line.norm[:120] for line in lines))
        counts.update(a + b for a, b in pairwise(cjk))
    return counts


def section_strip(text: str) -> bool:
    """A strip of section names: three or more parts of a few words between separators
    ("News / Science / Space", "Sport | Football | Premier League").

    Why: a headline may hold one separator ("Kyiv | Talks resume") or end in a long part
    ("Home > World > <headline>"), never three short names and nothing else.
    """
    parts = _STRIP_SEPARATOR.split(text)
    return len(parts) >= 3 and all(0 < len(part.split()) <= STRIP_PART_WORDS for part in parts)


def lowercase_start(text: str) -> bool:
    """The line's first word is in lower case ("- auf der B 96 in Wormlage", "von Anna Keller").

    Why: headlines start with a capital in every cased script; a line starting in lower case
    goes on from a line before it (a fragment of a promo box, a teaser's second half, a
    byline's "von"). Words with a capital inside ("iPhone", "eBay") do not count; uncased
    scripts (CJK) never do.
    """
    first = _LEADING_MARKS.sub("", text, count=1).split(" ", 1)[0]
    return first[:1].isalpha() and first.islower()


def parenthesised(text: str) -> bool:
    """A credit, a stamp or a caption in parentheses: the whole line in them ("(Image credit:
    Google)", "(Updated 11:54 am)"), or a tag in them before a sentence that ends in a full
    stop ("(Symbolbild) Wenn Bus und Bahn stillstehen, wird ... Herausforderung.").

    Why: headlines open with a word; a tag in parentheses over a headline ("(VIDEO) ...") has
    no full stop at the end, and square brackets ("[Exclusive] ...") do not count.
    """
    if not text.startswith("("):
        return False
    close = text.find(")")
    if close == len(text) - 1:
        return True
    end = text.rstrip(_CLOSERS)
    return (
        close > 0 and len(end) >= 2 and end[-1] == "." and (end[-2].islower() or end[-2].isdigit())
    )


def cjk_section_name(text: str) -> bool:
    """A few CJK characters alone: a section name ("政治", "地震・災害"), never a headline.

    Why: CJK text has no spaces, so :func:`effective_words` counts its characters, and a
    five-character section name passes for a line of three words.
    """
    if text.isascii():
        return False
    compact = len(text) - text.count(" ")
    return compact <= CJK_SECTION_CHARS and 2 * len(_CJK.findall(text)) >= compact


def date_and_time(line: Line) -> bool:
    """A stamp: a date and a time in a few words ("Dec 3, 2026 | 14:05 EST"), never a headline."""
    text = line.norm
    return line.words <= STAMP_WORDS and bool(DATE.search(text) and TIME.search(text))


def headline_wrappers(lines: Sequence[Line], title: int) -> list[int]:
    """Lines that print the headline wrapped in a few other words: share texts, title bars.

    Why: these copies ("Share this Story: <headline>", "<headline> | Site", "<headline> Back
    to video") are page furniture however prose-like the headline makes them; a paragraph that
    quotes the headline is much longer than it, hence the share.
    """
    text = lines[title].norm
    return [
        i
        for i, line in enumerate(lines)
        if len(line.norm) > len(text)
        and len(text) >= HELD_SHARE * len(line.norm)
        and text in line.norm
    ]


def _headline_shape(line: Line, sentence: bool) -> bool:
    return 4 <= line.words <= 25 and not sentence and not line.norm.endswith(":")


@dataclass(frozen=True)
class Classified:
    probabilities: FloatArray  # of being article text, per line
    title: int | None
    light: bool  # lightly furnished: most lines no rule marked are prose
    kicker: int | None = None  # a line the headline runs on from, as the page prints it joined
    facts: frozenset[int] = frozenset()  # lines of the page's lists of facts


def is_light(
    lines: Sequence[Line],
    kinds: Sequence[str | None],
    features: FloatArray,
    model: LineModel,
    facts: Collection[int],
) -> bool:
    """Whether most lines no rule named are prose: a lightly furnished page.

    Why list items do not count: a spec sheet or a list of key points makes a short article
    look like a page of menus, though every one of its lines is the article's.
    """
    unmarked = [i for i, kind in enumerate(kinds) if kind is None]
    listed = list_items(lines, unmarked).union(facts)
    counted = [i for i in unmarked if i not in listed]
    if not counted:
        return False
    prose = features[counted, FEATURE_NAMES.index("prose")]
    return bool(prose.mean() >= model.light_share)


def classify(
    lines: Sequence[Line], kinds: Sequence[str | None], features: FloatArray, model: LineModel
) -> Classified:
    """Article probabilities of ``lines`` (features from ``page_features``) and the headline."""
    probabilities = model.article_probabilities(features)
    facts = frozenset(fact_list_lines(lines))
    light = is_light(lines, kinds, features, model, facts)
    start = body_start(probabilities, features)
    if start is None:
        return Classified(probabilities, None, light, facts=facts)
    indices, candidates = title_candidates(lines, kinds, features, probabilities, start, facts)
    if not indices:
        return Classified(probabilities, None, light, facts=facts)
    best = headline_alone(lines, indices, indices[int(np.argmax(model.title_scores(candidates)))])
    joined = kicker_and_headline(lines, best)
    if joined is None:
        return Classified(probabilities, best, light, facts=facts)
    kicker, headline = joined
    return Classified(probabilities, headline, light, kicker, facts)


def kicker_and_headline(lines: Sequence[Line], best: int) -> tuple[int, int] | None:
    """The kicker and headline lines around ``best`` that the page also prints as one line,
    "<kicker>: <headline>" (its title bar or breadcrumb); None when it prints no such line.

    Why: over an article a kicker stands on a line of its own ("Flood inquiry" above "Two
    resignations ..."), and the ranker takes one of the two lines; the page's own joined copy
    says the headline is both. A kicker the page never joins to it stays out of the title.
    """
    printed = {line.norm for line in lines if ": " in line.norm}
    for kicker, headline in ((best - 1, best), (best, best + 1)):
        if kicker < 0 or headline >= len(lines) or lines[kicker].words > KICKER_MAX_WORDS:
            continue
        if joined_headline(lines[kicker].norm, lines[headline].norm) in printed:
            return kicker, headline
    return None


def joined_headline(kicker: str, headline: str) -> str:
    """A kicker and its headline as one line, "<kicker>: <headline>"."""
    return f"{kicker.rstrip(' :')}: {headline}"


def headline_alone(lines: Sequence[Line], indices: Sequence[int], best: int) -> int:
    """The candidate standing alone inside ``best``, when ``best`` is it plus a site's wrapping.

    Why: pages repeat the headline wrapped in other words ("<headline> | Site", "Home >
    Section > <headline>", "Share this Story: <headline>", "<headline> Back to video"); when the
    ranker prefers the wrapped copy, the headline is the copy that stands as a line of its own.
    A kicker or a section name inside a headline is much shorter than it, hence the share; the
    text is compared as printed, because a headline whose kicker runs into it ("X: le ...")
    lowers its first letter where the page's shorter copy ("Le ...") does not.
    """
    text = lines[best].norm
    held = [
        i
        for i in indices
        if i != best
        and len(lines[i].norm) < len(text)
        and len(lines[i].norm) >= HELD_SHARE * len(text)
        and lines[i].norm in text
    ]
    return min(held, key=lambda i: abs(i - best)) if held else best
