"""The entries of a feed: RSS 0.9x/2.0, RSS 1.0 (RDF), Atom, CDF (feedparser) and JSON Feed.

feedparser does what a careful reader must: xml:base and the feed's own URL for relative links,
every date format seen in the wild, broken XML read by its loose parser (the feed is then "bozo":
we warn and use what it read). It is handed a stream, never bytes or a string: given those it may
open them as a file name or URL. JSON Feed is read here: the released feedparser does not.
"""

from __future__ import annotations

import calendar
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from spiders.entry_dates import parse_entry_date
from spiders.xml_repair import complete_elements, escape_stray_entities

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
JSON_FEED_PREFIX = "https://jsonfeed.org/version/"
ENTRY_TAGS = ("{*}item", "{*}entry")
HEADER_ONLY_PROBLEMS = (feedparser.NonXMLContentType, feedparser.CharacterEncodingOverride)


class FeedError(ValueError):
    """The document is not a readable feed; the message says why."""


@dataclass(frozen=True)
class FeedEntry:
    link: str  # absolute
    entry_id: str | None
    published: datetime | None  # published, else updated; UTC


@dataclass(frozen=True)
class FeedDocument:
    dialect: str  # "rss", "rdf", "atom", "cdf", "json"
    version: str  # feedparser's version ("rss20", "atom10", ...) or "json1", "json11"
    entries: list[FeedEntry]  # in feed order, one per link
    without_link: int  # entries that name no page
    warning: str | None  # what was wrong with a feed that was still read
    problem: str | None = None  # cut off in transit: only its complete entries are listed


def readable_url(text: str) -> bool:
    """False for a URL that cannot even be split (an unclosed "[" host, say): Scrapy would raise
    on it; http(s) or not is the request's check, which turns other schemes into failure rows."""
    try:
        urlsplit(text)
    except ValueError:
        return False
    return True


def absolute_url(base_url: str, link: str) -> str | None:
    """``link`` resolved against ``base_url``, an absolute link as written (urljoin would drop
    a trailing ";" as empty path parameters); None if it cannot even be split (see
    readable_url)."""
    if link.startswith(("http://", "https://")) and "[" not in link:
        return link  # most links: absolute, and splitting can only fail on a "[" host
    try:
        scheme = urlsplit(link).scheme
        return link if scheme else urljoin(base_url, link)
    except ValueError:
        return None


def _dialect(version: str) -> str:
    if version.startswith(("rss1", "rss090")):
        return "rdf"
    for dialect in ("rss", "atom", "cdf"):
        if version.startswith(dialect):
            return dialect
    return version


def _entry_link(entry: Any, dialect: str, body: bytes) -> str | None:
    """An alternate link of an HTML type first (an entry may offer a PDF first), then any other
    alternate, then feedparser's own choice (RSS <link>, a permalink guid).

    feedparser makes a link of any id it takes for a permalink, resolved against the feed's
    URL: an Atom or RDF id never is one, and an RSS guid only when the feed wrote it whole (a
    guid "6" would become FEED_DIR/6)."""
    alternates = [
        link
        for link in entry.get("links", [])
        if link.get("rel", "alternate") == "alternate" and link.get("href")
    ]
    for link in alternates:
        if str(link.get("type", "")).split(";")[0].strip().lower() in HTML_TYPES:
            return str(link["href"])
    if alternates:
        return str(alternates[0]["href"])
    link = entry.get("link")
    if not link:
        return None
    if entry.get("guidislink") and link == entry.get("id"):
        written = str(link).encode("utf-8")
        if dialect != "rss" or (written not in body and _escape(written) not in body):
            return None
    return str(link)


def _escape(text: bytes) -> bytes:
    return text.replace(b"&", b"&amp;").replace(b"<", b"&lt;")


def _struct_time_utc(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromtimestamp(calendar.timegm(value), UTC)


def _feed_entry(entry: Any, dialect: str, body: bytes) -> FeedEntry | None:
    link = _entry_link(entry, dialect, body)
    if not link or not readable_url(link):
        return None
    published = _struct_time_utc(entry.get("published_parsed") or entry.get("updated_parsed"))
    entry_id = entry.get("id")
    return FeedEntry(link, str(entry_id) if entry_id else None, published)


def _xml_feed(body: bytes, url: str, content_type: str | None) -> FeedDocument:
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(
        io.BytesIO(body), response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )
    version = str(parsed.get("version") or "")
    bozo = parsed.get("bozo_exception")
    if not version and not parsed.entries:
        detail = f": {bozo}" if bozo else ""
        raise FeedError(f"not a feed: neither RSS, Atom, RDF nor JSON Feed{detail}")
    warning = problem = None
    read = parsed.entries
    if parsed.get("bozo"):
        # A missing or non-XML Content-Type or a wrong declared charset is bozo to feedparser
        # too, but the feed itself was read whole: only markup errors are worth a warning.
        if not isinstance(bozo, HEADER_ONLY_PROBLEMS):
            warning = f"feed is not well-formed, read what could be read: {bozo}"
        # feedparser reads a cut-off feed to its last byte: its last entry may hold half a link
        complete = complete_elements(escape_stray_entities(body), ENTRY_TAGS)
        if complete is not None and complete < len(read):
            read = read[:complete]
            problem = f"feed cut off: only its {complete} complete entries are used"
    dialect = _dialect(version or "unknown")
    entries = [entry for entry in (_feed_entry(e, dialect, body) for e in read) if entry]
    return FeedDocument(dialect, version, entries, len(read) - len(entries), warning, problem)


def _utc(when: datetime | None) -> datetime | None:
    return when.astimezone(UTC) if when is not None else None


def _json_text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _json_feed(document: dict[str, Any], url: str) -> FeedDocument:
    version = str(document["version"]).removeprefix(JSON_FEED_PREFIX).replace(".", "")
    items = document.get("items")
    if not isinstance(items, list):
        raise FeedError("not a feed: JSON Feed without an items list")
    entries, without_link = [], 0
    for item in items:
        item = item if isinstance(item, dict) else {}
        # url is the item's page; external_url is what the item is about (an article elsewhere)
        link = _json_text(item.get("url")) or _json_text(item.get("external_url"))
        resolved = absolute_url(url, link) if link else None
        if not resolved:
            without_link += 1
            continue
        raw_date = _json_text(item.get("date_published")) or _json_text(item.get("date_modified"))
        item_id = item.get("id")
        entries.append(
            FeedEntry(
                resolved,
                str(item_id) if item_id is not None else None,
                _utc(parse_entry_date(raw_date)) if raw_date else None,
            )
        )
    return FeedDocument("json", f"json{version}", entries, without_link, None)


def _as_json_feed(body: bytes) -> dict[str, Any] | None:
    """The JSON Feed object if the body is one; None if it does not look like JSON at all."""
    if not body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return None
    try:
        document = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as error:
        raise FeedError(f"not a feed: unreadable JSON: {error}") from None
    if not isinstance(document, dict) or not str(document.get("version", "")).startswith(
        JSON_FEED_PREFIX
    ):
        raise FeedError("not a feed: JSON without a jsonfeed.org version")
    return document


def read_feed(body: bytes, url: str, content_type: str | None = None) -> FeedDocument:
    """The entries of a feed fetched from ``url`` (the base of relative links), duplicates of a
    link dropped. FeedError when nothing in the document is a feed."""
    json_feed = _as_json_feed(body)
    if json_feed is not None:
        found = _json_feed(json_feed, url)
    else:
        found = _xml_feed(body, url, content_type)
    unique: dict[str, FeedEntry] = {}
    for entry in found.entries:
        unique.setdefault(entry.link, entry)
    if found.problem and not unique:
        raise FeedError(found.problem)
    return FeedDocument(
        found.dialect,
        found.version,
        list(unique.values()),
        found.without_link,
        found.warning,
        found.problem,
    )
