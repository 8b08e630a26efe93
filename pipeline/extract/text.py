"""The plain-text cleaner: page furniture out, headline found, article lines kept in order.

Input is text as scraped from a news page, one paragraph or widget per line. What counts as
furniture is data (``rules/furniture.json``) applied by :mod:`pipeline.extract.furniture`;
this module splits the input, finds the headline and builds the result.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from pipeline.extract import furniture
from pipeline.extract.furniture import Line, Rules
from pipeline.extract.language import identify_language
from pipeline.extract.line_features import (
    DATE,
    TIME,
    FeatureCache,
    FloatArray,
    page_features,
)
from pipeline.extract.line_model import (
    Classified,
    LineModel,
    classify,
    headline_alone,
    headline_wrappers,
    joined_headline,
    load_model,
)
from pipeline.extract.model import ExtractedDocument, ExtractionError
from pipeline.extract.text_lists import ARTICLE_INSET, restore_lists
from pipeline.extract.text_meta import byline_author, stated_published

SECTION_LABEL = "breadcrumb"
PAGE_HEADER = "page header"
PAGE_FOOTER = "page footer"
HEADLINE_COPY = "headline copy"  # the headline wrapped in a share text or title bar
UNDER_HEADLINE = "byline or stamp"  # a byline or date line right under the headline
# Chosen on the cross-validated scores of the training part (never on the held-out part):
# above the headline only a line the model is this sure of stays article; under it, a
# stamp-shaped line within UNDER_WINDOW lines (or before the first article line) goes below
# UNDER_DROP_BELOW.
ABOVE_KEEP = 0.5
UNDER_WINDOW = 5
UNDER_DROP_BELOW = 0.3
_STAMP_WORDS = 8  # a date line: "06. 01. 2026, 14:59 Uhr", "4 Febbraio 2025 - 14:41"
_BYLINE_WORDS = 5  # a byline: "Von Jan Kixmüller", "AFP, MANILA", "Chuck Ross"
# How far below the last article line a closing credit is looked for: a "Read also" inset or a
# sentence the model cut out may stand between them.
CREDIT_WITHIN = 3
# Why module-level: features of a line are the same on every page it occurs on (site widgets).
_FEATURES = FeatureCache()
# Why: NUL and other C0 controls are never text and break databases and terminals downstream.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class CleanedText:
    title: str | None
    lines: tuple[str, ...]  # article lines in order, title excluded, stripped
    removed: tuple[tuple[str, str], ...]  # (line, furniture kind) in input order


def clean_plain_text(text: str, model: LineModel | None = None) -> CleanedText:
    """Split ``text`` into headline, article lines and the furniture lines removed (with kind).

    The rules name the furniture they recognise; the line model (trained on labelled pages, see
    :mod:`pipeline.extract.line_model`) then decides every line in its context: it removes the
    furniture no rule names (menus, teaser lists, consent boxes), keeps article lines a rule
    would have taken for furniture, and finds the headline above where the article body starts.
    """
    lines, kinds = rule_kinds(text)
    if not lines:
        return CleanedText(title=None, lines=(), removed=())
    model = model or load_model()
    features = page_features(lines, kinds, _FEATURES)
    return decide(lines, kinds, classify(lines, kinds, features, model), model)


def decide(
    lines: list[Line], kinds: list[str | None], classified: Classified, model: LineModel
) -> CleanedText:
    """The cleaned page from the rules' kinds and the model's verdict on every line."""
    rule_verdict = kinds
    kinds = list(kinds)
    drop_below, keep_above = model.thresholds(classified.light)
    span = _article_span(classified.probabilities, drop_below)
    title = classified.title
    for i, p in enumerate(classified.probabilities.tolist()):
        if kinds[i] is None and p < drop_below:
            kinds[i] = _unnamed_kind(i, span)
        elif kinds[i] is not None and p >= keep_above:
            kinds[i] = None
    # Lines put back as the article's own, and its lists of facts: no later pass takes them
    # for a byline or a stamp.
    named = [kind is not None for kind in rule_verdict]
    restored = restore_lists(lines, kinds, named, classified.facts) | _restore_closing_credit(
        lines, kinds, furniture.load_rules()
    )
    restored |= classified.facts
    if title is not None:
        for i in headline_wrappers(lines, title):
            kinds[i] = kinds[i] or HEADLINE_COPY
        _mark_around_headline(lines, kinds, classified.probabilities, title, restored)
    if all(k is not None for k in kinds) and any(k is None for k in rule_verdict):
        # Why: a page the model would empty is one unlike any it learned from (a stub, a
        # single paragraph); the rules' verdict loses less there.
        kinds = list(rule_verdict)
    if title is not None and not any(k is None for i, k in enumerate(kinds) if i != title):
        title = None  # Why: a headline with no article under it is not a headline.
    headline = {title, classified.kicker} if title is not None else set()
    return CleanedText(
        title=_title_text(lines, title, classified.kicker),
        lines=tuple(
            line.text for i, line in enumerate(lines) if kinds[i] is None and i not in headline
        ),
        removed=tuple(
            (line.text, k)
            for i, (line, k) in enumerate(zip(lines, kinds, strict=True))
            if k and i not in headline
        ),
    )


def _title_text(lines: list[Line], title: int | None, kicker: int | None) -> str | None:
    if title is None:
        return None
    if kicker is None:
        # Why anywhere: the page may print the headline alone far above the body (its top bar)
        # and only wrapped near it ("<headline> Back to video"); the wording is the lone copy's,
        # the place (what stands above the headline is furniture) the wrapped one's.
        return lines[headline_alone(lines, range(len(lines)), title)].text
    return joined_headline(lines[kicker].norm, lines[title].norm)


def rule_kinds(text: str) -> tuple[list[Line], list[str | None]]:
    """The non-blank lines of ``text`` and the furniture kind the rules give each (or None)."""
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
    return lines, kinds


def _article_span(probabilities: FloatArray, drop_below: float) -> tuple[int, int]:
    article = [i for i, p in enumerate(probabilities.tolist()) if p >= drop_below]
    return (article[0], article[-1]) if article else (len(probabilities), -1)


def _mark_around_headline(
    lines: list[Line],
    kinds: list[str | None],
    probabilities: FloatArray,
    title: int,
    restored: Collection[int] = (),
) -> None:
    """Lines above the headline, and bylines and date lines right under it, are furniture.

    Why: an article starts at its headline; what stands above it is the page's (a section
    name, a date bar, a stamp), unless the model is sure it is article (a headline picked too
    low). Under the headline, a byline or a date line the rules do not know (other languages,
    bare names) is scored low but above the model's threshold of a lightly furnished page,
    where every unsure line is kept. Lines put back as the article's own (``restored``: its
    lists, its closing credit) are not stamps, however short and dated ("Revenue 2025: 4.1
    billion", "Reporting by Jane Doe").
    """
    p = probabilities.tolist()
    for i in range(title):
        if kinds[i] is None and p[i] < ABOVE_KEEP:
            kinds[i] = PAGE_HEADER
    for i in range(title + 1, len(lines)):
        if p[i] >= 0.5 and i > title + UNDER_WINDOW:
            break  # the body has started
        if i in restored:
            continue
        if kinds[i] is None and p[i] < UNDER_DROP_BELOW and _stamp_like(lines[i]):
            kinds[i] = UNDER_HEADLINE


def _stamp_like(line: Line) -> bool:
    """A short line with a date or a time, or a few capitalised words (a byline's names)."""
    text = line.norm
    if line.words <= _STAMP_WORDS and (DATE.search(text) or TIME.search(text)):
        return True
    # Why two words at least: a byline names a person ("Chuck Ross"); one capitalised word
    # under a headline is a heading ("Specifications") or a dateline the article starts with.
    if not 2 <= line.words <= _BYLINE_WORDS or line.sentence or text.endswith(":"):
        return False
    tokens = text.split()
    return 2 * sum(1 for token in tokens if token[:1].isupper()) > len(tokens)


def _restore_closing_credit(lines: list[Line], kinds: list[str | None], rules: Rules) -> set[int]:
    """The wire's "(Reporting by ...; Editing by ...)" right below the text closes the article,
    and a sentence the model cut out between the text and it is the article's last.

    Why the sentence: a credit ends the article, so a line above it that no rule names and
    that reads as a sentence ("Rovers move up to fifth in the table.") is not page furniture.
    Returns the indices of the lines put back.
    """
    kept = [i for i, kind in enumerate(kinds) if kind is None]
    if not kept:
        return set()
    for i in range(kept[-1] + 1, min(len(lines), kept[-1] + 1 + CREDIT_WITHIN)):
        if rules.closing_credit.fullmatch(lines[i].norm):
            restored = {i}
            restored.update(
                k
                for k in range(kept[-1] + 1, i)
                if kinds[k] in (PAGE_FOOTER, ARTICLE_INSET) and lines[k].sentence
            )
            for k in restored:
                kinds[k] = None
            return restored
    return set()


def _unnamed_kind(index: int, span: tuple[int, int]) -> str:
    """Furniture no rule names, called after where it stands: above, inside or below the article."""
    if index < span[0]:
        return PAGE_HEADER
    return PAGE_FOOTER if index > span[1] else ARTICLE_INSET


def text_document(text: str, *, encoding: str | None = None) -> ExtractedDocument:
    """ExtractedDocument(source_kind="text", ...) of a plain-text page.

    Raises ExtractionError("no article text ...") when nothing is left. The date line above a
    headline is the day the page was viewed, not a publication date; only an explicit
    "Published ..." stamp sets ``published``, and a "By ..." byline sets ``author``. The
    language is identified from the article text (pipeline.extract.language).
    """
    cleaned = clean_plain_text(text)
    if not cleaned.lines:
        raise ExtractionError(f"no article text: {_why_empty(cleaned)}")
    article = "\n".join(cleaned.lines)
    language = identify_language(article)
    return ExtractedDocument(
        source_kind="text",
        text=article,
        title=cleaned.title,
        author=byline_author(cleaned.removed),
        published=stated_published(cleaned.removed, language),
        language=language,
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
