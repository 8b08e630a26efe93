"""The stemmings a query's words need: one for each language the archive holds."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from pipeline.db.search_words import stemmer_name

# The distinct languages by a walk of ix_documents_language (0012): one index lookup for each
# language, however many documents there are (SELECT DISTINCT would read the whole index), and
# a NULL row when some document's language is unknown; one round trip.
_LANGUAGES = text(
    """
    WITH RECURSIVE present(language) AS (
        SELECT min(language) FROM documents
        UNION ALL
        SELECT (SELECT min(language) FROM documents WHERE language > present.language)
        FROM present WHERE present.language IS NOT NULL
    )
    SELECT language FROM present WHERE language IS NOT NULL
    UNION ALL
    SELECT NULL WHERE EXISTS (SELECT 1 FROM documents WHERE language IS NULL)
    """
)


def archive_stemmers(session: Session) -> tuple[str | None, ...]:
    """The stemmers of the archive's languages; None stands for words kept as they are.

    Documents of unknown language count as that of UNKNOWN_LANGUAGE_STEMMER, and so does an
    empty archive (a query then still has one form of each word).
    """
    languages: list[str | None] = list(session.scalars(_LANGUAGES).all())
    if not languages:
        languages.append(None)
    stemmers = {stemmer_name(language) for language in languages}
    return tuple(sorted(stemmers, key=lambda name: name or ""))
