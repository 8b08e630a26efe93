"""Literal prefilters for the furniture rules: the patterns a line cannot match, found cheaply.

Most lines of a page match none of the rules' patterns, and the costly ones (``.{0,120}\\bwe use
cookies...``) try every position of a line before failing. A pattern's parse tree tells which
literal text every match starts with (a whole-line pattern: :class:`Openings`) or contains (any
pattern: :class:`Needs`); one regex over a trie of all those literals finds, per line, the
patterns it may match, and the others are not tried. The literals come from the patterns
themselves, never written by hand, so they cannot go stale when the rules change, and a pattern
is only skipped where it could not have matched: the rules' verdicts stay the same.

Literals are compared after :func:`fold`, which maps every character to the one a
case-insensitive pattern compares it by; pattern characters folding cannot follow are not used.
"""

from __future__ import annotations

import _sre  # type: ignore[import-not-found]
import re
import re._casefix  # type: ignore[import-not-found]
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

# Why: ``re.IGNORECASE`` matches these to ASCII letters, and "İ".lower() is two characters.
# tests/test_text_prefilter.py checks every code point against the regex engine.
_FOLD = (("\u0130", "i"), ("\u0131", "i"), ("\u017f", "s"), ("\u212a", "k"))
_MOST = 256  # strings a literal set may hold before it is given up
_LONGEST = 16  # characters of a prefix worth comparing
_SMALL_CLASS = 10  # characters a class may have to count as literal
# Stands for "a decimal digit" (``\\d``) among the literals a match needs.
DIGIT = "\0"
_HAS_DIGIT = re.compile(r"\d")


def fold(text: str) -> str:
    """``text`` with case removed as case-insensitive patterns see it; same length as ``text``."""
    if not text.isascii():
        # Why replace, not translate: translate looks every character up in Python.
        for char, ascii_letter in _FOLD:
            if char in text:
                text = text.replace(char, ascii_letter)
    return text.lower()


Strings = frozenset[str]


@dataclass(frozen=True)
class _Info:
    """What the matches of a parse-tree node look like, folded (None: nothing known)."""

    exact: Strings | None  # every match is one of these ("" included when it matches empty)
    first: Strings | None  # every non-empty match starts with one of these (non-empty)
    nullable: bool  # it may match the empty string
    needs: Strings | None  # every match contains one of these (non-empty)


_UNKNOWN = _Info(exact=None, first=None, nullable=True, needs=None)
_ANY_CHAR = _Info(exact=None, first=None, nullable=False, needs=None)
_EMPTY = _Info(exact=frozenset({""}), first=frozenset(), nullable=True, needs=None)


def _literal(strings: Iterable[str]) -> _Info:
    exact = frozenset(strings)
    if len(exact) > _MOST:
        return _Info(
            exact=None, first=_clip({s for s in exact if s}), nullable="" in exact, needs=None
        )
    non_empty = frozenset(s for s in exact if s)
    return _Info(
        exact=exact,
        first=_clip(non_empty),
        nullable="" in exact,
        needs=None if "" in exact else non_empty,
    )


def _clip(strings: Iterable[str]) -> Strings | None:
    """Prefixes cut to _LONGEST characters (a prefix of a prefix is one); None if too many."""
    clipped = frozenset(s[:_LONGEST] for s in strings)
    for size in (_LONGEST, 8, 4, 2, 1):
        if len(clipped) <= _MOST:
            return clipped
        clipped = frozenset(s[:size] for s in clipped)
    return clipped if len(clipped) <= _MOST else None


def _char(code: int) -> str | None:
    """The folded form of a pattern's literal character, None for one :func:`fold` cannot follow.

    Why the exceptions: a case-insensitive pattern's "σ" also matches "ς" (and a few more such
    pairs), which folding keeps apart; ASCII letters' partners are folded onto them.
    """
    char = fold(chr(code))
    if len(char) != 1 or (code >= 128 and _lower(code) in _PARTNERS):
        return None
    return char


def _lower(code: int) -> int:
    """The code point the regex engine compares a case-insensitive character by."""
    return int(_sre.unicode_tolower(code))


_PARTNERS: frozenset[int] = frozenset(re._casefix._EXTRA_CASES)


def _class(items: Sequence[tuple[object, object]]) -> _Info:
    c = re._constants  # type: ignore[attr-defined]
    if list(items) == [(c.CATEGORY, c.CATEGORY_DIGIT)]:
        return _Info(exact=None, first=None, nullable=False, needs=frozenset({DIGIT}))
    chars: set[str] = set()
    for op, av in items:
        if op is re._constants.LITERAL and isinstance(av, int):  # type: ignore[attr-defined]
            codes = [av]
        elif (
            op is re._constants.RANGE  # type: ignore[attr-defined]
            and isinstance(av, tuple)
            and av[1] - av[0] < _SMALL_CLASS
        ):
            codes = list(range(av[0], av[1] + 1))
        else:
            return _ANY_CHAR
        for code in codes:
            char = _char(code)
            if char is None:
                return _ANY_CHAR
            chars.add(char)
    if len(chars) > _SMALL_CLASS:
        return _ANY_CHAR
    return _literal(chars)


def _concat(left: Strings, right: Strings) -> Strings | None:
    if len(left) * len(right) > _MOST:
        return None
    return frozenset(a + b for a in left for b in right)


def _best(candidates: Iterable[Strings]) -> Strings | None:
    """The most selective of several sets a match must contain one of: longest shortest string.

    Why punctuation weighs more: "/" or "(" is rarer in text than two letters ("ap" in "paper").
    """
    usable = [c for c in candidates if c and "" not in c]
    if not usable:
        return None
    return max(usable, key=lambda c: (min(_weight(s) for s in c), -len(c)))


def _weight(literal: str) -> int:
    if literal == DIGIT:
        return 4  # Why: found by one search per line, not per occurrence as literals are
    return len(literal) + (2 if any(not (c.isalnum() or c == " ") for c in literal) else 0)


def _sequence(items: Sequence[_Info]) -> _Info:
    # Exact: the product of the items' exact sets, while every item has one.
    exact: Strings | None = frozenset({""})
    for item in items:
        exact = _concat(exact, item.exact) if exact is not None and item.exact is not None else None
    if exact is not None:
        return _literal(exact)
    # Prefixes: the exact run at the start, then what the first item that is not exact starts
    # with; an item that may match empty also lets what follows it start the match.
    first: set[str] = set()
    run: Strings = frozenset({""})
    known = True
    for item in items:
        if item.exact is not None:
            joined = _concat(run, item.exact)
            if joined is None:
                first.update(run)  # each string of the run starts the match
                break
            if max(len(s) for s in joined) > _LONGEST:
                # Why stop: a cut string can no longer be followed by the next item's text.
                first.update(s[:_LONGEST] for s in joined)
                break
            run = joined
            continue
        if item.first is None:
            first.update(run)
            break
        first.update(a + b for a in run for b in item.first)
        if not item.nullable:
            break
    else:
        first.update(run)
    if "" in first:
        known = False
    # Needs: any item's, or a run of exact items joined.
    candidates: list[Strings] = [item.needs for item in items if item.needs is not None]
    joined_run: Strings | None = frozenset({""})
    for item in [*items, _ANY_CHAR]:
        if item.exact is not None and joined_run is not None:
            joined_run = _concat(joined_run, item.exact)
            continue
        if joined_run is not None and "" not in joined_run:
            candidates.append(joined_run)
        joined_run = frozenset({""})
    return _Info(
        exact=None,
        first=_clip(first) if known else None,
        nullable=all(item.nullable for item in items),
        needs=_best(candidates),
    )


def _branch(alternatives: Sequence[_Info]) -> _Info:
    exact: set[str] | None = set()
    first: set[str] | None = set()
    needs: set[str] | None = set()
    for alt in alternatives:
        if exact is not None and alt.exact is not None:
            exact.update(alt.exact)
        else:
            exact = None
        if first is not None and alt.first is not None:
            first.update(alt.first)
        else:
            first = None
        if needs is not None and alt.needs is not None:
            needs.update(alt.needs)
        else:
            needs = None
    if exact is not None and len(exact) <= _MOST:
        return _literal(exact)
    return _Info(
        exact=None,
        first=_clip(first) if first is not None else None,
        nullable=any(alt.nullable for alt in alternatives),
        needs=frozenset(needs) if needs is not None and len(needs) <= _MOST else None,
    )


def _repeat(low: int, high: int, child: _Info) -> _Info:
    if low == 0:
        optional = child.exact is not None and high == 1
        return _Info(
            exact=child.exact | {""} if optional and child.exact is not None else None,
            first=child.first,
            nullable=True,
            needs=None,
        )
    exact: Strings | None = None
    if child.exact is not None and low == high:
        exact = frozenset({""})
        for _ in range(low):
            exact = _concat(exact, child.exact) if exact is not None else None
    if exact is not None:
        return _literal(exact)
    return _Info(exact=None, first=child.first, nullable=child.nullable, needs=child.needs)


def _analyse(pattern: object) -> _Info:
    """_Info of a parsed (sub)pattern, a sequence of (opcode, argument) pairs."""
    c = re._constants  # type: ignore[attr-defined]
    items: list[_Info] = []
    for op, av in pattern:  # type: ignore[attr-defined]
        if op is c.LITERAL:
            char = _char(av)
            items.append(_literal({char}) if char is not None else _ANY_CHAR)
        elif op in (c.NOT_LITERAL, c.ANY):
            items.append(_ANY_CHAR)
        elif op is c.IN:
            items.append(_class(av))
        elif op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            items.append(_EMPTY)  # zero width: what it asserts is left out, never assumed
        elif op is c.SUBPATTERN:
            items.append(_analyse(av[3]))
        elif op is c.ATOMIC_GROUP:
            items.append(_analyse(av))
        elif op is c.BRANCH:
            items.append(_branch([_analyse(alt) for alt in av[1]]))
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            items.append(_repeat(av[0], av[1], _analyse(av[2])))
        else:
            items.append(_UNKNOWN)
    return _sequence(items)


def _parse(source: str) -> object:
    return re._parser.parse(source, re.IGNORECASE)  # type: ignore[attr-defined]


class Needs:
    """Which of several patterns a line holds the literals for, found in one pass over it.

    Each key stands for patterns that may match anywhere in a line (``search``, or a
    whole-line pattern whose start is not known); a line without any literal one of them needs
    cannot match them. One regex (a trie of all literals) finds the literals the line holds.
    """

    def __init__(self, patterns: Sequence[tuple[int, Sequence[str]]]) -> None:
        always: set[int] = set()
        digit: set[int] = set()
        by_literal: dict[str, set[int]] = {}
        by_start: dict[str, set[int]] = {}
        for key, sources in patterns:
            for source in sources:
                start = _anchored_opening(source)
                if start is not None:
                    for literal in start:
                        by_start.setdefault(literal, set()).add(key)
                    continue
                needs = _needs(source)
                if needs is None:
                    always.add(key)
                    continue
                for literal in needs:
                    if literal == DIGIT:
                        digit.add(key)
                    else:
                        by_literal.setdefault(literal, set()).add(key)
        self._always = frozenset(always)
        self._digit = frozenset(digit)
        self._keys = _keys_by_longest(by_literal)
        self._search = re.compile(_trie(by_literal)).search if by_literal else None
        self._start_keys = _keys_by_longest(by_start)
        self._start = re.compile(_trie(by_start)).match if by_start else None

    def keys(self, folded: str) -> frozenset[int]:
        """Keys whose patterns may match the line ``folded`` (see :func:`fold`)."""
        found = self._always
        if self._search is not None:
            at = 0
            # Why from one past each find: literals may overlap ("cookie policy", "policy").
            while (hit := self._search(folded, at)) is not None:
                found = found | self._keys[hit.group()]
                at = hit.start() + 1
        if self._digit and _HAS_DIGIT.search(folded) is not None:
            found = found | self._digit
        if self._start is not None and (hit := self._start(folded)) is not None:
            found = found | self._start_keys[hit.group()]
        return found


@lru_cache(maxsize=1024)
def _needs(source: str) -> Strings | None:
    return _analyse(_parse(source)).needs


@lru_cache(maxsize=1024)
def _anchored_opening(source: str) -> Strings | None:
    """What a pattern anchored at the start of the text (``^...``) starts with, if known."""
    c = re._constants  # type: ignore[attr-defined]
    parsed = _parse(source)
    items = list(parsed)  # type: ignore[call-overload]
    if not items or items[0] != (c.AT, c.AT_BEGINNING) or parsed.state.flags & re.MULTILINE:  # type: ignore[attr-defined]
        return None
    info = _analyse(items[1:])
    return info.first if info.first and not info.nullable else None


def _keys_by_longest(by_literal: dict[str, set[int]]) -> dict[str, frozenset[int]]:
    """For each literal, the keys of all literals it starts with: where several literals start at
    one place, the trie's regex finds the longest, and all the others are its prefixes."""
    return {
        literal: frozenset(
            key for size in range(1, len(literal) + 1) for key in by_literal.get(literal[:size], ())
        )
        for literal in by_literal
    }


def opening(source: str) -> Strings | None:
    """What every match of a whole-line pattern starts with (folded); None when not known."""
    info = _analyse(_parse(source))
    return info.first if info.first and not info.nullable else None


class Openings:
    """Which of several whole-line patterns a line may start like, found in one regex match.

    Each pattern is known by the literals its matches start with (:func:`opening`). One regex
    (a trie of all of them) finds the longest literal the line starts with; every literal the
    line starts with is a prefix of that one, so the patterns it may match are looked up.
    """

    def __init__(self, openings: Sequence[tuple[int, Strings]], decoration: str) -> None:
        by_prefix: dict[str, set[int]] = {}
        for key, prefixes in openings:
            for prefix in prefixes:
                by_prefix.setdefault(prefix, set()).add(key)
        self._keys = _keys_by_longest(by_prefix)
        self._match = re.compile(_trie(by_prefix)).match if by_prefix else None
        # Why: a pattern's own text starts anywhere in the decoration run before it.
        self._decoration = re.compile(decoration).match if _is_class_run(decoration) else None

    @staticmethod
    def known_start(decoration: str) -> bool:
        """Is where a pattern's own text starts known, with ``decoration`` around it?"""
        return _is_class_run(decoration)

    def keys(self, folded: str) -> frozenset[int]:
        """Keys of the patterns the line ``folded`` may match (others cannot match it)."""
        if self._match is None or self._decoration is None:
            return frozenset()
        decorated = self._decoration(folded)
        run = decorated.end() if decorated is not None else 0
        found = self._match(folded)
        keys = self._keys[found.group()] if found is not None else frozenset()
        for at in range(1, run + 1):
            found = self._match(folded, at)
            if found is not None:
                keys = keys | self._keys[found.group()]
        return keys


def _trie(literals: Iterable[str]) -> str:
    """A regex matching any of ``literals``, the longest one where several start at one place.

    Why a trie: the regex engine tries the branches of an alternation one after the other.
    """
    root: dict[str, dict] = {}  # type: ignore[type-arg]
    for literal in literals:
        node = root
        for char in literal:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict[str, dict]) -> str:  # type: ignore[type-arg]
        branches = [re.escape(char) + emit(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" in node:
            return body + "?" if len(branches) == 1 and len(body) == 1 else f"(?:{body})?"
        return body

    return emit(root)


def _is_class_run(decoration: str) -> bool:
    """Is ``decoration`` ``[...]*``: then a match's text starts anywhere in its leading run."""
    c = re._constants  # type: ignore[attr-defined]
    parsed = list(_parse(decoration))  # type: ignore[call-overload]
    if len(parsed) != 1:
        return False
    op, av = parsed[0]
    return bool(
        op is c.MAX_REPEAT
        and av[0] == 0
        and av[1] is c.MAXREPEAT
        and len(av[2]) == 1
        and av[2][0][0] is c.IN
    )
