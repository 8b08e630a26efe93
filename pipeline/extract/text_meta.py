"""Metadata a plain-text page states in its furniture: the byline's author, a "Published" stamp.

Only explicit statements count: a bare date line above the headline is the day the page was
viewed, so it never becomes the publication date, and no date in the article text is read.
"""

from __future__ import annotations

import re

from pipeline.extract.stated_dates import stated_date

BYLINE = re.compile(r"^\s*(?:written\s+)?by\s+(?P<names>.+)$", re.IGNORECASE)
NAME_END = re.compile(r"\s*(?:[,|•·–—]|\s-\s|\bfor\b|\bin\b|\bupdated\b|\bpublished\b).*$", re.I)
# The label of a publication stamp, in the languages whose stamps the cleaner marks as
# "timestamp" (rules/furniture.json); "updated" stamps are not publication dates.
PUBLISHED = re.compile(
    r"^\s*(?:first\s+)?(?:published|posted|veröffentlicht|erschienen|publiée?|publicado|"
    r"pubblicato|gepubliceerd)(?:\s+(?:on|am|le|el|em|il|op))?\s*[:\-]?\s*(?P<when>.+?)"
    r"(?:\s*[|•·]\s*(?:updated|last\s+updated|modified|aktualisiert|mis\s+à\s+jour).*)?$",
    re.IGNORECASE,
)
MAX_AUTHOR_WORDS = 8


def byline_author(removed: tuple[tuple[str, str], ...]) -> str | None:
    for line, kind in removed:
        if "byline" not in kind:
            continue
        match = BYLINE.match(line)
        if match is None:
            continue
        names = NAME_END.sub("", match.group("names")).strip(" .")
        if names and len(names.split()) <= MAX_AUTHOR_WORDS and any(c.isupper() for c in names):
            return names
    return None


def stated_published(
    removed: tuple[tuple[str, str], ...], language: str | None = None
) -> str | None:
    """The date of the first "Published ..." stamp line the cleaner removed, in any language
    dateparser reads ("Veröffentlicht am 16. Mai 2024, 09:30 Uhr"): the day, or the instant in
    UTC when the stamp gives a time (pipeline.extract.stated_dates). Other dates in the text are
    never read. ``language``: the text's, tried first."""
    languages = [language] if language else None
    for line, _kind in removed:
        match = PUBLISHED.match(line)
        if match is None:
            continue
        when = stated_date(_STAMP_TIME.sub(r"\1:\2", match.group("when")), languages=languages)
        if when is not None:
            return when
    return None


# "10.42" as a time of day, as British papers write it
_STAMP_TIME = re.compile(r"\b(\d{1,2})\.(\d{2})\b(?!\.\d)")
