"""ISO 8601 text to timezone-aware datetimes: the index keeps every time in UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_iso_utc(text: str) -> datetime:
    """A date or datetime in ISO 8601; without an offset it is taken as UTC. ValueError if bad."""
    parsed = datetime.fromisoformat(text.strip())
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
