"""The since/until window of a crawl, on the dates of articles: the one rule of pipeline.dates.

A bound given as a calendar date (2024-05-14, or 2024-05, 2024) covers that whole period in UTC,
both ends included (until=2024-05-14 keeps 2024-05-14T09:30Z), as search, export and failures
read their --since/--until; a bound with a time is compared instant to instant.
"""

from __future__ import annotations

from pipeline.dates import DateWindow, bound
from spiders.web_common import ArgumentError

__all__ = ["DateWindow", "crawl_window"]


def crawl_window(since: str | None, until: str | None) -> DateWindow:
    """The window of the spider arguments; ArgumentError names the bad one."""
    for name, value, end in (("since", since, False), ("until", until, True)):
        if value:
            try:
                bound(value, end=end)
            except ValueError:
                raise ArgumentError(
                    f"{name}: expected an ISO date like 2024-05-14, got {value!r}"
                ) from None
    window = DateWindow.parse(since, until)
    if window.since and window.until and window.since > window.until:
        raise ArgumentError(f"since {since} is after until {until}")
    return window
