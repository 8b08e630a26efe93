"""Dates: ISO 8601 text to UTC datetimes, and the one rule for every since/until.

The index keeps every time in UTC. A ``since``/``until`` bound anywhere (crawl spider arguments,
search, export, failures) is read by ``bound``: a calendar date (2024-05-14, 2024-05 or 2024)
covers that whole period in UTC, both ends included, so ``until=2024-05-14`` keeps an article of
2024-05-14T09:30Z; a bound with a time is that exact instant (UTC unless it gives an offset).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

CALENDAR_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_LAST_MICROSECOND = timedelta(microseconds=1)


def parse_iso_utc(text: str) -> datetime:
    """A date or datetime in ISO 8601; without an offset it is taken as UTC. ValueError if bad."""
    parsed = datetime.fromisoformat(text.strip())
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def bound(value: str, *, end: bool) -> datetime:
    """The instant a since (``end=False``) or until (``end=True``) bound stands for, in UTC.

    A calendar date starts at its first instant (since) or ends at its last one (until); a
    date-time is itself. ValueError if ``value`` is neither."""
    text = value.strip()
    match = CALENDAR_DATE.fullmatch(text)
    if match is None:
        return parse_iso_utc(text).astimezone(UTC)
    year, month, day = int(match[1]), match[2], match[3]
    if not end:
        return datetime(year, int(month or 1), int(day or 1), tzinfo=UTC)
    last_month = int(month or 12)
    last_day = int(day) if day else calendar.monthrange(year, last_month)[1]
    first_instant = datetime(year, last_month, last_day, tzinfo=UTC)
    return first_instant + timedelta(days=1) - _LAST_MICROSECOND


@dataclass(frozen=True)
class DateWindow:
    """Inclusive bounds in UTC; None is unbounded on that side."""

    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def parse(cls, since: str | None, until: str | None) -> DateWindow:
        """ValueError naming nothing: callers say which argument was bad."""
        return cls(
            bound(since, end=False) if since else None,
            bound(until, end=True) if until else None,
        )

    @property
    def is_open(self) -> bool:
        return self.since is None and self.until is None

    def contains(self, when: datetime | None) -> bool:
        """Whether a document of this date is inside; an undated one always is (nothing says
        it falls outside)."""
        if when is None:
            return True
        moment = when.replace(tzinfo=UTC) if when.tzinfo is None else when
        if self.since is not None and moment < self.since:
            return False
        return self.until is None or moment <= self.until
