"""The non-text conditions of a search: site, date range and near-duplicate collapsing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, func, or_

from pipeline.db.models import Document
from pipeline.db.search_query import QueryError


@dataclass(frozen=True)
class SearchFilters:
    """``row``: conditions on a document's own columns; ``collapse``: canonicals only.

    They are apart because SQLite reads a documents row past its text to reach duplicate_of;
    the canonical test is cheaper there as "not among the near-duplicates" (an index scan).
    """

    row: tuple[ColumnElement[bool], ...]
    collapse: bool

    def all(self) -> list[ColumnElement[bool]]:
        canonical = [Document.duplicate_of.is_(None)] if self.collapse else []
        return [*self.row, *canonical]


def search_filters(
    site: str | None, since: datetime | None, until: datetime | None, collapse: bool
) -> SearchFilters:
    """``since`` and ``until`` bound coalesce(published, first_seen), both inclusive."""
    if since is not None and until is not None and since > until:
        raise QueryError(f"since ({since.isoformat()}) is after until ({until.isoformat()})")
    row: list[ColumnElement[bool]] = []
    when = func.coalesce(Document.published, Document.first_seen)
    if since is not None:
        row.append(when >= since)
    if until is not None:
        row.append(when <= until)
    if site is not None:
        row.append(site_filter(site))
    return SearchFilters(tuple(row), collapse)


def site_filter(site: str) -> ColumnElement[bool]:
    """documents.site equals ``site``, or the URL's host is ``site`` or www.``site``."""
    wanted = site.strip().lower()
    if not wanted:
        raise QueryError("empty site filter")
    host = (urlsplit(wanted).hostname or "") if "://" in wanted else wanted.rstrip("/")
    host = host.removeprefix("www.")
    url = func.lower(Document.url)
    patterns = [
        f"%://{_escape_like(prefix + host)}{end}"
        for prefix in ("", "www.")
        for end in ("", "/%", ":%", "?%", "#%")
    ]
    by_host = or_(*(url.like(pattern, escape="\\") for pattern in patterns))
    return or_(func.lower(Document.site) == wanted, by_host)


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
