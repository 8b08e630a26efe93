"""The entries of a sitemap as found in the wild: XML urlset/sitemapindex (gzip too), a plain-text
list of URLs, or an RSS/Atom/JSON feed used as a sitemap; and the sitemaps a robots.txt names.

An entry is the ``<loc>`` of a ``<url>`` (or ``<sitemap>``) itself: image, video and news
extensions nest locs of their own, which are media, not the page. A sitemap cut off in transit
keeps its complete entries only (a URL cut mid-way would be fetched as if it were real) and says
so in ``problem``. Dates keep their own UTC offset, so a date window can compare calendar days as
the publisher wrote them.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import lxml.etree

from spiders.entry_dates import parse_entry_date
from spiders.feed_entries import FeedError, absolute_url, read_feed, readable_url
from spiders.xml_repair import XML_ERR_DOCUMENT_END, ends_at_error, escape_stray_entities

MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemap protocol allows 50 MB uncompressed
GZIP_CHUNK = 64 * 1024
ENTRY_TAGS = frozenset({"url", "sitemap"})
SITEMAP_ROOTS = frozenset({"urlset", "sitemapindex"})
FEED_ROOTS = frozenset({"rss", "feed", "RDF"})
ROBOTS_SITEMAP_LINE = re.compile(r"^\s*site-?map\s*:\s*(\S+)", re.IGNORECASE)


class SitemapError(ValueError):
    """Nothing in the document is usable as a sitemap; the message says why."""


@dataclass(frozen=True)
class SitemapEntry:
    loc: str  # absolute
    when: datetime | None  # news:publication_date, else lastmod (a feed: published, else updated)


@dataclass(frozen=True)
class SitemapDocument:
    kind: str  # "urlset", "sitemapindex", "text", "feed"
    entries: list[SitemapEntry]
    problem: str | None = None  # part of the document is unusable (cut off, lines not URLs)
    warning: str | None = None  # the document is faulty but was read whole (recovered XML)


def _local(tag: object) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _gunzip(body: bytes) -> tuple[bytes, str | None]:
    """What a gzip sitemap inflates to, and what was wrong if it was cut off or corrupt: the
    part inflated before that point is still returned."""
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    data = bytearray()
    for start in range(0, len(body), GZIP_CHUNK):
        try:
            data += inflater.decompress(body[start : start + GZIP_CHUNK], MAX_SITEMAP_BYTES + 1)
        except zlib.error as error:
            return bytes(data), f"broken gzip sitemap: {error}"
        if len(data) > MAX_SITEMAP_BYTES or inflater.unconsumed_tail:
            raise SitemapError(f"gzip sitemap inflates to more than {MAX_SITEMAP_BYTES} bytes")
        if inflater.eof:
            return bytes(data), None
    return bytes(data), "broken gzip sitemap: truncated"


def _entry(node: lxml.etree._Element, base_url: str) -> SitemapEntry | None:
    loc = lastmod = published = ""
    for child in node:
        name = _local(child.tag)
        if name == "loc" and not loc:
            loc = (child.text or "").strip()
        elif name == "lastmod":
            lastmod = (child.text or "").strip()
        elif name == "news":
            for part in child.iter():
                if _local(part.tag) == "publication_date":
                    published = (part.text or "").strip()
    url = absolute_url(base_url, loc) if loc else None
    return SitemapEntry(url, parse_entry_date(published or lastmod)) if url else None


@dataclass
class _Pull:
    root: str | None
    entries: list[SitemapEntry]
    error: lxml.etree.XMLSyntaxError | None
    without_loc: int = 0  # entries with no loc, or one that is not even a URL


def _pull(body: bytes, base_url: str, root: str | None, *, recover: bool) -> _Pull:
    """Entries in document order, each taken when its element closes: with ``recover`` off, an
    entry still open where the document stops is never taken."""
    parser = lxml.etree.XMLPullParser(
        events=("end",),
        tag=("{*}url", "{*}sitemap"),  # any namespace or none: sites use old and wrong ones
        recover=recover,
        resolve_entities=False,
        no_network=True,
        remove_comments=True,
        remove_pis=True,
    )
    found = _Pull(root, [], None)

    def drain() -> None:
        for _, element in parser.read_events():
            parent = element.getparent()
            if parent is None:
                continue  # a <url> root is no sitemap
            entry = _entry(element, base_url)
            if entry is not None:
                found.entries.append(entry)
            else:
                found.without_loc += 1
            element.clear()  # a 50 MB sitemap need not stay in memory
            # Only at the top: markup recovered from a missing end tag may nest the next
            # <url> in this one, whose loc comes before it.
            while parent.getparent() is None and element.getprevious() is not None:
                del parent[0]

    try:
        parser.feed(body)
    except lxml.etree.XMLSyntaxError as error:
        found.error = error
    drain()
    if found.error is None:
        try:
            parser.close()
        except lxml.etree.XMLSyntaxError as error:
            found.error = error
            if not recover:
                # libxml2 (2.14.6 at least) ends the elements still open where a document
                # stops when it fails at the end: they were never closed, so not complete.
                for _ in parser.read_events():
                    pass
        drain()
    return found


def _xml_sitemap(body: bytes, base_url: str, root: str | None) -> SitemapDocument:
    body = escape_stray_entities(body)
    strict = _pull(body, base_url, root, recover=False)
    problem = warning = None
    found = strict
    if strict.error is not None and strict.error.code == XML_ERR_DOCUMENT_END:
        warning = f"ignored what follows the sitemap's last element: {strict.error}"
    elif strict.error is not None and ends_at_error(body, strict.error):
        problem = (
            f"sitemap cut off ({strict.error}): only its {len(strict.entries)} complete "
            "entries are used"
        )
    elif strict.error is not None:
        found = _pull(body, base_url, root, recover=True)
        warning = f"not well-formed XML, read in recovery mode: {strict.error}"
    if found.root is None:
        raise SitemapError(f"not XML: {strict.error}")
    if found.root not in SITEMAP_ROOTS:
        raise SitemapError(
            f"not a sitemap: root element is {found.root!r}, not urlset/sitemapindex or a feed"
        )
    if found.without_loc:
        skipped = f"{found.without_loc} entries without a usable <loc> skipped"
        warning = f"{warning}; {skipped}" if warning else skipped
    return SitemapDocument(found.root, found.entries, problem, warning)


def _text_sitemap(body: bytes, base_url: str) -> SitemapDocument:
    """The sitemap protocol's text format: one URL a line, nothing else."""
    entries, others = [], []
    for number, line in enumerate(body.decode("utf-8-sig", "replace").splitlines(), start=1):
        text = line.strip()
        if not text:
            continue
        parts = urlsplit(text) if readable_url(text) else None
        if parts and parts.scheme in ("http", "https") and parts.hostname and " " not in text:
            entries.append(SitemapEntry(text, None))
        else:
            others.append((number, text))
    if not entries:
        shown = f": line {others[0][0]} is {others[0][1][:80]!r}" if others else ""
        raise SitemapError(f"not a sitemap: neither XML nor a list of http(s) URLs{shown}")
    problem = None
    if others:
        number, text = others[0]
        problem = (
            f"{len(others)} line(s) of the text sitemap are not http(s) URLs "
            f"(first: line {number}: {text[:80]!r}); the {len(entries)} URLs are used"
        )
    return SitemapDocument("text", entries, problem)


def _feed_sitemap(body: bytes, base_url: str, content_type: str | None) -> SitemapDocument:
    try:
        feed = read_feed(body, base_url, content_type)
    except FeedError as error:
        raise SitemapError(str(error)) from None
    entries = [SitemapEntry(entry.link, entry.published) for entry in feed.entries]
    return SitemapDocument("feed", entries, warning=feed.warning)


def _root_name(body: bytes) -> str | None:
    """The root element's local name, read from the start of the document only."""
    parser = lxml.etree.XMLPullParser(
        events=("start",), recover=True, resolve_entities=False, no_network=True
    )
    try:
        parser.feed(body[:GZIP_CHUNK])
    except lxml.etree.XMLSyntaxError:
        return None
    for _, element in parser.read_events():
        return _local(element.tag)
    return None


def read_sitemap(body: bytes, base_url: str, content_type: str | None = None) -> SitemapDocument:
    """The entries of a sitemap fetched from ``base_url``; SitemapError if nothing is usable."""
    gzip_problem = None
    if body[:3] == b"\x1f\x8b\x08":
        body, gzip_problem = _gunzip(body)
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    body = body.lstrip(b" \t\r\n")  # an XML declaration must come first; many sites indent it
    try:
        if not body:
            raise SitemapError("not XML and not a list of URLs: the document is empty")
        if body.startswith(b"{"):
            document = _feed_sitemap(body, base_url, content_type)
        elif not body.startswith(b"<"):
            document = _text_sitemap(body, base_url)
        elif (root := _root_name(body)) in FEED_ROOTS:
            document = _feed_sitemap(body, base_url, content_type)
        else:
            document = _xml_sitemap(body, base_url, root)
    except SitemapError as error:
        raise SitemapError(gzip_problem or str(error)) from None
    if gzip_problem:
        kept = f"only its {len(document.entries)} complete entries are used"
        document = SitemapDocument(document.kind, document.entries, f"{gzip_problem}: {kept}")
    if document.problem and not document.entries:
        raise SitemapError(gzip_problem or document.problem)
    return document


def sitemap_urls_from_robots(body: bytes, base_url: str) -> list[str]:
    """The URLs of the ``Sitemap:`` lines of a robots.txt (any case; ``Site-map:`` too, as some
    sites write it), in order, each once; relative ones resolved against the robots.txt URL."""
    urls = []
    for line in body.decode("utf-8-sig", "replace").splitlines():
        match = ROBOTS_SITEMAP_LINE.match(line)
        url = absolute_url(base_url, match.group(1)) if match else None
        if url:
            urls.append(url)
    return list(dict.fromkeys(urls))
