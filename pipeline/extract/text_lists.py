"""Lists inside the article that the line model cut out, put back whole.

Key points, product specs and match statistics are short lines, the line model's weakest kind:
it keeps the longer items of a list and drops the short ones, or drops a list and keeps the
paragraphs around it. A list belongs to the article or not as a whole, and inside the article
(article text above and below it) it is the article's own. A list the model cut out is put back
only from lines no rule named (its "article inset"): a teaser list under "Related articles"
stays furniture. A bulleted list most of whose items the model kept is kept whole.
"""

from __future__ import annotations

import re
import string
from collections.abc import Collection, Iterable, Sequence

from pipeline.extract.furniture import Line
from pipeline.extract.line_features import DATE, TIME

ARTICLE_INSET = "article inset"  # furniture no rule names, inside the article
_BULLETS = frozenset("•·-–—*►▪●■▶✓✔")
# A list item's lead: a bullet or a number ("1.", "2)") and a space.
_ITEM = re.compile(
    "(?:[" + "".join(re.escape(c) for c in sorted(_BULLETS)) + r"]|\d{1,2}[.)])\s+\S"
)
_ITEM_FIRST = _BULLETS | frozenset(string.digits)  # a cheap test before the pattern
# A fact as lists print them: a label of a few words, a colon, a short value ("Battery: 180
# minutes", "Umsatz 2025: 4,1 Milliarden Euro", "Possession: 48% - 52%").
_FACT = re.compile(r"([^\W\d_][^:|?]{0,39}):\s+([^|?]+)")
_DIGIT = re.compile(r"\d")
FACT_LABEL_WORDS = 4
# Why so few words, or a number: a kicker and a headline ("Iran war: US loses one of its
# spy planes") is a teaser of another story; a fact's value is a figure or a few words.
FACT_VALUE_WORDS = 3
FACT_NUMBER_VALUE_WORDS = 6
HEADING_MAX_WORDS = 6  # a list's heading: "Key findings", "Das ändert sich", "Match stats"
NAMED_INSETS = 2  # named furniture lines ("Advertisement", "Read also: ...") looked past


def restore_lists(
    lines: list[Line],
    kinds: list[str | None],
    named: Sequence[bool],
    facts: Collection[int],
) -> set[int]:
    """Put back the lists the model cut out inside the article (see the module's doc); the
    indices of the lines put back. ``named`` says which lines a rule named (the model's own
    verdicts are "article inset", "page header", ...): a named inset such as "Read also: ..."
    between a list and the next paragraph does not end the article. ``facts`` are the lines
    of the page's lists of facts (``fact_list_lines``).
    """
    furniture = [i for i, kind in enumerate(kinds) if kind is not None]
    _restore_bulleted(lines, kinds, named)
    _restore_list_runs(lines, kinds, named)
    _restore_fact_lists(lines, kinds, named, facts)
    return {i for i in furniture if kinds[i] is None}


def fact_list_lines(lines: Sequence[Line]) -> set[int]:
    """Lines of every run of two or more facts where not every fact is a date.

    Why: "Completion: 2029" in a list of figures is the article's, whatever the date rules
    say of a short line with a year; "Published: 3 May" over "Updated: 4 May" stays a stamp.
    """
    # Why the word count first: it is a number; a paragraph's text is long to search.
    most = FACT_LABEL_WORDS + FACT_NUMBER_VALUE_WORDS
    facts = [
        i
        for i, line in enumerate(lines)
        if line.words <= most and ": " in line.norm and _is_fact(line)
    ]
    found: set[int] = set()
    for run in _consecutive(facts):
        dated = (DATE.search(lines[k].norm) or TIME.search(lines[k].norm) for k in run)
        if len(run) >= 2 and not all(dated):
            found.update(run)
    return found


def list_items(lines: Sequence[Line], among: Iterable[int]) -> set[int]:
    """The lines of ``among`` led by a bullet or a number ("- ", "• ", "1. ")."""
    return {i for i in among if lines[i].norm[:1] in _ITEM_FIRST and _ITEM.match(lines[i].norm)}


def _restore_bulleted(lines: list[Line], kinds: list[str | None], named: Sequence[bool]) -> None:
    """A bulleted list the model cut out between two article lines belongs to the article, and
    so does the line over it that heads it ("Key figures:", "What changes")."""
    for i, j in _inset_runs(kinds):
        if not _enclosed(kinds, named, i, j):
            continue
        bulleted = [k for k in range(i, j) if lines[k].text[:1] in _BULLETS]
        for run in _consecutive(bulleted):
            if len(run) < 2:
                continue
            k, end = run[0], run[-1] + 1
            heading = k > i and _heads_list(lines[k - 1], kinds, named, k - 1, k - 1 == i)
            start = k - 1 if heading else k
            kinds[start:end] = [None] * (end - start)


def _restore_list_runs(lines: list[Line], kinds: list[str | None], named: Sequence[bool]) -> None:
    """A run of list items inside the article, most of them kept, is kept whole, and so is its
    heading.

    Only runs between the first and the last article line count: menus around the article are
    lists too.
    """
    if None not in kinds:
        return
    first, last = kinds.index(None), len(kinds) - 1 - kinds[::-1].index(None)
    items = sorted(list_items(lines, range(first, last + 1)))
    for run in _consecutive(items):
        if len(run) < 2 or 2 * sum(1 for k in run if kinds[k] is None) <= len(run):
            continue
        above = run[0] - 1
        if (
            above >= 0
            and kinds[above] == ARTICLE_INSET
            and _heads_list(lines[above], kinds, named, above)
        ):
            kinds[above] = None
        for k in run:
            kinds[k] = None


def _restore_fact_lists(
    lines: list[Line], kinds: list[str | None], named: Sequence[bool], facts: Collection[int]
) -> None:
    """A list of "label: value" facts inside the article, with its heading, is the article's,
    whichever of its lines the model cut out.

    Why a shape and not bullets: specs and statistics are often printed one fact per line with
    no bullet at all. The list and its heading must stand between two article lines, and no
    rule may have named any of its facts ("Read more: ..." never reaches here).
    """
    for run in _consecutive(sorted(facts)):
        start, end = run[0], run[-1] + 1
        if any(kinds[k] not in (None, ARTICLE_INSET) for k in run):
            continue
        if start > 0 and kinds[start - 1] == ARTICLE_INSET:
            if not _heads_list(lines[start - 1], kinds, named, start - 1):
                continue
            start -= 1
        if _enclosed(kinds, named, start, end):
            kinds[start:end] = [None] * (end - start)


def _is_fact(line: Line) -> bool:
    if line.words > FACT_LABEL_WORDS + FACT_NUMBER_VALUE_WORDS or ": " not in line.norm:
        return False
    found = _FACT.fullmatch(line.norm)
    if found is None:
        return False
    label, value = found.group(1), found.group(2)
    if label.count(" ") + 1 > FACT_LABEL_WORDS:
        return False
    words = value.count(" ") + 1
    limit = FACT_NUMBER_VALUE_WORDS if _DIGIT.search(value) else FACT_VALUE_WORDS
    return words <= limit


def _heads_list(
    line: Line, kinds: list[str | None], named: Sequence[bool], index: int, first: bool = True
) -> bool:
    """A list's heading: ends with a colon ("Key figures:"), or a few words that are not a
    sentence, ``first`` in its run and under an article line ("Match stats")."""
    if line.norm.endswith(":"):
        return True
    if not first or line.words > HEADING_MAX_WORDS or line.sentence:
        return False
    above = _past_named(kinds, named, index - 1, -1)
    return above >= 0 and kinds[above] is None


def _inset_runs(kinds: list[str | None]) -> list[tuple[int, int]]:
    """[start, end) of every run of "article inset" lines."""
    insets = [i for i, kind in enumerate(kinds) if kind == ARTICLE_INSET]
    return [(run[0], run[-1] + 1) for run in _consecutive(insets)]


def _consecutive(indices: list[int]) -> list[list[int]]:
    """Ascending ``indices`` grouped into runs of consecutive numbers."""
    runs: list[list[int]] = []
    for i in indices:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def _enclosed(kinds: list[str | None], named: Sequence[bool], start: int, end: int) -> bool:
    """Article text above and below [start, end), past at most NAMED_INSETS named lines."""
    above = _past_named(kinds, named, start - 1, -1)
    below = _past_named(kinds, named, end, 1)
    return above >= 0 and below < len(kinds) and kinds[above] is None and kinds[below] is None


def _past_named(kinds: list[str | None], named: Sequence[bool], at: int, step: int) -> int:
    """The first index from ``at`` in direction ``step`` that is not a named furniture line,
    looking past NAMED_INSETS of them at most."""
    for _ in range(NAMED_INSETS):
        if not 0 <= at < len(kinds) or kinds[at] is None or not named[at]:
            break
        at += step
    return at
