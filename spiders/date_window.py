"""The since/until window of a crawl, on the dates of articles.

A bound given as a calendar date (2024-05-14, or 2024-05, 2024) covers that whole period, and an
article dated with a time is compared by its calendar day as its publisher wrote it (in its own
UTC offset): until=2024-05-14 keeps 2024-05-14T09:30Z and 2024-05-14T23:30-05:00 alike. A bound
with a time is compared instant to instant.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime

from spiders.web_common import parse_when

CALENDAR_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


@dataclass(frozen=True)
class Bound:
    instant: datetime | None  # a bound with a time
    day: date | None  # a bound given as a calendar date: its first (since) or last (until) day


def _bound(value: str | None, name: str, *, last_day: bool) -> Bound:
    parsed = parse_when(value, name)  # raises ArgumentError with the argument's name
    if parsed is None or value is None:
        return Bound(None, None)
    match = CALENDAR_DATE.fullmatch(value.strip())
    if match is None:
        return Bound(parsed, None)
    year, month, day = int(match[1]), match[2], match[3]
    if day is not None:
        return Bound(None, parsed.date())
    if not last_day:
        return Bound(None, date(year, int(month or 1), 1))
    end_month = int(month or 12)
    return Bound(None, date(year, end_month, calendar.monthrange(year, end_month)[1]))


@dataclass(frozen=True)
class DateWindow:
    since: Bound
    until: Bound

    @classmethod
    def parse(cls, since: str | None, until: str | None) -> DateWindow:
        return cls(_bound(since, "since", last_day=False), _bound(until, "until", last_day=True))

    @property
    def is_open(self) -> bool:
        return self.since == Bound(None, None) and self.until == Bound(None, None)

    def contains(self, when: datetime | None) -> bool:
        """Whether an article of this date is inside; an undated one always is (nothing says
        it falls outside)."""
        if when is None:
            return True
        since, until = self.since, self.until
        if since.instant is not None and when < since.instant:
            return False
        if until.instant is not None and when > until.instant:
            return False
        if since.day is not None and when.date() < since.day:
            return False
        return not (until.day is not None and when.date() > until.day)
