"""Article lines trafilatura leaves out, recovered from the page's own block structure.

trafilatura scores nodes one by one and drops some that belong to the article: the standfirst
printed under the headline (it sits in the article header, away from the body), short
subheadings, list items, paragraphs in containers whose class it takes for a paywall or teaser.
This second pass is cheap: one walk over the parsed page (trafilatura prunes a copy) records
every text block with the run of text it belongs to (where else it sits is read from the tree
only for the few blocks asked about); after extraction, the blocks trafilatura kept name the
runs the article is printed in (one container, repeated where ad slots split the body).
Blocks of those runs which trafilatura dropped come back when they are not navigation,
figures, link lists or page furniture; and the standfirst comes back when it is printed
between the headline and the body and the page's description agrees with it.
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


class Block:
    """One line of the page as printed: a block element's text and where it sits.

    Most blocks are only ever matched by their text and their run of text (``flow_key``); where
    a block sits among furniture marks and how much of it is link text is read from the tree
    the first time it is asked for (the tree is not changed: trafilatura prunes a copy).
    """

    __slots__ = ("_element", "_links", "_place", "_places", "flow_key", "order", "tag", "text")

    def __init__(
        self,
        order: int,
        text: str,
        tag: str,
        flow_key: tuple[int, str],
        element: HtmlElement,
        places: _Places,
    ) -> None:
        self.order = order  # document position of the element holding its first text
        self.text = text
        self.tag = tag
        # (depth, tag and class) of the element holding its run of text (for list items, the
        # list's parent): article bodies split by ad slots repeat the same container.
        self.flow_key = flow_key
        self._element = element
        self._places = places
        self._place: _Place | None = None
        self._links: float | None = None

    def _where(self) -> _Place:
        if self._place is None:
            self._place = self._places.of(self._element)
        return self._place

    @property
    def path(self) -> tuple[int, ...]:
        """Document positions of its ancestors, root first."""
        return self._where().path

    @property
    def off_depth(self) -> int:
        """Depth of the deepest element around it (itself included) that is navigation, a
        figure, a form or marked as furniture; -1 when none. Marks above the article body do
        not count, so the caller compares this with the body's depth."""
        return self._where().off_depth

    @property
    def lead_depth(self) -> int:
        """The same for standfirst marks."""
        return self._where().lead_depth

    @property
    def link_share(self) -> float:
        """Share of its characters inside links."""
        if self._links is None:
            if self.tag == "a":
                link_chars = len(self.text)
            else:
                link_chars = sum(len(norm(a.text_content())) for a in self._element.iter("a"))
            self._links = min(link_chars / len(self.text), 1.0)
        return self._links

    def off_below(self, depth: int) -> bool:
        return self.off_depth > depth

    @property
    def words(self) -> int:
        return len(self.text.split())


def page_blocks(tree: HtmlElement) -> list[Block]:
    """Every text block of the whole page in document order (trafilatura prunes a copy)."""
    held, position = _holding_text(tree)
    places = _Places(position)
    blocks: list[Block] = []
    seen: set[HtmlElement] = set()
    for order, element in held:
        block = element
        while block.tag in _INLINE and (parent := block.getparent()) is not None:
            block = parent
        if block in seen or not isinstance(block.tag, str) or block.tag in _SKIP:
            continue
        seen.add(block)
        text = norm(block.text_content())
        if not text:
            continue
        blocks.append(Block(order, text, block.tag, places.flow_key(block), block, places))
    return blocks


def _holding_text(
    tree: HtmlElement,
) -> tuple[list[tuple[int, HtmlElement]], dict[HtmlElement, int]]:
    """(document position, element) of the elements with text of their own, in page order,
    and the document position of every element.

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
    held = sorted(((index, element) for element, index in found.items()), key=lambda p: p[0])
    return held, position


@dataclass(slots=True)
class _Place:
    path: tuple[int, ...]  # document positions of its ancestors, root first
    off_depth: int
    lead_depth: int


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
    """Where elements sit, computed once per element from its parent's, when first asked."""

    def __init__(self, position: dict[HtmlElement, int]) -> None:
        self._position = position
        self._known: dict[HtmlElement, _Place] = {}
        self._depths: dict[HtmlElement, int] = {}
        self._flows: dict[HtmlElement, tuple[int, str]] = {}

    def of(self, element: HtmlElement) -> _Place:
        known = self._known.get(element)
        if known is not None:
            return known
        parent = element.getparent()
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
            path = (*above.path, self._position[parent])
            off_depth, lead_depth = above.off_depth, above.lead_depth
        depth = len(path)
        place = _Place(
            path=path,
            off_depth=depth if off else off_depth,
            lead_depth=depth if lead else lead_depth,
        )
        self._known[element] = place
        return place

    def depth(self, element: HtmlElement) -> int:
        depth = self._depths.get(element)
        if depth is None:
            parent = element.getparent()
            depth = 0 if parent is None else self.depth(parent) + 1
            self._depths[element] = depth
        return depth

    def flow_key(self, block: HtmlElement) -> tuple[int, str]:
        holder = block.getparent()
        if block.tag in _LIST_ITEMS and holder is not None:
            holder = holder.getparent()
        if holder is None:
            return (-1, "")
        key = self._flows.get(holder)
        if key is None:
            tag = holder.tag if isinstance(holder.tag, str) else ""
            classes = " ".join((holder.get("class") or "").split())
            # Chunks of one body share tag and class; an element without class is only itself.
            signature = f"{tag}.{classes}" if classes else f"#{self._position[holder]}"
            key = self._flows[holder] = (self.depth(holder), signature)
        return key


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
            # Where a block sits is read from the tree only when two blocks print the line.
            if len(matches) == 1:
                kept.append(matches[0])
            else:
                kept.append(min(matches, key=lambda b: (b.off_depth >= 0, b.order)))
    return kept


def _is_article_block(block: Block, body_depth: int, joined: str, furniture: set[str]) -> bool:
    # The tests on the text come first: they are cheap and turn most blocks away.
    if block.text in furniture or block.text in joined or not _is_line_of_prose(block):
        return False
    return not block.off_below(body_depth) and block.link_share <= MAX_LINK_SHARE


def _is_line_of_prose(block: Block) -> bool:
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
        shared = _common_depth(heading.path, block.path)
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
