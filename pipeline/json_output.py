"""The one shape of every `--json` output (README, "JSON output").

Lists (search, dupes, stories, failures) print one JSON object a line; one thing (show, stats)
prints one JSON object. Times are ISO 8601 in UTC with their offset
(``2024-05-14T08:00:00+00:00``), days ``YYYY-MM-DD``; an absent value is ``null``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime


def iso_time(value: datetime) -> str:
    utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return utc.isoformat(timespec="seconds")


def iso_time_or_none(value: datetime | None) -> str | None:
    return None if value is None else iso_time(value)


def iso_day(value: date) -> str:
    return value.isoformat()
