"""The index database: SQLAlchemy models, Alembic migrations, queries and full-text search.

No Scrapy imports here: the index is usable from any engine and from tests alone.
"""

from __future__ import annotations

from pipeline.db.existing import open_existing
from pipeline.db.migrate import current_revision, head_revision, upgrade_to_head
from pipeline.db.models import (
    Capture,
    Crawl,
    Document,
    Failure,
    LshBand,
    Story,
    StoryKey,
    WarcFile,
)
from pipeline.db.search import QueryError, SearchHit, search_documents
from pipeline.db.session import (
    DatabaseError,
    default_db_url,
    make_engine,
    make_session_factory,
)

__all__ = [
    "Capture",
    "Crawl",
    "DatabaseError",
    "Document",
    "Failure",
    "LshBand",
    "QueryError",
    "SearchHit",
    "Story",
    "StoryKey",
    "WarcFile",
    "current_revision",
    "default_db_url",
    "head_revision",
    "make_engine",
    "make_session_factory",
    "open_existing",
    "search_documents",
    "upgrade_to_head",
]
