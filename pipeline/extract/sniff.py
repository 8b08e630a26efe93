"""What a document is, judged by its content first and by its name and Content-Type second."""

from __future__ import annotations

import re

from pipeline.extract.decode import decode_bytes
from pipeline.extract.model import ExtractionError

KINDS = ("html", "text", "binary", "empty")

# Markers no plain-text article starts with; any one of them makes the document HTML.
_STRONG = re.compile(r"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]|<frameset[\s>]", re.I)
_TAG = re.compile(
    r"</?(?:p|div|span|a|br|hr|h[1-6]|article|section|main|header|footer|nav|aside|ul|ol|li|table"
    r"|tr|td|th|img|meta|link|title|script|style|em|strong|b|i|blockquote|figure|figcaption"
    r"|iframe|form|input|noscript|time|pre|code)\b[^<>]{0,2000}/?>",
    re.I,
)
_HTML_NAMES = (".html", ".htm", ".xhtml", ".shtml", ".php", ".asp", ".aspx", ".jsp")
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_HEAD = 8192
# Whitespace str.strip() keeps: zero-width characters and the BOM.
# Anything but whitespace and the zero-width characters; found at once in any real page, where
# translating the whole page first took milliseconds.
_VISIBLE = re.compile("[^\\s\u200b\u200c\u200d\u2060\ufeff]")


def sniff_kind(data: bytes, *, filename: str | None = None, content_type: str | None = None) -> str:
    """'html' | 'text' | 'binary' | 'empty', from the bytes (decoded after any BOM) and hints."""
    if not data:
        return "empty"
    try:
        text = decode_bytes(data).text
    except ExtractionError:
        return "binary"
    return sniff_text_kind(text, filename=filename, content_type=content_type)


def sniff_text_kind(
    text: str, *, filename: str | None = None, content_type: str | None = None
) -> str:
    """'html' | 'text' | 'empty' for already decoded text."""
    if is_blank(text):
        return "empty"
    head = text[:_HEAD]
    if _STRONG.search(head):
        return "html"
    tags = len(_TAG.findall(head))
    # A few tags suffice when name or header says HTML; otherwise markup must be unmistakable.
    needed = 1 if _says_html(filename, content_type) else 4
    return "html" if tags >= needed else "text"


# Content-Types of data and code, never of an article's text (an API's JSON, a script, a style
# sheet, XML data, a table): the plain-text cleaner would index them as prose.
_DATA_TYPES = (
    "application/json",
    "text/json",
    "application/javascript",
    "application/x-javascript",
    "text/javascript",
    "application/ecmascript",
    "text/css",
    "application/xml",
    "text/xml",
    "text/csv",
    "text/tab-separated-values",
    "text/calendar",
    "text/vcard",
)


def data_content_type(content_type: str | None) -> str | None:
    """The media type when ``content_type`` names data or code rather than text (JSON, +json
    and +xml types but XHTML, scripts, style sheets, CSV, ...), else None."""
    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    if ctype in _HTML_TYPES:
        return None
    if ctype in _DATA_TYPES or ctype.endswith(("+json", "+xml")):
        return ctype
    return None


def is_blank(text: str) -> bool:
    """True when ``text`` holds nothing but whitespace (no-break and zero-width spaces included)."""
    return _VISIBLE.search(text) is None


def _says_html(filename: str | None, content_type: str | None) -> bool:
    name = (filename or "").lower()
    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    return name.endswith(_HTML_NAMES) or ctype in _HTML_TYPES
