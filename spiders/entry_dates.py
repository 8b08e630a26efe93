"""Dates of sitemap and feed entries as sites write them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

DATE_ONLY = re.compile(r"\d{4}(-\d{2}){0,2}")


def parse_entry_date(value: str) -> datetime | None:
    """A W3C datetime (sitemaps, Google News, JSON Feed) or an RFC 822 date (as some sitemaps
    write it), its UTC offset kept; without a zone it is taken as UTC. None if unreadable."""
    text = value.strip()
    if not text:
        return None
    if DATE_ONLY.fullmatch(text):
        text = (text + "-01-01")[:10] if len(text) == 4 else (text + "-01")[:10]
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed
