"""Article lines trafilatura leaves out, recovered from the page's own block structure.

trafilatura scores nodes one by one and drops some that belong to the article: the standfirst
printed under the headline (it sits in the article header, away from the body), short
subheadings, list items, paragraphs in containers whose class it takes for a paywall or teaser.
This second pass is cheap: one walk over the parsed page (trafilatura prunes a copy), records
every text block with its ancestors; after extraction, the blocks trafilatura kept locate the
article body (the deepest element holding most of them). Blocks inside that body which
trafilatura dropped come back when they are not navigation, figures, link lists or page
furniture; and the standfirst comes back when it is printed between the headline and the body
and the page's description agrees with it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from lxml.html import HtmlElement

from pipeline.extract.titles import loose, norm

# Block-level elements whose own text is a line of the page.
_INLINE = frozenset(
    {"a", "abbr", "b", "bdi", "bdo", "br", "cite", "code", "em", "font", "i", "kbd", "mark", "q",
     "s", "small", "span", "strong", "sub", "sup", "time", "u", "var", "wbr", "label", "data"}
)  # fmt: skip
_SKIP = frozenset(
    {"script", "style", "noscript", "template", "svg", "math", "head", "title", "meta", "link",
     "button", "select", "option", "textarea", "input", "iframe", "object"}
)  # fmt: skip
# Containers whose text is never article text, whatever their place.
_OFF_TAGS = frozenset(
    {"nav", "footer", "aside", "figure", "figcaption", "form", "menu", "dialog", "a"}
)
# Class and id words of page furniture inside article containers (kinds, in English as most
# markup is): sharing, related stories, newsletters, ads, bylines, captions, tags, comments.
_FURNITURE_WORDS = (
    r"share|social|related|recommend|newsletter|subscri|promo|advert|\bad\b|\bads\b|[-_]ad\b|"
    r"\bad[-_]|sponsor|byline|author|caption|credit|\btags?\b|keyword|comment|breadcrumb|"
    r"cookie|consent|banner|toolbar|meta[-_]?data|timestamp|\bdate\b|more[-_]?(stories|news)|"
    r"read[-_]?more|also[-_]?read|most[-_]?(read|popular)|trending|widget|sidebar|footer|"
    r"teaser[-_]?(list|box|group)|embed|video|audio|player|gallery|slider|carousel|disclaimer"
)
# Class and id words of the standfirst printed between headline and body.
_LEAD_WORDS = (
    r"lead(?!ing|er)|intro|standfirst|summary|excerpt|subtitle|subhead|epigraph|synopsis|preface|"
    r"teaser|deck|\bdek\b|abstract|description|kicker-text|header[-_]?text"
)
# Why twice: on ASCII marks (nearly all) a lower-cased string searched case-sensitively answers
# as the case-insensitive search does, three times faster; the words above are lower case.
_FURNITURE_MARK, _LEAD_MARK = (re.compile(w, re.I) for w in (_FURNITURE_WORDS, _LEAD_WORDS))
_FURNITURE_ASCII, _LEAD_ASCII = (re.compile(w) for w in (_FURNITURE_WORDS, _LEAD_WORDS))
_LIST_ITEMS = frozenset({"li", "dt", "dd"})
_HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4"})
_SENTENCE_END = re.compile(r"[.!?…:;»«\"“”'’)]\s*$")
MIN_BODY_WORDS = 5  # blocks that locate the body: real paragraphs, not stray labels
MIN_LEAD_WORDS = 8
MIN_PROSE_WORDS = 12  # a standfirst without description or mark: prose right under the headline
MAX_LINK_SHARE = 0.5
BODY_SHARE = 0.7  # the body is the deepest element holding this share of the kept paragraphs


@dataclass(slots=True)
class Block:
    """One line of the page as printed: a block element's text and where it sits."""

    order: int
    text: str
    tag: str
    path: tuple[int, ...]  # order numbers of its ancestors, root first
    # Depth of the deepest element around it (itself included) that is navigation, a figure, a
    # form or marked as furniture; -1 when none. Marks above the article body do not count, so
    # the caller compares this with the body's depth.
    off_depth: int
    lead_depth: int  # the same for standfirst marks
    link_share: float  # share of its characters inside links
    # (depth, tag and class) of the element holding its run of text (for list items, the
    # list's parent): article bodies split by ad slots repeat the same container.
    flow_key: tuple[int, str]

    def off_below(self, depth: int) -> bool:
        return self.off_depth > depth

    @property
    def words(self) -> int:
        return len(self.text.split())


def page_blocks(tree: HtmlElement) -> list[Block]:
    """Every text block of the whole page in document order (trafilatura prunes a copy)."""
    places = _Places()
    blocks: list[Block] = []
    seen: set[HtmlElement] = set()
    for order, element in _holding_text(tree):
        block = element
        while block.tag in _INLINE and (parent := block.getparent()) is not None:
            block = parent
        if block in seen or not isinstance(block.tag, str) or block.tag in _SKIP:
            continue
        seen.add(block)
        text = norm(block.text_content())
        if not text:
            continue
        place = places.of(block)
        if block.tag == "a":
            link_chars = len(text)
        else:
            link_chars = sum(len(norm(a.text_content())) for a in block.iter("a"))
        blocks.append(
            Block(
                order=order,
                text=text,
                tag=block.tag,
                path=place.path,
                off_depth=place.off_depth,
                lead_depth=place.lead_depth,
                link_share=min(link_chars / len(text), 1.0),
                flow_key=places.flow_key(block),
            )
        )
    return blocks


def _holding_text(tree: HtmlElement) -> list[tuple[int, HtmlElement]]:
    """(document position, element) of the elements with text of their own, in page order.

    A tail is text of the parent, so the parent holds it; one pass over the tree finds both.
    """
    position: dict[HtmlElement, int] = {}
    found: dict[HtmlElement, int] = {}
    for index, element in enumerate(tree.iter()):
        position[element] = index
        # Each lxml .text or .tail read builds a new string: read once.
        text = element.text
        if text and not text.isspace() and isinstance(element.tag, str):
            found[element] = index
        tail = element.tail
        if tail and not tail.isspace():
            parent = element.getparent()
            if parent is not None and parent not in found:
                found[parent] = position[parent]
    return sorted(((index, element) for element, index in found.items()), key=lambda p: p[0])


@dataclass(slots=True)
class _Place:
    number: int  # identity of the element within this walk
    path: tuple[int, ...]  # numbers of its ancestors, root first
    off_depth: int
    lead_depth: int
    signature: str


@lru_cache(maxsize=4096)
def _mark_kinds(marks: str) -> tuple[bool, bool]:
    """(furniture, standfirst) for a class and id string; pages repeat a few hundred of them."""
    if not marks:
        return False, False
    if marks.isascii():
        lowered = marks.lower()
        return bool(_FURNITURE_ASCII.search(lowered)), bool(_LEAD_ASCII.search(lowered))
    return bool(_FURNITURE_MARK.search(marks)), bool(_LEAD_MARK.search(marks))


class _Places:
    """Where elements sit, computed once per element from its parent's place."""

    def __init__(self) -> None:
        self._known: dict[HtmlElement, _Place] = {}

    def of(self, element: HtmlElement) -> _Place:
        known = self._known.get(element)
        if known is not None:
            return known
        parent = element.getparent()
        number = len(self._known)
        tag = element.tag if isinstance(element.tag, str) else ""
        classes = " ".join((element.get("class") or "").split())
        furniture_mark, lead = _mark_kinds(f"{classes} {element.get('id') or ''}".strip())
        off = (
            furniture_mark
            or tag in _OFF_TAGS
            or tag in _SKIP
            or not tag
            or element.get("aria-hidden") == "true"
            or element.get("hidden") is not None
        )
        if parent is None:
            path: tuple[int, ...] = ()
            off_depth = lead_depth = -1
        else:
            above = self.of(parent)
            path = (*above.path, above.number)
            off_depth, lead_depth = above.off_depth, above.lead_depth
        depth = len(path)
        place = _Place(
            number=number,
            path=path,
            off_depth=depth if off else off_depth,
            lead_depth=depth if lead else lead_depth,
            # Chunks of one body share tag and class; an element without class is only itself.
            signature=f"{tag}.{classes}" if classes else f"#{number}",
        )
        self._known[element] = place
        return place

    def flow_key(self, block: HtmlElement) -> tuple[int, str]:
        holder = block.getparent()
        if block.tag in _LIST_ITEMS and holder is not None:
            holder = holder.getparent()
        if holder is None:
            return (-1, "")
        place = self.of(holder)
        return (len(place.path), place.signature)


def recover_lines(
    lines: list[str],
    blocks: list[Block],
    *,
    title: str | None,
    descriptions: Iterable[str],
    furniture: set[str],
) -> list[str]:
    """``lines`` (trafilatura's article lines) with the dropped article blocks put back in order."""
    if not lines or not blocks:
        return lines
    by_text: dict[str, list[Block]] = {}
    for block in blocks:
        by_text.setdefault(block.text, []).append(block)
    kept = _kept_blocks(lines, by_text)
    joined = "\n".join(lines)
    kept_orders = {b.order for b in kept}
    # A dropped block continues the article when it sits in the same run of text as kept
    # paragraphs: same parent element (for list items, the list's parent).
    # Flows holding one kept paragraph are often a teaser trafilatura let through.
    flow_counts = Counter(b.flow_key for b in kept if b.words >= MIN_BODY_WORDS)
    flows = {key for key, count in flow_counts.items() if count >= 2}
    recovered = [
        b
        for b in blocks
        if b.order not in kept_orders
        and b.flow_key in flows
        and _is_article_block(b, b.flow_key[0], joined, furniture)
    ]
    body_start = min((b.order for b in kept), default=0)
    lead = _standfirst(blocks, body_start, title, descriptions, joined)
    if lead is not None and lead.order not in kept_orders:
        recovered.insert(0, lead)
    recovered = _new_text_only(recovered, joined)
    if not recovered:
        return lines
    return _merge(lines, kept, recovered)


def _new_text_only(candidates: list[Block], joined: str) -> list[Block]:
    """Blocks whose words are not already there: trafilatura spaces inline markup its own way,
    and a recovered container must not repeat the paragraphs inside it."""
    if not candidates:
        return []
    present = loose(joined)
    fresh = []
    for block in candidates:
        key = loose(block.text)
        if key and key not in present:
            fresh.append(block)
            present += "\n" + key
    return fresh


def _kept_blocks(lines: list[str], by_text: dict[str, list[Block]]) -> list[Block]:
    """The page blocks trafilatura's lines come from (lines it reformatted match nothing)."""
    kept: list[Block] = []
    for line in lines:
        text = line[2:] if line.startswith("- ") else line
        matches = by_text.get(text)
        if matches:
            kept.append(min(matches, key=lambda b: (b.off_depth >= 0, b.order)))
    return kept


def _body_path(kept: list[Block]) -> tuple[int, int] | None:
    """(depth, order) of the deepest element holding BODY_SHARE of the kept paragraphs."""
    paragraphs = [b for b in kept if b.words >= MIN_BODY_WORDS]
    if len(paragraphs) < 2:
        return None
    need = BODY_SHARE * len(paragraphs)
    depth = 0
    best: tuple[int, int] | None = None
    while True:
        counts = Counter(b.path[depth] for b in paragraphs if len(b.path) > depth)
        if not counts:
            return best
        node, count = counts.most_common(1)[0]
        if count < need:
            return best
        best = (depth, node)
        paragraphs = [b for b in paragraphs if len(b.path) > depth and b.path[depth] == node]
        depth += 1


def _is_article_block(block: Block, body_depth: int, joined: str, furniture: set[str]) -> bool:
    if block.off_below(body_depth) or block.link_share > MAX_LINK_SHARE or block.text in furniture:
        return False
    if block.text in joined:
        return False
    if block.tag in ("h2", "h3", "h4", "h5", "h6"):
        return block.words >= 2
    if block.tag == "li":
        return block.words >= 3
    # Short loose text inside the body is mostly labels ("Advertisement", "Read more").
    return block.words >= MIN_BODY_WORDS or bool(_SENTENCE_END.search(block.text))


def _standfirst(
    blocks: list[Block],
    body_start: int,
    title: str | None,
    descriptions: Iterable[str],
    joined: str,
) -> Block | None:
    """The summary printed between the headline and the body: the block the page's description
    agrees with, else one marked as standfirst, else prose printed right under the headline."""
    heading = _printed_headline(blocks, body_start, title)
    if heading is None:
        return None
    heading_chain = (*heading.path, heading.order)
    described = [loose(d)[:80] for d in descriptions if len(d.split()) >= MIN_LEAD_WORDS]
    marked: Block | None = None
    first = True
    for block in blocks:
        if block.order <= heading.order:
            continue
        if block.order >= body_start:
            break
        right_under, first = first, False
        if block.words < MIN_LEAD_WORDS or block.link_share > MAX_LINK_SHARE:
            continue
        # Marks between the headline's and the block's common ancestor and the block count.
        shared = _common_depth(heading_chain, block.path)
        if block.off_below(shared) or block.text in joined:
            continue
        text_key = loose(block.text)
        if any(text_key.startswith(d) or d.startswith(text_key[:80]) for d in described):
            return block
        if marked is None and block.lead_depth > shared:
            marked = block
        if right_under and block.words >= MIN_PROSE_WORDS and _SENTENCE_END.search(block.text):
            marked = marked or block
    return marked


def _printed_headline(blocks: list[Block], body_start: int, title: str | None) -> Block | None:
    """The last heading before the body that prints the title (alone or after a kicker)."""
    if not title:
        return None
    key = loose(title)
    found = None
    for block in blocks:
        if block.order >= body_start:
            break
        if block.tag not in _HEADING_TAGS:
            continue
        text_key = loose(block.text)
        if key in text_key and len(text_key) < 2 * len(key):
            found = block
    return found


def _common_depth(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    depth = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        depth += 1
    return depth - 1


def _merge(lines: list[str], kept: list[Block], recovered: list[Block]) -> list[str]:
    """Recovered blocks go after the last kept line printed before them."""
    position_of_line: list[int | None] = []
    by_text = {b.text: b.order for b in kept}
    for line in lines:
        text = line[2:] if line.startswith("- ") else line
        position_of_line.append(by_text.get(text))
    out = list(lines)
    for block in sorted(recovered, key=lambda b: b.order, reverse=True):
        index = 0
        for i, position in enumerate(position_of_line):
            if position is not None and position < block.order:
                index = i + 1
        out.insert(index, block.text)
        position_of_line.insert(index, block.order)
    return out
