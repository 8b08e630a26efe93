"""The plain-text cleaner: page furniture out, headline found, article lines kept in order.

Input is text as scraped from a news page, one paragraph or widget per line. What counts as
furniture is data (``rules/furniture.json``) applied by :mod:`pipeline.extract.furniture`;
this module splits the input, finds the headline and builds the result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.extract import furniture
from pipeline.extract.furniture import Line, Rules
from pipeline.extract.model import ExtractedDocument, ExtractionError
from pipeline.extract.text_meta import byline_author, stated_published

SECTION_LABEL = "breadcrumb"
# Why: NUL and other C0 controls are never text and break databases and terminals downstream.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class CleanedText:
    title: str | None
    lines: tuple[str, ...]  # article lines in order, title excluded, stripped
    removed: tuple[tuple[str, str], ...]  # (line, furniture kind) in input order


def clean_plain_text(text: str) -> CleanedText:
    """Split ``text`` into headline, article lines and the furniture lines removed (with kind)."""
    if not isinstance(text, str):
        raise ExtractionError(f"plain text must be str, not {type(text).__name__}")
    rules = furniture.load_rules()
    lines = _split(text)
    kinds = _line_kinds(lines, rules)
    furniture.mark_captions(lines, kinds, rules)
    # Why protect it: a headline repeated lower down (share text, related list) is still the
    # headline on top; only its later copies are furniture.
    first = next((i for i, k in enumerate(kinds) if k is None), None)
    long_enough = first is not None and lines[first].words >= rules.limits["headline_min_words"]
    furniture.mark_repeats(lines, kinds, rules, protect=first if long_enough else None)
    title = _pick_title(lines, kinds, rules)
    furniture.mark_blocks(lines, kinds, rules, protect=title)
    furniture.mark_lists(lines, kinds, rules, start=0 if title is None else title + 1)
    furniture.mark_tail(lines, kinds, rules, protect=title)
    _rename_below_headline(kinds, rules, title)
    return CleanedText(
        title=lines[title].text if title is not None else None,
        lines=tuple(line.text for i, line in enumerate(lines) if kinds[i] is None and i != title),
        removed=tuple((line.text, k) for line, k in zip(lines, kinds, strict=True) if k),
    )


def text_document(text: str, *, encoding: str | None = None) -> ExtractedDocument:
    """ExtractedDocument(source_kind="text", ...) of a plain-text page.

    Raises ExtractionError("no article text ...") when nothing is left. The date line above a
    headline is the day the page was viewed, not a publication date; only an explicit
    "Published ..." stamp sets ``published``, and a "By ..." byline sets ``author``.
    """
    cleaned = clean_plain_text(text)
    if not cleaned.lines:
        raise ExtractionError(f"no article text: {_why_empty(cleaned)}")
    return ExtractedDocument(
        source_kind="text",
        text="\n".join(cleaned.lines),
        title=cleaned.title,
        author=byline_author(cleaned.removed),
        published=stated_published(cleaned.removed),
        encoding=encoding,
        removed=cleaned.removed,
    )


def _why_empty(cleaned: CleanedText) -> str:
    if cleaned.removed:
        return f"all {len(cleaned.removed)} non-blank lines are page furniture"
    return "the input is empty or blank"


def _line_kinds(lines: list[Line], rules: Rules) -> list[str | None]:
    # Why memoise: widgets repeat down a page, and the rules are the costly part.
    seen: dict[str, str | None] = {}
    kinds: list[str | None] = []
    for line in lines:
        if line.norm not in seen:
            seen[line.norm] = furniture.line_kind(line, rules)
        kinds.append(seen[line.norm])
    return kinds


def _split(text: str) -> list[Line]:
    """Non-blank lines; a blank line (also one of no-break spaces) starts a new block."""
    lines: list[Line] = []
    block = 0
    # Why splitlines: it knows CRLF, lone CR and the Unicode line separators.
    for raw in _CONTROL.sub(" ", text).splitlines():
        if raw.strip():
            lines.append(Line.make(raw, block))
        else:
            block += 1
    return lines


def _pick_title(lines: list[Line], kinds: list[str | None], rules: Rules) -> int | None:
    """The first line that is not furniture, when it reads like a headline.

    A one- or two-word line right above a headline is its section label ("Politics"). No title
    is taken when it would leave no article text.
    """
    candidates = [i for i, kind in enumerate(kinds) if kind is None]
    if len(candidates) >= 3:
        label, after = lines[candidates[0]], lines[candidates[1]]
        short = rules.limits["label_words"]
        if (
            label.words <= short
            and not label.sentence
            and after.words > short
            and _is_headline(after, rules)
        ):
            kinds[candidates[0]] = SECTION_LABEL
            candidates.pop(0)
    if len(candidates) < 2 or not _is_headline(lines[candidates[0]], rules):
        return None
    return candidates[0]


def _is_headline(line: Line, rules: Rules) -> bool:
    limits = rules.limits
    if line.words > limits["title_max_words"] or len(line.norm) > limits["title_max_chars"]:
        return False
    # Why: headlines may end with a full stop, but long full sentences are paragraphs.
    return not line.norm.endswith(":") and (not line.sentence or line.words <= 20)


def _rename_below_headline(kinds: list[str | None], rules: Rules, title: int | None) -> None:
    """A date above the headline is the site's date bar; below it, the article's timestamp."""
    start = title if title is not None else next((i for i, k in enumerate(kinds) if not k), None)
    if start is None:
        return
    for i in range(start + 1, len(kinds)):
        kind = kinds[i]
        rule = rules.rule_for(kind) if kind else None
        if rule is not None and rule.kind_after_title:
            kinds[i] = rule.kind_after_title
