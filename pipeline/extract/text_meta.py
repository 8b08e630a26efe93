"""Metadata a plain-text page states in its furniture: the byline's author, a "Published" stamp.

Only explicit statements count: a bare date line above the headline is the day the page was
viewed, so it never becomes the publication date.
"""

from __future__ import annotations

import re
from datetime import datetime

from dateutil import parser as date_parser

BYLINE = re.compile(r"^\s*(?:written\s+)?by\s+(?P<names>.+)$", re.IGNORECASE)
NAME_END = re.compile(r"\s*(?:[,|•·–—]|\s-\s|\bfor\b|\bin\b|\bupdated\b|\bpublished\b).*$", re.I)
PUBLISHED = re.compile(
    r"^\s*(?:first\s+)?(?:published|posted)(?:\s+on)?\s*[:\-]?\s*(?P<when>.+?)"
    r"(?:\s*[|•·]\s*(?:updated|last\s+updated|modified).*)?$",
    re.IGNORECASE,
)
MAX_AUTHOR_WORDS = 8


def byline_author(removed: tuple[tuple[str, str], ...]) -> str | None:
    for line, kind in removed:
        if "byline" not in kind:
            continue
        match = BYLINE.match(line)
        if match is None:
            continue
        names = NAME_END.sub("", match.group("names")).strip(" .")
        if names and len(names.split()) <= MAX_AUTHOR_WORDS and any(c.isupper() for c in names):
            return names
    return None


def stated_published(removed: tuple[tuple[str, str], ...]) -> str | None:
    """ISO date of the first "Published ..." / "Posted on ..." furniture line, if it parses."""
    for line, _kind in removed:
        match = PUBLISHED.match(line)
        if match is None:
            continue
        when = parse_stamp(match.group("when"))
        if when is not None:
            return when.date().isoformat()
    return None


def parse_stamp(text: str) -> datetime | None:
    cleaned = re.sub(r"\b(?:GMT|UTC|BST|CET|EST|EDT|PST|PDT)\b", " ", text)
    cleaned = re.sub(r"\s+at\s+", " ", cleaned)
    cleaned = re.sub(r"\b(\d{1,2})\.(\d{2})\b", r"\1:\2", cleaned)  # "10.42" as a time
    # Only full dates: a lone time or weekday would be completed with today's date.
    if not re.search(r"\b(19|20)\d\d\b", cleaned):
        return None
    try:
        return date_parser.parse(cleaned, fuzzy=True, dayfirst=True)
    except (ValueError, OverflowError):
        return None
