"""Is a page an article, or a hub/tag/section page? Decided from its content and metadata.

The URL is deliberately not consulted: news sites put articles and listings under every kind of
path. What an article has is declared metadata (og:type article, JSON-LD *Article types, an
<article> element) and a body of running paragraph text; what a hub has is mostly links.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import lxml.html
from lxml.etree import ParserError

from pipeline.extract.json_ld import json_ld_nodes

ARTICLE_TYPES = frozenset(
    {
        "article",
        "newsarticle",
        "reportagenewsarticle",
        "analysisnewsarticle",
        "blogposting",
        "opinionnewsarticle",
        "reviewnewsarticle",
        "backgroundnewsarticle",
        "liveblogposting",
    }
)
LISTING_TYPES = frozenset(
    {"website", "collectionpage", "itemlist", "webpage.listing", "searchresultspage"}
)
MIN_PARAGRAPH = 80  # characters: shorter <p> are teasers, captions, bylines
ARTICLE_TEXT = 600  # characters of running text that make a page an article without metadata
DECLARED_TEXT = 250  # with article metadata, less text suffices (short news items)
MAX_LINK_DENSITY = 0.5


@dataclass(frozen=True)
class ArticleVerdict:
    is_article: bool
    paragraph_chars: int
    link_density: float
    declared: str | None  # "article", "listing" or None: what the metadata claims
    reasons: list[str] = field(default_factory=list)


def _jsonld_types(tree: lxml.html.HtmlElement) -> set[str]:
    types: set[str] = set()
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text_content() or "null")
        except ValueError:
            continue  # broken JSON-LD is common; the other signals still count
        for node in json_ld_nodes(data, nested=False):
            kind = node.get("@type")
            kinds = kind if isinstance(kind, list) else [kind]
            types.update(str(k).lower() for k in kinds if k)
    return types


def _declared(tree: lxml.html.HtmlElement) -> str | None:
    og = {v.strip().lower() for v in tree.xpath('//meta[@property="og:type"]/@content')}
    kinds = _jsonld_types(tree) | og
    if kinds & ARTICLE_TYPES:
        return "article"
    if kinds & LISTING_TYPES:
        return "listing"
    return None


def _text_metrics(tree: lxml.html.HtmlElement) -> tuple[int, float]:
    for junk in tree.xpath("//script|//style|//noscript|//template"):
        junk.drop_tree()
    body = tree.find("body")
    root = body if body is not None else tree
    paragraphs = [" ".join(p.text_content().split()) for p in root.iter("p")]
    paragraph_chars = sum(len(p) for p in paragraphs if len(p) >= MIN_PARAGRAPH)
    all_text = len(" ".join(root.text_content().split()))
    link_text = sum(len(" ".join(a.text_content().split())) for a in root.iter("a"))
    return paragraph_chars, (link_text / all_text if all_text else 1.0)


def judge_article(html: bytes | str) -> ArticleVerdict:
    """The verdict with its reasons; unparsable or empty markup is not an article."""
    try:
        tree = lxml.html.document_fromstring(html)
    except (ParserError, ValueError) as error:
        return ArticleVerdict(False, 0, 1.0, None, [f"unparsable HTML: {error}"])
    declared = _declared(tree)
    has_article_element = bool(tree.xpath("//article"))
    chars, density = _text_metrics(tree)
    reasons = [f"{chars} chars of paragraph text", f"link density {density:.2f}"]
    if declared:
        reasons.append(f"metadata says {declared}")
    if declared == "listing" or density > MAX_LINK_DENSITY:
        return ArticleVerdict(False, chars, density, declared, reasons)
    needed = DECLARED_TEXT if declared == "article" or has_article_element else ARTICLE_TEXT
    return ArticleVerdict(chars >= needed, chars, density, declared, reasons)


def is_article(html: bytes | str) -> bool:
    return judge_article(html).is_article
