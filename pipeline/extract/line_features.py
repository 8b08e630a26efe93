"""Numeric features of the lines of a plain-text page, for the line model.

Every feature describes a kind of line, never a string of one site: its length and shape (words,
sentence end, capitals, digits, separators, dates and times), the furniture kind the rules gave
it, how often it repeats on the page, and where it stands relative to the page's main run of
prose (the article body) and to its neighbours. Features of one line alone are cached by its
text because widgets repeat down a page; the context features are computed for all lines at
once with numpy, which keeps the model's cost per page small next to the rules'.
"""

from __future__ import annotations

import math
import re
import string
import threading
from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from pipeline.extract.furniture import Line

FloatArray = npt.NDArray[np.float64]

# The rule kinds a line can carry; each one is a feature of its own, so the model learns how far
# to trust each rule (a "byline" at the end may be the article's own credit line).
KINDS = (
    "advertisement marker",
    "weather widget",
    "site date bar",
    "timestamp",
    "byline",
    "skip link",
    "breadcrumb",
    "subscription blurb",
    "live ticker",
    "related-article link",
    "promo label",
    "photo caption",
    "share prompt",
    "comment prompt",
    "pagination",
    "copyright notice",
    "cookie notice",
    "site footer",
    "image alt text",
    "repeated block",
    "separator",
)
_KIND_INDEX = {kind: i for i, kind in enumerate(KINDS)}
_WORD_BINS = (1, 3, 6, 12, 25)  # upper bounds of the length classes; the last class is open
_PROSE_WORDS = 10
_SAMPLE = 120  # characters looked at for the ratios: enough for a line's shape, and cheap
# A year or a numeric day and month: what every date stamp has, in any language.
# Why every branch starts with a digit: the regex engine then skips to digits at C speed.
DATE = re.compile(r"(?:19|20)\d\d(?!\d)|\d{1,2}[./-]\d{1,2}[./-]|\d{4}年|\d{1,2}月\d{1,2}日")
TIME = re.compile(r"\d{1,2}[:.h]\d{2}(?!\d)|\d{1,2}時")
_SEPARATOR = re.compile(r"\s[|•·/>»]\s|\s\|\s?|\|")
_LINK = re.compile(r"https?://|www\.|\.(?:com|org|net|de|uk)\b|@\w")
_BULLETS = frozenset("•·-–—*►▪●■▶›»→✓✔")
_QUOTES = frozenset("\"'«»„“”‘’‚「『")
_SENTENCE_CJK = frozenset("。！？」』")


_HIGH_BYTES = bytes(range(128, 256))
_UPPER_BYTES = string.ascii_uppercase.encode()
_LOWER_BYTES = string.ascii_lowercase.encode()
_DIGIT_BYTES = string.digits.encode()
# Characters without which a line cannot match _SEPARATOR or _LINK: a cheap test first.
_SEPARATOR_CHARS = frozenset("|•·/>»")
_LINK_CHARS = frozenset("/.@")
_SEPARATOR_POINTS = np.array(sorted(ord(c) for c in _SEPARATOR_CHARS), dtype=np.uint32)
_LINK_POINTS = np.array(sorted(ord(c) for c in _LINK_CHARS), dtype=np.uint32)
_CJK = re.compile("[\u3040-\u9fff\uac00-\ud7af]")
# Content words for the topic features: letters only, four or more (short words are mostly
# grammar); CJK text, written without spaces, contributes its character pairs.
_TOPIC_WORD = re.compile(r"[^\W\d_]{4,}")
# The same words in casefolded ASCII text; the Unicode class costs a third more per character.
_TOPIC_WORD_ASCII = re.compile(r"[a-z]{4,}")
_TOPIC_SAMPLE = 200  # characters of a line read for its words: a paragraph's topic shows early
_TOPIC_MIN_WORDS = 3  # lines shorter than this have too few words for a share to mean anything

OWN_NAMES: tuple[str, ...] = (
    *(f"words<={b}" for b in _WORD_BINS),
    "words>25",
    "log chars",
    "sentence end",
    "colon end",
    "question or exclamation end",
    "bullet start",
    "quote start",
    "digit share",
    "capital share",
    "capitalised words",
    "separators",
    "commas per word",
    "date",
    "time",
    "no letters",
    "cjk share",
    "link or handle",
    "all capitals",
    "copyright sign",
    *(f"kind {k}" for k in KINDS),
)


def effective_words(text: str) -> float:
    """Words, with CJK characters counted as half a word each (they are not space-separated)."""
    if not text:
        return 0.0
    cjk = 0 if text.isascii() else len(_CJK.findall(text, 0, _SAMPLE))
    return text.count(" ") + 1 + cjk / 2.0


def _char_counts(sample: str) -> tuple[int, int, int]:
    """(letters, capitals, digits) of ``sample``; every non-ASCII character counts as a letter.

    Why bytes: deleting byte classes runs in C, a hundred times faster than testing every
    character in Python; non-ASCII characters are letters (accents, CJK, Cyrillic) but for a
    few quotes and dashes, which the model learns around.
    """
    data = sample.encode("utf-8")
    ascii_only = data.translate(None, _HIGH_BYTES)
    size = len(ascii_only)
    upper = size - len(ascii_only.translate(None, _UPPER_BYTES))
    lower = size - len(ascii_only.translate(None, _LOWER_BYTES))
    digits = size - len(ascii_only.translate(None, _DIGIT_BYTES))
    return upper + lower + len(sample) - size, upper, digits


_SHAPE_AT = len(_WORD_BINS) + 1  # OWN_NAMES: word classes, then shape, then rule kinds
_KINDS_AT = OWN_NAMES.index(f"kind {KINDS[0]}")


def _shape(line: Line, words: float) -> list[float]:
    """The shape features of one line (OWN_NAMES between the word classes and the kinds)."""
    text = line.norm
    sample = text[:_SAMPLE]
    size = max(1, len(sample))
    letters, upper, digits = _char_counts(sample)
    tokens = sample.split()
    cjk = 0 if sample.isascii() else len(_CJK.findall(sample))
    last = text[-1:]
    # Why the character tests first: the searches only run when a line can match at all.
    return [
        math.log1p(len(text)) / 7.0,
        float(line.sentence or last in _SENTENCE_CJK),
        float(last == ":"),
        float(last in "?!"),
        float(text[:1] in _BULLETS),
        float(text[:1] in _QUOTES),
        digits / size,
        upper / max(1, letters),
        sum(1 for t in tokens if t[:1].isupper()) / max(1, len(tokens)),
        float(not _SEPARATOR_CHARS.isdisjoint(sample) and bool(_SEPARATOR.search(sample))),
        min(1.0, sample.count(",") / max(1.0, words)),
        float(digits > 0 and bool(DATE.search(sample))),
        float(digits > 0 and bool(TIME.search(sample))),
        float(not letters),
        cjk / size,
        float(not _LINK_CHARS.isdisjoint(sample) and bool(_LINK.search(sample))),
        float(upper == letters and letters > 1),
        float("©" in sample),
    ]


def shapes_of(lines: Sequence[Line]) -> tuple[FloatArray, FloatArray]:
    """(effective words, shape features) of many lines at once; the same values as ``_shape``.

    Why in one pass: per line, Python spends more on calling the tests than the tests take. The
    lines' samples are joined by NUL (never in a line, matched by no pattern) and read as one
    array of code points: the character counts become sums per line segment, and each pattern
    runs once over the joined text, its matches mapped back to their lines.
    """
    count = len(lines)
    shapes = np.zeros((count, _KINDS_AT - _SHAPE_AT))
    if not count:
        return np.zeros(0), shapes
    norms = [line.norm for line in lines]
    samples = [norm[:_SAMPLE] for norm in norms]
    # Why the NUL after the last line too: every line's segment then holds at least one point.
    joined = "\0".join(samples) + "\0"
    points = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    lengths = np.array([len(sample) for sample in samples])
    starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1]))

    def per_line(mask: npt.NDArray[np.bool_]) -> FloatArray:
        return np.add.reduceat(mask.astype(np.float64), starts)

    def matched(pattern: re.Pattern[str], could: FloatArray) -> FloatArray:
        """1.0 for the lines ``pattern`` finds something in, searching only those that ``could``.

        Why the preselection: the regex engine tries every position of the text it is given,
        and most lines hold no digit or separator at all.
        """
        found = np.zeros(count)
        chosen = np.flatnonzero(could)
        if not len(chosen):
            return found
        texts = [samples[i] for i in chosen.tolist()]
        offsets = np.concatenate(([0], np.cumsum([len(t) + 1 for t in texts])[:-1]))
        at = [m.start() for m in pattern.finditer("\0".join(texts))]
        if at:
            found[chosen[np.searchsorted(offsets, at, side="right") - 1]] = 1.0
        return found

    upper = per_line((points >= 65) & (points <= 90))
    lower = per_line((points >= 97) & (points <= 122))
    digits = per_line((points >= 48) & (points <= 57))
    letters = upper + lower + per_line(points >= 128)
    cjk = per_line(
        ((points >= 0x3040) & (points <= 0x9FFF)) | ((points >= 0xAC00) & (points <= 0xD7AF))
    )
    # A token starts where a non-space follows a space or a line's start (norms hold single spaces).
    word_char = (points != 32) & (points != 0)
    before = np.concatenate(([False], word_char[:-1]))
    token_at = np.flatnonzero(word_char & ~before)
    firsts = points[token_at]
    capital = (firsts >= 65) & (firsts <= 90)
    for j in np.flatnonzero(firsts >= 128).tolist():
        capital[j] = chr(int(firsts[j])).isupper()
    token_line = np.searchsorted(starts, token_at, side="right") - 1
    tokens = np.bincount(token_line, minlength=count).astype(np.float64)
    capitalised = np.bincount(token_line, weights=capital, minlength=count)
    words = np.array([norm.count(" ") + 1.0 if norm else 0.0 for norm in norms]) + cjk / 2.0
    size = np.maximum(1.0, lengths)
    lasts = [norm[-1:] for norm in norms]
    heads = [norm[:1] for norm in norms]
    shapes[:, 0] = [math.log1p(len(norm)) / 7.0 for norm in norms]
    shapes[:, 1] = [
        line.sentence or last in _SENTENCE_CJK for line, last in zip(lines, lasts, strict=True)
    ]
    shapes[:, 2] = [last == ":" for last in lasts]
    shapes[:, 3] = [last in "?!" for last in lasts]
    shapes[:, 4] = [head in _BULLETS for head in heads]
    shapes[:, 5] = [head in _QUOTES for head in heads]
    shapes[:, 6] = digits / size
    shapes[:, 7] = upper / np.maximum(1.0, letters)
    shapes[:, 8] = capitalised / np.maximum(1.0, tokens)
    shapes[:, 9] = matched(_SEPARATOR, per_line(np.isin(points, _SEPARATOR_POINTS)))
    shapes[:, 10] = np.minimum(1.0, per_line(points == 44) / np.maximum(1.0, words))
    shapes[:, 11] = matched(DATE, digits)
    shapes[:, 12] = matched(TIME, digits)
    shapes[:, 13] = letters == 0
    shapes[:, 14] = cjk / size
    shapes[:, 15] = matched(_LINK, per_line(np.isin(points, _LINK_POINTS)))
    shapes[:, 16] = (upper == letters) & (letters > 1)
    shapes[:, 17] = per_line(points == 0xA9) > 0
    return words, shapes


class FeatureCache:
    """Features of each line text seen, as rows of one matrix: a page gathers its rows at once.

    Why: repeated widgets and pages of one site cost one lookup per line, and building a page's
    matrix is one numpy gather instead of converting Python lists.
    """

    def __init__(self, limit: int = 50_000) -> None:
        self._limit = limit
        # Why a lock: extraction threads share one cache (ARCHIVE_EXTRACT_WORKERS=0), and a page
        # gathered while another grows or clears the matrices read rows out of bounds or the
        # features of other lines.
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        self._rows: dict[str, int] = {}
        self._key_ids: dict[str, int] = {}
        self.shapes = np.zeros((256, _KINDS_AT - _SHAPE_AT))
        self.words = np.zeros(256)
        self.key_ids = np.zeros(256, dtype=np.int64)

    def gather(self, lines: Sequence[Line]) -> tuple[FloatArray, FloatArray, npt.NDArray[np.int64]]:
        """(words, shape features, key ids) of every line, as one consistent copy."""
        with self._lock:
            rows = self.rows(lines)
            return self.words[rows], self.shapes[rows], self.key_ids[rows]

    def rows(self, lines: Sequence[Line]) -> list[int]:
        """Row of every line, computing the features of texts not seen before in one batch."""
        if len(self._rows) + len(lines) > self._limit:
            self.clear()
        known = self._rows
        new: dict[str, Line] = {}
        for line in lines:
            if line.norm not in known and line.norm not in new:
                new[line.norm] = line
        if new:
            self._add(list(new.values()))
        return [known[line.norm] for line in lines]

    def _add(self, lines: list[Line]) -> None:
        first = len(self._rows)
        needed = first + len(lines)
        if needed > len(self.words):
            size = max(needed, 2 * len(self.words))
            self.shapes = np.vstack(
                [self.shapes, np.zeros((size - len(self.shapes), self.shapes.shape[1]))]
            )
            self.words = np.concatenate([self.words, np.zeros(size - len(self.words))])
            self.key_ids = np.concatenate(
                [self.key_ids, np.zeros(size - len(self.key_ids), dtype=np.int64)]
            )
        words, shapes = shapes_of(lines)
        self.words[first:needed] = words
        self.shapes[first:needed] = shapes
        key_ids = self._key_ids
        self.key_ids[first:needed] = [key_ids.setdefault(line.key, len(key_ids)) for line in lines]
        for row, line in enumerate(lines, first):
            self._rows[line.norm] = row


CONTEXT_NAMES: tuple[str, ...] = (
    "bias",
    "position",
    "repeated",
    "log repeats",
    "prose",
    "in main span",
    "before main span",
    "after main span",
    "log distance to span",
    "main span share of page",
    "in loose span",
    "log distance to loose span",
    "prose in span",
    "short in span",
    *(f"{name}@{off:+d}" for off in (-2, -1, 1, 2) for name in ("prose", "furniture", "short")),
    "prose density 5",
    "prose density 15",
    "log short run",
    "between prose",
    "short between prose",
    "topic share",
    "topic share of prose",
    "few topic words",
)
FEATURE_NAMES = OWN_NAMES + CONTEXT_NAMES


def main_span(
    prose: npt.NDArray[np.bool_], words: FloatArray, cost: float = 0.6
) -> tuple[int, int]:
    """[start, end] of the page's densest run of prose (the maximum-sum segment).

    Prose lines add their length (capped), every other line costs a little: menus and teaser
    lists between two paragraphs do not break the run, a page of links around it does.
    """
    if len(prose) == 0:
        return 0, -1
    gains = np.where(prose, np.minimum(words, 40.0) / 10.0, -cost)
    sums = np.concatenate(([0.0], np.cumsum(gains)))
    lowest = np.minimum.accumulate(sums[:-1])
    end = int(np.argmax(sums[1:] - lowest))
    before = sums[: end + 1]
    # Why the last lowest point: a run starts after everything that does not pay for itself.
    start = end - int(np.argmin(before[::-1]))
    return start, end


def page_features(
    lines: Sequence[Line], kinds: Sequence[str | None], cache: FeatureCache
) -> FloatArray:
    """The feature matrix of a page: one row per line, columns as FEATURE_NAMES."""
    n = len(lines)
    if n == 0:
        return np.zeros((0, len(FEATURE_NAMES)))
    words, shapes, key_ids = cache.gather(lines)
    own = np.zeros((n, len(OWN_NAMES)))
    own[np.arange(n), np.searchsorted(_WORD_BINS, words)] = 1.0
    own[:, _SHAPE_AT:_KINDS_AT] = shapes
    kind_columns = [_KIND_INDEX.get((kind or "").split(":")[0], -1) for kind in kinds]
    marked = [i for i, column in enumerate(kind_columns) if column >= 0]
    own[marked, [_KINDS_AT + kind_columns[i] for i in marked]] = 1.0
    sentence = own[:, OWN_NAMES.index("sentence end")] > 0
    furniture = np.array([kind is not None for kind in kinds])
    prose = sentence & (words >= _PROSE_WORDS) & ~furniture
    short = (words <= 6) & ~sentence
    start, end = main_span(prose, words)
    index = np.arange(n)
    _, inverse, counts = np.unique(key_ids, return_inverse=True, return_counts=True)
    repeats = counts[inverse].astype(np.float64)
    distance = np.where(index < start, start - index, np.where(index > end, index - end, 0))
    loose_start, loose_end = main_span(prose, words, 0.2)
    loose = np.where(
        index < loose_start, loose_start - index, np.where(index > loose_end, index - loose_end, 0)
    )
    in_span = ((index >= start) & (index <= end)).astype(np.float64)
    context = [
        np.ones(n),
        index / max(1, n - 1),
        (repeats > 1).astype(np.float64),
        np.log(repeats),
        prose.astype(np.float64),
        in_span,
        (index < start).astype(np.float64),
        (index > end).astype(np.float64),
        np.log1p(distance) / 5.0,
        np.full(n, (end - start + 1) / n),
        (loose == 0).astype(np.float64),
        np.log1p(loose) / 5.0,
        prose * in_span,
        short * in_span,
    ]
    for offset in (-2, -1, 1, 2):
        for flags in (prose, furniture, short):
            context.append(_shifted(flags.astype(np.float64), offset))
    context.append(_window_mean(prose.astype(np.float64), 5))
    context.append(_window_mean(prose.astype(np.float64), 15))
    context.append(np.log1p(_run_lengths(short)) / 4.0)
    # Why: a subheading or a list item is short, but it sits between paragraphs of the article.
    numeric = prose.astype(np.float64)
    above = np.maximum(_shifted(numeric, -1), _shifted(numeric, -2))
    below = np.maximum(_shifted(numeric, 1), _shifted(numeric, 2))
    between = above * below * (1.0 - numeric)
    context.append(between)
    context.append(between * short)
    share, few = topic_shares(lines, np.flatnonzero(prose * in_span))
    context.append(share)
    context.append(share * numeric)
    context.append(few)
    return np.hstack([own, np.column_stack(context)])


def topic_words(text: str) -> set[str]:
    """The content words of a line (casefolded), CJK character pairs included."""
    sample = text[:_TOPIC_SAMPLE].casefold()
    if sample.isascii():
        return set(_TOPIC_WORD_ASCII.findall(sample))
    found = set(_TOPIC_WORD.findall(sample))
    cjk = "".join(_CJK.findall(sample))
    found.update(cjk[k : k + 2] for k in range(len(cjk) - 1))
    return found


def topic_shares(
    lines: Sequence[Line], body: npt.NDArray[np.intp]
) -> tuple[FloatArray, FloatArray]:
    """(share of each line's content words that other body paragraphs use, too few words flag).

    Why: an article's lines share its vocabulary (names, places, the subject); a newsletter box,
    a paywall offer or the teaser of another story inside the page does not, however much it
    reads like prose. ``body`` are the page's main run of prose paragraphs; a paragraph's own
    words are left out of the counts it is compared with. Words in most of the paragraphs
    (grammar: "dass", "which", "sont") say nothing about the topic and are left out.
    """
    n = len(lines)
    # Why by text: widgets and repeated paragraphs are read, counted and scored once.
    index: dict[str, int] = {}
    text_ids = np.array([index.setdefault(line.norm, len(index)) for line in lines], dtype=np.int64)
    texts = list(index)
    words_of: list[set[str] | None] = [None] * len(texts)

    def words(text_id: int) -> set[str]:
        found = words_of[text_id]
        if found is None:
            found = words_of[text_id] = topic_words(texts[text_id])
        return found

    in_body = np.zeros(n, dtype=bool)
    in_body[body] = True
    body_ids, times = np.unique(text_ids[in_body], return_counts=True)
    bag: list[str] = []
    for text_id, repeated in zip(body_ids.tolist(), times.tolist(), strict=True):
        bag.extend(list(words(text_id)) * repeated)
    counts = Counter(bag)  # in how many body paragraphs each word stands
    common = max(3, int(in_body.sum()) // 2)
    # Why sets: a line is then scored by set operations in C, not word by word. A paragraph
    # of the body stands in its own counts once: for it, "used by another" means used twice.
    used = set(counts)
    used_twice = {word for word, count in counts.items() if count >= 2}
    grammar = {word for word, count in counts.items() if count > common}
    grammar_own = {word for word, count in counts.items() if count > common + 1}
    pairs, inverse = np.unique(text_ids * 2 + in_body, return_inverse=True)
    values = np.zeros((len(pairs), 2))
    values[:, 1] = 1.0
    for row, pair in enumerate(pairs.tolist()):
        text_id, own = divmod(pair, 2)
        if texts[text_id].count(" ") + 1 < _TOPIC_MIN_WORDS:  # Line.words of the text
            continue
        content = words(text_id) - (grammar_own if own else grammar)
        if len(content) >= _TOPIC_MIN_WORDS:
            values[row] = len(content & (used_twice if own else used)) / len(content), 0.0
    return values[inverse, 0], values[inverse, 1]


def _shifted(values: FloatArray, offset: int) -> FloatArray:
    """values[i + offset] at i; 0 beyond the page's edges."""
    out = np.zeros_like(values)
    if offset < 0:
        out[-offset:] = values[:offset]
    else:
        out[:-offset] = values[offset:]
    return out


def _window_mean(values: FloatArray, radius: int) -> FloatArray:
    """Mean of values[i - radius .. i + radius] without i itself, clipped at the edges."""
    sums = np.concatenate(([0.0], np.cumsum(values)))
    index = np.arange(len(values))
    low = np.maximum(0, index - radius)
    high = np.minimum(len(values), index + radius + 1)
    size = np.maximum(1, high - low - 1)
    return (sums[high] - sums[low] - values) / size


def _run_lengths(flags: npt.NDArray[np.bool_]) -> FloatArray:
    """For each line, the length of the run of True it belongs to (0 for False)."""
    if len(flags) == 0:
        return np.zeros(0)
    starts = np.flatnonzero(np.diff(np.concatenate(([0], flags.astype(np.int8)))) != 0)
    run = np.cumsum(np.isin(np.arange(len(flags)), starts))
    sizes = np.bincount(run)
    return np.where(flags, sizes[run], 0).astype(np.float64)


def smoothed(probabilities: FloatArray) -> FloatArray:
    """Second-pass features: what the first pass thinks of the neighbours."""
    p = probabilities
    return np.column_stack(
        [
            p,
            _shifted(p, -1),
            _shifted(p, 1),
            _window_mean(p, 3),
            _window_mean(p, 8),
        ]
    )


SMOOTH_NAMES = ("p", "p@-1", "p@+1", "p mean 3", "p mean 8")
