"""Page furniture in plain text: line features, the rules data, and a line classifier.

The knowledge (phrases, patterns, kinds, thresholds) lives in ``rules/furniture.json``; this module
only applies it. Classification runs in passes: each line alone against the rules, then signals
that need context (captions and their alt text, repetition, blocks of furniture, lists under a
label such as "Related articles", and the tail of the page below the last paragraph).
"""

from __future__ import annotations

import json
import re
import string
from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from pipeline.extract.prefilter import Needs, Openings, Strings, fold, opening

RULES_PATH = Path(__file__).with_name("rules") / "furniture.json"
MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*"
CAPTION = "photo caption"
ALT_TEXT = "image alt text"
REPEATED = "repeated block"
SEPARATOR = "separator"
FOOTER = "site footer"
# Why: a sentence may close with quotes or brackets after its full stop.
_SENTENCE_END = re.compile(r"[.!?…](?:[\"'”’»)\]]*)$")
_HAS_WORD = re.compile(r"\w")
# Why not a regex: an anchored-at-end regex rescans a 1 MB line at every position.
_EDGE = "".join(chr(c) for c in range(0x2000, 0x2070)) + string.punctuation + string.whitespace
_EDGE += "•·●■▪►▶»«›‹¡¿©®°\xa0"


@dataclass(frozen=True)
class Line:
    """One non-blank input line and the features the classifier uses."""

    text: str  # stripped, inner whitespace kept
    norm: str  # whitespace collapsed, for matching
    block: int  # lines separated by no blank line share a block
    words: int
    sentence: bool  # ends like a sentence
    key: str  # comparison key for repetition: case, bullets and edge punctuation do not count

    @classmethod
    def make(cls, raw: str, block: int) -> Line:
        text = raw.strip()
        words = text.split()
        norm = " ".join(words)
        sentence = bool(_SENTENCE_END.search(norm[-8:]))
        # Why the key now: the repeat pass asks every line for it (a cached property paid a
        # lock and a descriptor call for each line on top).
        return cls(text, norm, block, len(words), sentence, norm.casefold().strip(_EDGE))


@dataclass(frozen=True)
class KindRule:
    kind: str
    line: re.Pattern[str] | None
    contains: re.Pattern[str] | None
    max_words: int
    max_chars: int  # longer lines are prose, never this kind
    in_prose: bool  # may be a full sentence of many words (copyright, cookie notices)
    header: bool
    kind_after_title: str | None
    # Why split: most lines match no pattern, and the costly ones fail only after trying every
    # position. ``line`` is ``opened`` or ``unopened``: the patterns whose matches start with
    # known text (``Rules.openings`` finds the kinds a line may start like in one regex match),
    # and the others (sources ``unopened_sources``), tried when ``Rules.needs`` finds what they
    # need in the line; so are ``contains``. The verdicts are those of ``line`` and ``contains``.
    opened: re.Pattern[str] | None
    openings: Strings
    unopened: re.Pattern[str] | None
    unopened_sources: tuple[str, ...]
    contains_sources: tuple[str, ...]


@dataclass(frozen=True)
class Rules:
    kinds: tuple[KindRule, ...]
    credit: re.Pattern[str]
    standalone_credit: re.Pattern[str]
    caption_cue: re.Pattern[str]
    closing_credit: re.Pattern[str]
    limits: dict[str, int]
    openings: Openings
    # The patterns a line is searched for literals of (``needs_for``), by key: see
    # _unopened_key, _contains_key, _STANDALONE, _CREDIT.
    needs: tuple[tuple[int, tuple[str, ...]], ...]

    def rule_for(self, kind: str) -> KindRule | None:
        return self._by_kind.get(kind)

    def needs_for(self, size: int, prose: bool, sentence: bool) -> Needs:
        """Needs of the patterns that apply to a line of ``size`` characters, prose or not.

        Why not one for all: the fewer literals, the faster the search; a long line of prose is
        only ever of a few kinds, and a sentence never has a photo credit (is_credited).
        """
        at = bisect_left(self._sizes, size)
        found = self._needs.get((at, prose, sentence))
        if found is None:
            applies = {_STANDALONE} if sentence else {_STANDALONE, _CREDIT}
            for index, rule in enumerate(self.kinds):
                if size <= rule.max_chars and (rule.in_prose or not prose):
                    applies.update((_unopened_key(index), _contains_key(index)))
            found = Needs([(key, sources) for key, sources in self.needs if key in applies])
            self._needs[(at, prose, sentence)] = found
        return found

    @cached_property
    def _sizes(self) -> list[int]:
        return sorted({rule.max_chars for rule in self.kinds})

    @cached_property
    def _needs(self) -> dict[tuple[int, bool, bool], Needs]:
        return {}

    @cached_property
    def _by_kind(self) -> dict[str, KindRule]:
        by_kind: dict[str, KindRule] = {}
        for rule in self.kinds:
            by_kind.setdefault(rule.kind, rule)  # Why setdefault: the first rule of a kind counts
        return by_kind


def _alternation(patterns: Sequence[str], month: str) -> str:
    return "|".join(f"(?:{p.replace('{month}', month)})" for p in patterns)


def _agency_alternation(agencies: Sequence[str]) -> str:
    # Why case-sensitive: "pool", "file" or "pa" in running text are not credits; "Pool", "PA" are.
    names = sorted({n for a in agencies for n in (a, a.upper())}, key=len, reverse=True)
    return "(?-i:" + "|".join(re.escape(n) for n in names) + ")"


def _compile_kind(entry: dict[str, object], decoration: str) -> KindRule:
    flags = re.IGNORECASE
    line = entry.get("line") or []
    contains = entry.get("contains") or []
    if not isinstance(line, list) or not isinstance(contains, list):
        raise TypeError(f"kind {entry.get('kind')!r}: 'line' and 'contains' must be lists")
    sources = [str(p).replace("{month}", MONTH) for p in line]
    starts = [opening(source) if Openings.known_start(decoration) else None for source in sources]
    opened = [str(p) for p, start in zip(line, starts, strict=True) if start is not None]
    unopened = [str(p) for p, start in zip(line, starts, strict=True) if start is None]
    return KindRule(
        kind=str(entry["kind"]),
        line=re.compile(f"{decoration}(?:{_alternation(line, MONTH)}){decoration}", flags)
        if line
        else None,
        contains=re.compile(_alternation(contains, MONTH), flags) if contains else None,
        max_words=int(str(entry.get("max_words", 12))),
        max_chars=int(str(entry.get("max_chars", 160))),
        in_prose=bool(entry.get("in_prose", False)),
        header=bool(entry.get("header", False)),
        kind_after_title=str(entry["kind_after_title"]) if "kind_after_title" in entry else None,
        opened=re.compile(f"{decoration}(?:{_alternation(opened, MONTH)}){decoration}", flags)
        if opened
        else None,
        openings=frozenset(prefix for start in starts if start is not None for prefix in start),
        unopened=re.compile(f"{decoration}(?:{_alternation(unopened, MONTH)}){decoration}", flags)
        if unopened
        else None,
        unopened_sources=tuple(p.replace("{month}", MONTH) for p in unopened),
        contains_sources=tuple(str(p).replace("{month}", MONTH) for p in contains),
    )


@lru_cache(maxsize=4)
def load_rules(path: Path = RULES_PATH) -> Rules:
    """Compile the furniture rules; a broken rules file stops with a message naming it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        agency = _agency_alternation(data["agencies"])
        credits = [p.replace("{agency}", agency) for p in data["credit"]]
        standalone = [c for c in credits if c.startswith("^")]
        kinds = tuple(_compile_kind(k, data["decoration"]) for k in data["kinds"])
        return Rules(
            kinds=kinds,
            credit=re.compile(
                _alternation([c for c in credits if c not in standalone], MONTH), re.IGNORECASE
            ),
            standalone_credit=re.compile(_alternation(standalone, MONTH), re.IGNORECASE),
            caption_cue=re.compile(_alternation(data["caption_cues"], MONTH), re.IGNORECASE),
            closing_credit=re.compile(_alternation(data["closing_credit"], MONTH), re.IGNORECASE),
            limits={str(k): int(v) for k, v in data["limits"].items()},
            openings=Openings(
                [(i, kind.openings) for i, kind in enumerate(kinds) if kind.opened is not None],
                data["decoration"],
            ),
            needs=(
                *((_unopened_key(i), kind.unopened_sources) for i, kind in enumerate(kinds)),
                *((_contains_key(i), kind.contains_sources) for i, kind in enumerate(kinds)),
                (_STANDALONE, tuple(c.replace("{month}", MONTH) for c in standalone)),
                (
                    _CREDIT,
                    tuple(c.replace("{month}", MONTH) for c in credits if c not in standalone),
                ),
            ),
        )
    except (OSError, KeyError, TypeError, ValueError, re.error) as error:
        raise RuntimeError(f"furniture rules {path} are unusable: {error}") from error


_STANDALONE = -1
_CREDIT = -2


def _unopened_key(index: int) -> int:
    return 2 * index


def _contains_key(index: int) -> int:
    return 2 * index + 1


def line_kind(line: Line, rules: Rules) -> str | None:
    """The furniture kind of one line judged alone, or None."""
    norm = line.norm
    if not _HAS_WORD.search(norm):
        return SEPARATOR
    size = len(norm)
    prose = line.sentence and line.words >= rules.limits["prose_words"]
    if size <= rules.limits["max_pattern_chars"]:
        folded = fold(norm)
        opened = rules.openings.keys(folded)
        needed = rules.needs_for(size, prose, line.sentence).keys(folded)
        # The kinds this line may be of, in the rules' order: every other pattern cannot match.
        for index in sorted(opened.union(key >> 1 for key in needed if key >= 0)):
            rule = rules.kinds[index]
            if size > rule.max_chars or (prose and not rule.in_prose):
                continue
            if rule.opened is not None and index in opened and rule.opened.fullmatch(norm):
                return rule.kind
            if (
                rule.unopened is not None
                and _unopened_key(index) in needed
                and rule.unopened.fullmatch(norm)
            ):
                return rule.kind
            if (
                rule.contains is not None
                and _contains_key(index) in needed
                and line.words <= rule.max_words
                and rule.contains.search(norm)
            ):
                return rule.kind
        if _STANDALONE in needed and rules.standalone_credit.search(norm):
            return CAPTION
        credit_possible = _CREDIT in needed
    else:
        credit_possible = True  # Why: a line this long is not searched for literals.
    if (
        credit_possible
        and line.words <= rules.limits["caption_max_words"]
        and is_credited(line, rules)
    ):
        return CAPTION
    return None


def is_credited(line: Line, rules: Rules) -> bool:
    """A photo credit closes the line ("... REUTERS/Name", "(Photo: AP)", "KCNA via REUTERS")."""
    if line.sentence:
        # Why: credits close without a full stop ("... REUTERS/Name", "(via Reuters)"), and this
        # skips the costly tail search for almost every line of prose.
        return False
    size = rules.limits["credit_tail_chars"]
    tail = line.norm
    if len(tail) > size:
        # Why cut at a space: the patterns expect the tail to start at a word boundary.
        tail = tail[-size:].partition(" ")[2]
    return bool(rules.credit.search(tail))


def mark_captions(lines: Sequence[Line], kinds: list[str | None], rules: Rules) -> None:
    """Captions whose credit stands on the next line, and image alt text above a caption."""
    block_sizes = Counter(line.block for line in lines)
    for i in range(1, len(lines)):
        line, before = lines[i], lines[i - 1]
        if (
            kinds[i] == CAPTION
            and kinds[i - 1] is None
            and line.words <= 6
            and before.block == line.block
            # Why: in text without blank lines a block is the whole page, not a figure.
            and block_sizes[line.block] <= 3
            and rules.standalone_credit.search(line.norm)
        ):
            kinds[i - 1] = CAPTION
    for i in range(len(lines) - 1):
        if kinds[i] is None and _is_alt_text(lines[i], lines[i + 1], kinds[i + 1], rules):
            kinds[i] = ALT_TEXT


def _is_alt_text(line: Line, nxt: Line, nxt_kind: str | None, rules: Rules) -> bool:
    # Why so strict: a subhead also precedes a paragraph that may start with its words.
    if line.sentence or line.words > rules.limits["alt_text_max_words"]:
        return False
    if len(nxt.norm) <= len(line.norm):
        return False
    head = line.norm.casefold().rstrip(" .:")
    # Why the cue last: the search tries every position, the prefix test fails almost always.
    if not nxt.norm.casefold().startswith(head):
        return False
    return nxt_kind == CAPTION or rules.caption_cue.search(nxt.norm) is not None


def mark_repeats(
    lines: Sequence[Line], kinds: list[str | None], rules: Rules, protect: int | None
) -> None:
    """Short lines that occur more than once on a page are widgets, not prose."""
    counts = Counter(line.key for line in lines)
    limit = rules.limits["repeat_max_words"]
    for i, line in enumerate(lines):
        if kinds[i] is not None or i == protect or not line.key or counts[line.key] < 2:
            continue
        if line.words <= limit and (not line.sentence or line.words <= 4):
            kinds[i] = REPEATED


def mark_blocks(
    lines: Sequence[Line], kinds: list[str | None], rules: Rules, protect: int | None
) -> None:
    """A block that is mostly furniture is furniture: its leftover short lines and its repeats."""
    blocks: dict[int, list[int]] = {}
    for i, line in enumerate(lines):
        if i != protect:
            blocks.setdefault(line.block, []).append(i)
    for members in blocks.values():
        marked = [kinds[i] for i in members if kinds[i] is not None]
        absorb = (
            len(members) >= 3
            and len(marked) * 2 > len(members)
            and all(kinds[i] is not None or _is_label(lines[i], rules) for i in members)
        )
        if not absorb and REPEATED not in marked:
            continue  # Why: no line to rename (most blocks of article text)
        specific = Counter(k for k in marked if k not in (REPEATED, SEPARATOR))
        kind = specific.most_common(1)[0][0] if specific else REPEATED
        for i in members:
            if kinds[i] == REPEATED or (absorb and kinds[i] is None):
                kinds[i] = kind


def _is_label(line: Line, rules: Rules) -> bool:
    return not line.sentence and line.words <= rules.limits["short_words"]


def mark_lists(lines: Sequence[Line], kinds: list[str | None], rules: Rules, start: int) -> None:
    """The headlines listed under a bare label such as "Related articles" or "Most popular"."""
    for i in range(start, len(lines)):
        kind = kinds[i]
        rule = rules.rule_for(kind) if kind else None
        if rule is None or not rule.header or not _is_bare_label(lines[i], rules):
            continue
        for j in range(i + 1, min(len(lines), i + 12)):
            if kinds[j] is not None:
                if kinds[j] == kind:
                    continue
                break
            item = lines[j]
            question = item.norm.endswith("?")
            if item.words > rules.limits["short_words"] or (item.sentence and not question):
                break
            kinds[j] = kind


def _is_bare_label(line: Line, rules: Rules) -> bool:
    # Why: "Read more: <headline>" carries its own link; only a bare label heads a list.
    return line.words <= rules.limits["header_words"] and ":" not in line.norm.rstrip(" :")


def mark_tail(
    lines: Sequence[Line], kinds: list[str | None], rules: Rules, protect: int | None
) -> None:
    """Below the last paragraph of prose, short lines that are not sentences are the footer."""
    prose = [
        i
        for i, line in enumerate(lines)
        if kinds[i] is None
        and i != protect
        and line.sentence
        and line.words >= rules.limits["sentence_words"]
    ]
    if not prose:
        return
    for i in range(prose[-1] + 1, len(lines)):
        if kinds[i] is None and _is_label(lines[i], rules):
            kinds[i] = FOOTER
