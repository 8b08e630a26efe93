"""The index schema: one table per kind of thing the archive knows.

The WARC files are the record of truth; these rows point into them (file, offset, length) and
hold what extraction and duplicate detection derived. Schema changes go through Alembic only.
Full-text search objects (SQLite ``documents_fts`` and its triggers, PostgreSQL
``documents.search_vector`` and its GIN index) are created by the migrations, not declared here,
because they differ per engine.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.db.base import Base, UTCDateTime

# Record types that get a capture row; warcinfo records describe files, not captures.
CAPTURE_RECORD_TYPES = ("resource", "request", "response", "revisit", "conversion", "metadata")
# Record types that hold the source bytes of a document.
SOURCE_RECORD_TYPES = ("resource", "response")
SOURCE_KINDS = ("html", "text")


class Crawl(Base):
    __tablename__ = "crawls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    spider: Mapped[str] = mapped_column(String(64))
    args: Mapped[str] = mapped_column(Text)  # JSON object
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stats: Mapped[str | None] = mapped_column(Text)  # JSON object
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(Integer)
    # Scale-out: the crawl row of the first worker of the shared frontier, on every worker's row.
    shared_crawl_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # Scrapy's finish reason ("finished", "shutdown", ...), or "died" (found dead by a worker).
    outcome: Mapped[str | None] = mapped_column(String(32))


class WarcFile(Base):
    __tablename__ = "warc_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed: Mapped[bool] = mapped_column(Boolean)


class Capture(Base):
    __tablename__ = "captures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[str] = mapped_column(String(64), unique=True)
    record_type: Mapped[str] = mapped_column(String(16))
    warc_file_id: Mapped[int] = mapped_column(ForeignKey("warc_files.id"))
    offset: Mapped[int] = mapped_column(BigInteger)
    length: Mapped[int] = mapped_column(BigInteger)
    uri: Mapped[str] = mapped_column(Text)
    date: Mapped[datetime] = mapped_column(UTCDateTime)
    payload_digest: Mapped[str | None] = mapped_column(String(64), index=True)
    block_digest: Mapped[str | None] = mapped_column(String(64))
    content_type: Mapped[str | None] = mapped_column(String(255))
    http_status: Mapped[int | None] = mapped_column(Integer)
    refers_to: Mapped[str | None] = mapped_column(String(64), index=True)
    crawl_id: Mapped[int | None] = mapped_column(ForeignKey("crawls.id"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), index=True)


class Story(Base):
    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    headline: Mapped[str] = mapped_column(Text)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    size: Mapped[int] = mapped_column(Integer)
    # No foreign key: documents already reference stories, and a cycle would complicate inserts.
    lead_document_id: Mapped[int | None] = mapped_column(Integer)


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    published: Mapped[datetime | None] = mapped_column(UTCDateTime)
    site: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    # Indexed: a search stems its words for each language the archive holds (search_languages).
    language: Mapped[str | None] = mapped_column(String(16), index=True)
    canonical_url: Mapped[str | None] = mapped_column(Text)
    source_kind: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    text_digest: Mapped[str] = mapped_column(String(80), unique=True)
    word_count: Mapped[int] = mapped_column(Integer)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), index=True)
    similarity: Mapped[float | None] = mapped_column(Float)
    # On a near-duplicate group's canonical only: why it was chosen (see index/canonical.py).
    canonical_reason: Mapped[str | None] = mapped_column(String(120))
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id"), index=True)
    # The dedup columns below are deferred: only deciding reads them, by column, and loading
    # a Document for search or export neither needs their kilobytes nor requires the newest
    # of them to exist yet (a search runs on an archive between migrations too).
    minhash: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    story_features: Mapped[str | None] = mapped_column(Text, deferred=True)  # JSON
    # The same features as compared (dedup/story_vectors.py); None in rows older than 0009.
    story_vector: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    # Outlets its credit lines name as the first publisher (index/credits.py), folded and
    # separated by spaces, "" for none; None in rows older than 0013.
    credits: Mapped[str | None] = mapped_column(Text, deferred=True)


class Failure(Base):
    __tablename__ = "failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    crawl_id: Mapped[int | None] = mapped_column(ForeignKey("crawls.id"))
    uri: Mapped[str] = mapped_column(Text)
    stage: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    capture_id: Mapped[int | None] = mapped_column(ForeignKey("captures.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LshBand(Base):
    """One LSH band hash of a document's MinHash signature."""

    __tablename__ = "lsh_bands"
    __table_args__ = (Index("ix_lsh_bands_band_hash", "band", "hash"),)

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    band: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    hash: Mapped[int] = mapped_column(BigInteger)  # signed 64-bit


class StoryKey(Base):
    """A salient key (content word or named entity) of a story member, for candidate lookup."""

    __tablename__ = "story_keys"
    # Lookup is by key within a time window: the window is part of the index.
    __table_args__ = (Index("ix_story_keys_key_seen", "key", "seen"),)

    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id"))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen: Mapped[datetime] = mapped_column(UTCDateTime)  # the member's published or first-seen date
