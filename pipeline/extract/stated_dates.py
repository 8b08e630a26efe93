"""A publication date as a publisher wrote it, to one ISO 8601 shape.

The callers choose which strings state a publication date (markup in pipeline.extract.html, a
"Published ..." stamp line in pipeline.extract.text_meta); this module only reads one. ISO 8601
and RFC 2822 values are read exactly; any other wording, in any language dateparser knows
("16. Mai 2024, 09:30 Uhr", "3 juin 2024 à 14h05"), is read by dateparser. The result is the day
("2024-05-16") when no time is stated, else the instant in UTC ("2024-05-16T07:30:00+00:00"),
a value without an offset being taken as UTC, as the index stores every time.

A value must hold a full date with a four-digit year: "yesterday", "2 hours ago" or "May 2024"
would be completed from the current day, and a date is never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime

import dateparser

from pipeline.json_output import iso_time

_ISO_START = re.compile(r"\d{4}-?\d{2}-?\d{2}")
_ISO_DATE_ONLY = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")
_RFC2822 = re.compile(r"(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d{1,2}:\d{2}")
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
# A time of day as people write it: 09:30, 9.30 am, 14h05, 9 Uhr, 10 a.m.
_TIME = re.compile(
    r"(?<![\d.])\d{1,2}\s*(?:[:h.]\s*\d{2}(?!\d{2})|\s*(?:uhr|[ap]\.?m\b\.?))", re.IGNORECASE
)
_FIRST_YEAR = 1900
_DATEPARSER_SETTINGS = {
    "REQUIRE_PARTS": ["day", "month", "year"],
    "STRICT_PARSING": True,
    "PREFER_DATES_FROM": "past",
    "TIMEZONE": "UTC",
    "TO_TIMEZONE": "UTC",
    "RETURN_AS_TIMEZONE_AWARE": True,
}


def stated_date(value: str, *, languages: Sequence[str] | None = None) -> str | None:
    """ISO 8601 of a stated publication date (see the module's rule), or None if unreadable.

    ``languages``: ISO 639-1 codes the value is likely written in (the page's), tried first."""
    text = " ".join(value.split())
    when = _iso(text) if _ISO_START.match(text) else None
    if when is None and _YEAR.search(text):
        when = _rfc2822(text) if _RFC2822.match(text) else _worded(text, languages)
    if when is None or not _FIRST_YEAR <= when.year <= date.today().year + 1:
        return None
    if isinstance(when, datetime):
        return iso_time(when)
    return when.isoformat()


def _iso(text: str) -> date | datetime | None:
    day_only = _ISO_DATE_ONLY.fullmatch(text)
    try:
        if day_only:
            return date(int(day_only[1]), int(day_only[2]), int(day_only[3]))
        parsed = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _rfc2822(text: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _worded(text: str, languages: Sequence[str] | None) -> date | datetime | None:
    parsed = _dateparser(text, languages)
    if parsed is None and languages:
        parsed = _dateparser(text, None)  # the page's language may not be the stamp's
    # "3 hours ago 2024" parses as a relative date: the year read must be the year written.
    if parsed is None or str(parsed.year) not in _YEAR.findall(text):
        return None
    return parsed if _TIME.search(text) else parsed.date()


def _dateparser(text: str, languages: Sequence[str] | None) -> datetime | None:
    try:
        return dateparser.parse(
            text,
            languages=list(languages) if languages else None,
            settings=_DATEPARSER_SETTINGS,  # type: ignore[arg-type]
        )
    # dateparser rejects unknown language codes and some odd strings with assorted errors.
    except (ValueError, TypeError, OverflowError, KeyError):
        return None
