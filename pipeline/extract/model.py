"""What extraction produces. Plain data: no Scrapy, no database."""

from __future__ import annotations

from dataclasses import dataclass, field


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
    published: str | None = None  # ISO 8601 date, only when the source states it
    published_time: str | None = None  # ISO 8601 UTC moment, when the stated date has a time
    site: str | None = None
    description: str | None = None
    language: str | None = None
    canonical_url: str | None = None
    encoding: str | None = None
    removed: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def word_count(self) -> int:
        return len(self.text.split())
