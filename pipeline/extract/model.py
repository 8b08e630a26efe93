"""What extraction produces. Plain data: no Scrapy, no database."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property


class ExtractionError(ValueError):
    """The input holds no article text we can use; ``str(error)`` is the reason shown to users."""


@dataclass(frozen=True)
class ExtractedDocument:
    """Clean article text and metadata of one captured document.

    ``text`` holds the article lines in order, title excluded, one paragraph per line.
    ``removed`` lists the furniture lines the plain-text cleaner dropped, with their kind.
    """

    source_kind: str  # "html" or "text"
    text: str
    title: str | None = None
    author: str | None = None
    # ISO 8601, only when the source states it: the day (2024-05-16), or the instant in UTC
    # (2024-05-16T07:30:00+00:00) when a time of day is stated too
    published: str | None = None
    site: str | None = None
    description: str | None = None
    language: str | None = None  # ISO 639-1: declared by the page, else identified
    canonical_url: str | None = None
    encoding: str | None = None
    removed: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @cached_property
    def word_count(self) -> int:
        # Cached in the instance, so a count taken in the extraction worker travels back with
        # the pickled document instead of splitting a long text again on the reactor thread.
        return len(self.text.split())
