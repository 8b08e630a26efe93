"""The headline of an HTML page as the page prints it, chosen by agreement between its sources.

A page names its article in several places: the heading printed above the article (an ``<h1>``, or
an ``<h2>`` under a kicker), ``og:title``, ``twitter:title``, the JSON-LD ``headline``, a copy of
the headline in the breadcrumb and the ``<title>`` (usually with the site name). Each source is
sometimes wrong on its own: the ``<title>`` carries the site name, ``og:title`` a kicker or a
shorter social-media wording, the printed heading a kicker in a ``<span>``, a breadcrumb a stale
headline. So every printed heading (and each of its parts) and every metadata string is a
candidate, and each source votes for the candidates it agrees with: fully when equal (ignoring
punctuation and case), in proportion to its length when the candidate is one of its
separator-delimited parts (site name or kicker cut off). A candidate printed as a heading in
the page body gets a bonus, so that the printed wording wins over metadata that only some
sources share.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, replace

from lxml.html import HtmlElement

from pipeline.extract.json_ld import json_ld_nodes

# Separators between a headline and a site name, section or kicker, in titles and og:title.
_SEPARATOR = re.compile(r"\s+[|\-–—·•»/:]\s+|\s*[|•»]\s*|:\s+|\s+[-–—]\s*")
# Elements whose headings are navigation or other stories, not the page's headline.
_OFF_ARTICLE = ("nav", "footer", "aside", "a", "button", "form", "menu", "li", "figure")
_BREADCRUMB = re.compile(r"breadcrumb", re.I)
# Only explicit screen-reader classes: "hidden" alone is mostly a responsive-layout switch.
_HIDDEN_CLASS = re.compile(r"sr-only|visually-hidden|screen-reader|offscreen", re.I)
_HEADINGS = "//h1|//h2|//h3"
_NOT_ALNUM = re.compile(r"[\W_]+")
_ASCII_NOT_ALNUM = bytes(code for code in range(128) if not chr(code).isalnum())

EXACT = 1.0  # a source equal to the candidate
REPEAT = 0.25  # a metadata wording repeated in another field: often one CMS field copied
TITLE_WHOLE = 0.5  # a <title> with separators, taken whole: it mostly ends in the site name
BREADCRUMB = 0.5  # an <h1> in the breadcrumb: a copy of some headline field
PART = 1.0  # the candidate is a separator-delimited part of the source, times its share
PRINTED_H1 = 2.0  # bonus: printed as the page's main heading
PRINTED_HEADING = 1.5  # bonus: printed as another heading, or a part of one
MIN_CHARS = 8  # shorter strings are section names, not headlines


@dataclass
class _Candidate:
    text: str
    support: float = 0.0
    exact_votes: int = 0  # sources equal to this wording, punctuation included
    printed: float = 0.0
    single_block: bool = False  # printed as one text run: its punctuation is the page's


def norm(text: str) -> str:
    # str.split() splits at U+00A0 (no-break space) as at any other whitespace.
    return " ".join(text.split())


def loose(text: str) -> str:
    """Letters and digits only, case-folded: the same headline with other quotes or kickers."""
    # Whitespace is never a letter or digit: str.split drops it, bytes.translate the ASCII
    # punctuation (UTF-8 bytes of other characters are all >= 0x80), both at C speed, and the
    # regex is left the other characters that are not letters or digits, if any (an article's
    # text went from about a thousand regex matches per page to a few).
    folded = "".join(unicodedata.normalize("NFKC", text).casefold().split())
    kept = folded.encode("utf-8", "surrogatepass").translate(None, _ASCII_NOT_ALNUM)
    letters = kept.decode("utf-8", "surrogatepass")
    return letters if letters.isascii() else _NOT_ALNUM.sub("", letters)


def _parts(source: str) -> Iterator[str]:
    """Separator-delimited runs of ``source`` shorter than the whole (prefixes and suffixes)."""
    pieces = _SEPARATOR.split(source)
    if len(pieces) < 2:
        return
    bounds = [m.span() for m in _SEPARATOR.finditer(source)]
    starts = [0] + [end for _, end in bounds]
    ends = [start for start, _ in bounds] + [len(source)]
    for i in range(len(starts)):
        for j in range(i, len(ends)):
            if (i, j) != (0, len(ends) - 1):
                yield source[starts[i] : ends[j]].strip()


def metadata_titles(tree: HtmlElement) -> list[tuple[str, str]]:
    """(field, text) of og:title, twitter:title, JSON-LD headlines and <title>, in that order."""
    found: list[tuple[str, str]] = []
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or "").strip().lower()
        if key in ("og:title", "twitter:title"):
            found.append((key, norm(meta.get("content") or "")))
    for script in tree.xpath('//script[contains(@type, "ld+json")]'):
        found += [("headline", norm(h)) for h in _jsonld_headlines(script.text or "")]
    title = tree.find(".//title")
    if title is not None:
        found.append(("title", norm(title.text_content())))
    return [(field, text) for field, text in found if len(text) >= MIN_CHARS]


@dataclass(frozen=True)
class _Source:
    """One place naming the article, and how much its word counts."""

    text: str
    weight: float  # its vote for a candidate equal to it
    parts: tuple[str, ...]  # the runs it is made of (cut at separators or element boundaries)
    whole_weight: float | None = None  # vote for the whole text, when less than ``weight``


def _jsonld_headlines(source: str) -> Iterator[str]:
    try:
        data = json.loads(source, strict=False)
    except ValueError:
        return
    for node in json_ld_nodes(data, nested=True):
        if isinstance(node.get("headline"), str):
            yield _unescape(node["headline"])


def _unescape(text: str) -> str:
    """JSON-LD headlines sometimes hold HTML entities (``&#8217;``) escaped twice."""
    from html import unescape

    return unescape(text) if "&" in text else text


def _is_hidden(element: HtmlElement) -> bool:
    return (
        element.get("aria-hidden") == "true"
        or element.get("hidden") is not None
        or bool(_HIDDEN_CLASS.search(element.get("class") or ""))
        or "display:none" in (element.get("style") or "").replace(" ", "")
    )


def _placement(heading: HtmlElement, ancestries: dict[HtmlElement, str | None]) -> str:
    """'article' (printed over the article), 'breadcrumb' (a copy in navigation) or 'off'.

    ``ancestries`` remembers what each ancestor seen so far says (headings share most of theirs).
    """
    parent = heading.getparent()
    verdict = None if parent is None else _ancestry(parent, ancestries)
    if verdict is not None:
        return verdict
    marks = " ".join(f"{k}={v}" for k, v in heading.attrib.items())
    if _BREADCRUMB.search(marks):
        return "breadcrumb"
    return "off" if _is_hidden(heading) else "article"


def _ancestry(element: HtmlElement, known: dict[HtmlElement, str | None]) -> str | None:
    """'breadcrumb' or 'off' when ``element`` or an ancestor is navigation or off the article
    (the nearest such decides), else None."""
    walked: list[HtmlElement] = []
    verdict: str | None = None
    node: HtmlElement | None = element
    while node is not None:
        if node in known:
            verdict = known[node]
            break
        walked.append(node)
        marks = f"{node.get('class') or ''} {node.get('id') or ''}"
        if _BREADCRUMB.search(marks) or node.tag == "nav":
            verdict = "breadcrumb"
            break
        if node.tag in _OFF_ARTICLE or _is_hidden(node):
            verdict = "off"
            break
        node = node.getparent()
    for seen in walked:
        known[seen] = verdict
    return verdict


def _text_parts(heading: HtmlElement) -> list[str]:
    """Texts of the heading's visible child elements: kicker and headline printed as two runs."""
    parts = []
    for child in heading:
        if isinstance(child.tag, str) and not _is_hidden(child):
            text = norm(child.text_content())
            if len(text) >= MIN_CHARS:
                parts.append(text)
    return parts


def choose_title(tree: HtmlElement, fallback: str | None = None) -> str | None:
    """The page's headline; ``fallback`` (another extractor's guess) when no source agrees."""
    sources = _metadata_sources(metadata_titles(tree))
    candidates: dict[str, _Candidate] = {}

    def candidate(text: str) -> _Candidate:
        return candidates.setdefault(text, _Candidate(text))

    ancestries: dict[HtmlElement, str | None] = {}
    for heading in tree.xpath(_HEADINGS):
        parts = _text_parts(heading)
        text = norm(heading.text_content())
        if len(text) < MIN_CHARS or len(text) > 400:
            continue
        placement = _placement(heading, ancestries)
        if placement == "breadcrumb":
            if heading.tag == "h1":  # a copy of the headline: a vote, not a printed heading
                sources.append(_Source(text, BREADCRUMB, tuple(_parts(text))))
            continue
        if placement == "off":
            continue
        runs = tuple(part for part in parts if part != text)
        bonus = PRINTED_H1 if heading.tag == "h1" else PRINTED_HEADING
        whole = candidate(text)
        whole.printed = max(whole.printed, bonus)
        whole.single_block = whole.single_block or not runs
        if heading.tag == "h1":
            sources.append(_Source(text, EXACT, runs + tuple(_parts(text))))
        # A heading holding more than one run (kicker and headline) offers each run as a
        # headline of its own.
        for part in runs:
            piece = candidate(part)
            piece.printed = max(piece.printed, PRINTED_HEADING)
            piece.single_block = True
    sources = _with_shared_ends(sources)
    for source in sources:
        candidate(source.text)
        for part in source.parts:
            if len(part) >= MIN_CHARS:
                candidate(part)
    _vote(candidates, sources)
    supported = [c for c in candidates.values() if c.support > 0]
    if not supported:
        return fallback
    best = max(supported, key=lambda c: (c.support + c.printed, c.exact_votes, len(c.text)))
    return _wording(best, candidates.values())


def _with_shared_ends(sources: list[_Source]) -> list[_Source]:
    """Sources that begin or end with another source's whole text, cut off there by punctuation,
    count that text as one of their parts.

    A site name or section glued on with a separator no pattern knows (no space before the dash,
    a letter used as a bar) still leaves the headline agreeing with a field that states it alone.
    """
    texts = {source.text for source in sources}
    widened = []
    for source in sources:
        shared = tuple(
            text
            for text in texts
            if len(text) >= MIN_CHARS and text not in source.parts and _cut_off(source.text, text)
        )
        widened.append(replace(source, parts=source.parts + shared) if shared else source)
    return widened


def _cut_off(whole: str, end: str) -> bool:
    """``end`` begins or ends ``whole``, and the character next to it there is punctuation."""
    if len(end) >= len(whole):
        return False
    if whole.startswith(end):
        beside = whole[len(end)]
    elif whole.endswith(end):
        beside = whole[-len(end) - 1]
    else:
        return False
    return unicodedata.category(beside)[0] in "PS"


def _metadata_sources(titles: list[tuple[str, str]]) -> list[_Source]:
    """Metadata titles with their vote. og:title, twitter:title and <title> often hold one CMS
    field copied, so a wording repeated counts little more than once; a <title> with separators
    mostly carries the site name, so its whole text counts less than its parts."""
    seen: set[str] = set()
    sources = []
    for field, text in titles:
        parts = tuple(_parts(text))
        keys = {loose(text)} | {loose(part) for part in parts}
        weight = REPEAT if keys & seen else EXACT
        whole = TITLE_WHOLE * weight if field == "title" and parts else None
        sources.append(_Source(text, weight, parts, whole))
        seen.add(loose(text))
    return sources


def _vote(candidates: dict[str, _Candidate], sources: list[_Source]) -> None:
    by_loose: dict[str, list[_Candidate]] = {}
    for cand in candidates.values():
        by_loose.setdefault(loose(cand.text), []).append(cand)
    for source in sources:
        source_key = loose(source.text)
        for cand in by_loose.get(source_key, []):
            cand.support += source.weight if source.whole_weight is None else source.whole_weight
            cand.exact_votes += cand.text == source.text
        voted = {source_key}
        for part in source.parts:
            key = loose(part)
            if key and key not in voted:
                voted.add(key)
                # A site name or kicker is a short part; the headline is most of the source.
                share = len(key) / max(len(source_key), 1)
                for cand in by_loose.get(key, []):
                    cand.support += PART * share * source.weight
    # A wording printed in the page counts as printed for all its variants (other quotes).
    for group in by_loose.values():
        printed = max(c.printed for c in group)
        for cand in group:
            cand.printed = printed


def _wording(best: _Candidate, all_candidates: object) -> str:
    """Among equal headlines, the page's own wording when printed as one run of text; otherwise
    the wording most sources state (a kicker and headline printed as two runs lose their colon)."""
    key = loose(best.text)
    group = [c for c in all_candidates if loose(c.text) == key]  # type: ignore[attr-defined]
    single = [c for c in group if c.single_block]
    if single:
        return max(single, key=lambda c: c.exact_votes).text
    return max(group, key=lambda c: (c.exact_votes, c.printed)).text
