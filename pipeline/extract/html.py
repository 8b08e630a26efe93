"""HTML to article text and metadata with trafilatura.

trafilatura runs with its balanced defaults (include_comments=False), in fast mode first (see
FAST_MODE_SHARE): on 75 real pages of
../shared/devsets/fundus, favor_precision=True kept 0.936 of the article lines against 0.962 and
removed 0.986 of the furniture against 0.980 (bench/extract_quality.py). The headline is chosen
by pipeline.extract.titles, and the article lines trafilatura drops (standfirst, body chunks
split by ad slots, subheadings, list items) are put back by pipeline.extract.html_blocks, from
facts read from the whole page (trafilatura prunes a copy). The publication date is read only
from what the page states in its markup (meta tags, JSON-LD, microdata, <time>), never guessed
from the URL, the page text or the current day, so a page without a date gets
``published=None``; its time of day and offset are kept (stored in UTC). htmldate is not asked
(nor run: trafilatura extracts without its metadata, which pipeline.extract.page_meta reads):
even with extensive_search=False it takes a date from the canonical URL, the copyright year,
the headline and the page text, and it cuts the time from RFC 2822 and worded values.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement
from trafilatura import bare_extraction
from trafilatura.settings import Document

from pipeline.extract.decode import decode_bytes, meta_charset
from pipeline.extract.html_blocks import (
    MAX_LINK_SHARE,
    MIN_PROSE_WORDS,
    Block,
    page_blocks,
    recover_lines,
)
from pipeline.extract.html_parse import parse_html
from pipeline.extract.language import identify_language
from pipeline.extract.model import ExtractedDocument, ExtractionError
from pipeline.extract.page_meta import PageMeta, page_meta
from pipeline.extract.stated_dates import stated_date as stated_publication
from pipeline.extract.titles import choose_title, loose

for _name in ("trafilatura", "htmldate", "justext", "courlan"):
    logging.getLogger(_name).setLevel(logging.WARNING)

NO_TEXT = "no article text found in HTML"
# trafilatura's fast mode (its own extractor, no readability/jusText comparison) costs about 40 %
# less and scored the same on the dev pages except where it found a fraction of the article;
# below this share of the page's prose the full cascade runs (bench/extract_quality.py).
FAST_MODE_SHARE = 0.5

# meta name/property/itemprop values that state when an article was first published.
_PUBLISHED_KEYS = frozenset(
    {
        "article:published_time", "og:article:published_time", "article:published",
        "og:published_time", "published_time", "datepublished", "publishdate", "publish-date",
        "publish_date", "pubdate", "date", "dc.date", "dc.date.issued", "dcterms.date",
        "dcterms.issued", "dcterms.created", "sailthru.date", "parsely-pub-date",
        "citation_publication_date", "citation_date", "originalpublicationdate", "datecreated",
    }
)  # fmt: skip
_TIME_CLASS = re.compile(r"publish|posted|pubdate|entry-date|dateline", re.I)
_WORD = re.compile(r"[^\W_]")
_LANG = re.compile(r"^([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)*$")
_JSONLD_PUBLISHED = re.compile(r'"datePublished"\s*:\s*"([^"]{6,40})"')


def html_document(html: str | bytes, *, url: str | None = None) -> ExtractedDocument:
    """Article text (one paragraph per line, title excluded) and metadata of an HTML page.

    Raises ExtractionError(NO_TEXT) when the page holds no article text.
    """
    encoding = None
    if isinstance(html, bytes):
        decoded = decode_bytes(html, meta_charset(html))
        html, encoding = decoded.text, decoded.encoding
    tree = parse_html(html)
    if tree is None:
        raise ExtractionError(NO_TEXT)
    # Our facts come from the whole page: trafilatura prunes a copy of the tree it is given.
    language = page_language(tree)
    published = stated_date(tree, language)
    canonical = canonical_url(tree, url)
    furniture = _furniture_segments(tree)
    headline = choose_title(tree)
    blocks = page_blocks(tree)
    prose = _prose_words(blocks) + _bare_prose_words(tree)
    descriptions = _descriptions(tree)
    meta = _page_meta(tree, url)
    result = _run_trafilatura(tree, url, fast=True)
    if _words(result.text) < FAST_MODE_SHARE * prose:
        # The fast pass missed most of the page's prose: run the full cascade (trafilatura's
        # comparison with readability and jusText) on the same, whole tree.
        result = _run_trafilatura(tree, url, fast=False)
    title = headline or _clean(meta.title)
    lines = _article_lines(result.text or "", {title, _clean(meta.title)})
    lines = recover_lines(
        lines, blocks, title=title, descriptions=descriptions, furniture=furniture
    )
    text = "\n".join(lines)
    # trafilatura's fallbacks return whatever text a page has, even a lone menu.
    if not _WORD.search(text) or set(text.split("\n")) <= furniture:
        raise ExtractionError(NO_TEXT)
    return ExtractedDocument(
        source_kind="html",
        text=text,
        title=title,
        author=_clean(meta.author),
        published=published,
        site=_clean(meta.sitename),
        description=_clean(meta.description),
        # The page's declared language first: it is the publisher's word.
        language=language or identify_language(text),
        canonical_url=canonical,
        encoding=encoding,
    )


def _words(text: str | None) -> int:
    return len(text.split()) if text else 0


def _prose_words(blocks: list[Block]) -> int:
    """Words in the page's paragraphs of prose (not link lists). Furniture marks are not
    consulted: a mark on a wrapper high above the body would hide the whole article."""
    total = 0
    for block in blocks:
        if block.tag == "p":
            words = block.words  # counted by splitting its text: once
            # The link share is read from the tree: only for paragraphs long enough to count.
            if words >= MIN_PROSE_WORDS and block.link_share < MAX_LINK_SHARE:
                total += words
    return total


# Elements that hold paragraphs rather than being one: prose written straight into them (text
# between <br>s, or a page whose <p> tags are missing) is article text outside any <p>.
_CONTAINERS = frozenset({"body", "div", "article", "section", "main", "td", "center", "font"})
_MIN_PROSE_CHARS = 2 * MIN_PROSE_WORDS - 1


def _bare_prose_words(tree: HtmlElement) -> int:
    """Words of prose-length runs of text written straight into container elements."""
    total = 0
    for element in tree.iter(*_CONTAINERS):
        for piece in (element.text, *(child.tail for child in element)):
            # Words and the spaces between them: most pieces are the indentation between tags.
            if piece and len(piece) >= _MIN_PROSE_CHARS:
                words = _words(piece)
                if words >= MIN_PROSE_WORDS:
                    total += words
    return total


def _run_trafilatura(tree: HtmlElement, url: str | None, *, fast: bool) -> Document:
    try:
        result = bare_extraction(
            tree,
            url=url,
            include_comments=False,
            # Read by page_meta, without the categories, tags, licence and date we do not use.
            with_metadata=False,
            fast=fast,
            target_language=None,
        )
    # trafilatura and lxml raise assorted errors on hostile markup; report, do not crash.
    except Exception as err:
        raise _failed(err) from err
    if not isinstance(result, Document):
        raise ExtractionError(NO_TEXT)
    return result


def _page_meta(tree: HtmlElement, url: str | None) -> PageMeta:
    # The same contract as the extraction itself, whose metadata step this was.
    try:
        return page_meta(tree, url)
    except Exception as err:
        raise _failed(err) from err


def _failed(err: Exception) -> ExtractionError:
    return ExtractionError(f"HTML extraction failed: {type(err).__name__}: {err}")


_FURNITURE_TAGS = ("nav", "footer", "header", "aside", "menu")


def _furniture_segments(tree: HtmlElement) -> set[str]:
    """Text pieces inside navigation, header (not an article's), footer and aside elements."""
    chosen: set[HtmlElement] = set()
    outermost = []
    for element in tree.iter(*_FURNITURE_TAGS):
        if element.tag == "header" and next(element.iterancestors("article"), None) is not None:
            continue
        chosen.add(element)
        # A chosen element's text pieces include those of every element inside it.
        if not any(above in chosen for above in element.iterancestors(*_FURNITURE_TAGS)):
            outermost.append(element)
    return {" ".join(piece.split()) for block in outermost for piece in block.itertext()}


def _clean(value: str | None) -> str | None:
    value = " ".join(value.split()) if value else None
    return value or None


def _article_lines(text: str, titles: set[str | None]) -> list[str]:
    lines = [" ".join(line.split()) for line in text.splitlines()]
    lines = [line for line in lines if line]
    # trafilatura keeps the headline as the first line; the model wants it only in ``title``.
    headlines = {loose(title) for title in titles if title}
    if lines and loose(lines[0]) in headlines:
        lines = lines[1:]
    return lines


def _descriptions(tree: HtmlElement) -> list[str]:
    """The page's own summary (meta description, og:description, twitter:description)."""
    keys = ("description", "og:description", "twitter:description")
    return [
        " ".join((meta.get("content") or "").split())
        for meta in tree.iter("meta")
        if (meta.get("property") or meta.get("name") or "").strip().lower() in keys
    ]


def stated_date(tree: HtmlElement, language: str | None = None) -> str | None:
    """First publication as the markup states it, or None: the day ("2023-09-21") when the
    page gives no time, else the instant in UTC ("2023-09-21T17:30:00+00:00"), read by
    pipeline.extract.stated_dates. ``language``: the page's declared one, for worded dates."""
    languages = [language] if language else None
    for value in _date_values(tree):
        when = stated_publication(value, languages=languages)
        if when is not None:
            return when
    return None


def _date_values(tree: HtmlElement) -> Iterator[str]:
    for meta in tree.iter("meta"):
        key = meta.get("property") or meta.get("name") or meta.get("itemprop") or ""
        if key.strip().lower() in _PUBLISHED_KEYS:
            yield meta.get("content") or meta.get("datetime") or ""
    for script in tree.xpath('//script[contains(@type, "ld+json")]'):
        yield from _jsonld_dates(script.text or "")
    for elem in tree.xpath('//*[@itemprop="datePublished"]'):
        yield elem.get("content") or elem.get("datetime") or elem.text_content()
    for elem in tree.xpath("//time[@datetime]"):
        marked = elem.get("pubdate") is not None or _TIME_CLASS.search(elem.get("class", ""))
        if marked or elem.xpath("ancestor::article"):
            yield elem.get("datetime", "")


def _jsonld_dates(source: str) -> Iterator[str]:
    try:
        data = json.loads(source, strict=False)
    except ValueError:
        # Broken JSON-LD is common (trailing commas, raw newlines); the key is still readable.
        yield from _JSONLD_PUBLISHED.findall(source)
        return
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
        elif isinstance(node, dict):
            value = node.get("datePublished") or node.get("dateCreated")
            if isinstance(value, str):
                yield value
            stack.extend(
                v for k, v in node.items() if k in ("@graph", "mainEntity", "itemListElement")
            )


def page_language(tree: HtmlElement) -> str | None:
    """ISO 639 code from <html lang>, Content-Language or og:locale, lower-cased primary subtag."""
    root = tree.getroottree().getroot()
    candidates = [root.get("lang"), root.get("{http://www.w3.org/XML/1998/namespace}lang")]
    for meta in tree.iter("meta"):
        key = (meta.get("http-equiv") or meta.get("property") or meta.get("name") or "").lower()
        if key in ("content-language", "og:locale", "language", "dc.language"):
            candidates.append(meta.get("content"))
    for value in candidates:
        match = _LANG.match((value or "").strip().split(",")[0].strip())
        if match:
            return match[1].lower()
    return None


def canonical_url(tree: HtmlElement, url: str | None) -> str | None:
    """The page's <link rel=canonical> or og:url, made absolute against ``url``."""
    hrefs = [
        link.get("href")
        for link in tree.iter("link")
        if "canonical" in (link.get("rel") or "").lower().split()
    ]
    hrefs += [m.get("content") for m in tree.iter("meta") if m.get("property") == "og:url"]
    for href in hrefs:
        absolute = urljoin(url or "", (href or "").strip())
        if urlsplit(absolute).scheme in ("http", "https") and urlsplit(absolute).netloc:
            return absolute
    return None
