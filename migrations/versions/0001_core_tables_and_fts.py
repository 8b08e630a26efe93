"""Core tables (crawls, WARC files, captures, documents, failures, stories) and full-text search.

Full-text search differs per engine:
- SQLite: an FTS5 external-content table ``documents_fts`` over documents(title, text), kept in
  sync by insert/update/delete triggers. Note for later migrations: SQLite batch mode recreates a
  table, which drops its triggers, so a batch alter of ``documents`` must recreate them.
- PostgreSQL: a generated ``tsvector`` column ``documents.search_vector`` with a GIN index.
Both tokenise without stemming (``unicode61`` / ``simple``) so the engines agree on matches.

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# tsvector values are limited to 1 MB; index the first part of very long texts only.
PG_FTS_TEXT_CHARS = 300_000

SQLITE_FTS = [
    """
    CREATE VIRTUAL TABLE documents_fts USING fts5(
        title, text, content='documents', content_rowid='id',
        tokenize='unicode61 remove_diacritics 0'
    )
    """,
    """
    CREATE TRIGGER documents_fts_ai AFTER INSERT ON documents BEGIN
        INSERT INTO documents_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
    END
    """,
    """
    CREATE TRIGGER documents_fts_ad AFTER DELETE ON documents BEGIN
        INSERT INTO documents_fts(documents_fts, rowid, title, text)
        VALUES ('delete', old.id, old.title, old.text);
    END
    """,
    # Only title and text feed the index: dedup updates (duplicate_of, story_id) skip it.
    """
    CREATE TRIGGER documents_fts_au AFTER UPDATE OF title, text ON documents BEGIN
        INSERT INTO documents_fts(documents_fts, rowid, title, text)
        VALUES ('delete', old.id, old.title, old.text);
        INSERT INTO documents_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
    END
    """,
    # Rows that existed before this migration (none on a fresh index) enter the index too.
    "INSERT INTO documents_fts(documents_fts) VALUES ('rebuild')",
]

PG_FTS = [
    f"""
    ALTER TABLE documents ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, coalesce(title, '')), 'A')
        || setweight(to_tsvector('simple'::regconfig, left(text, {PG_FTS_TEXT_CHARS})), 'B')
    ) STORED
    """,
    "CREATE INDEX ix_documents_search_vector ON documents USING gin (search_vector)",
]


def timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    create_crawls_and_files()
    create_stories_and_documents()
    create_captures_and_failures()
    statements = SQLITE_FTS if op.get_bind().dialect.name == "sqlite" else PG_FTS
    for statement in statements:
        op.execute(statement)


def create_crawls_and_files() -> None:
    op.create_table(
        "crawls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("spider", sa.String(64), nullable=False),
        sa.Column("args", sa.Text(), nullable=False),
        sa.Column("started_at", timestamp(), nullable=False),
        sa.Column("finished_at", timestamp(), nullable=True),
        sa.Column("stats", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crawls")),
    )
    op.create_table(
        "warc_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", timestamp(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warc_files")),
        sa.UniqueConstraint("name", name=op.f("uq_warc_files_name")),
    )


def create_stories_and_documents() -> None:
    op.create_table(
        "stories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("headline", sa.Text(), nullable=False),
        sa.Column("first_seen", timestamp(), nullable=False),
        sa.Column("last_seen", timestamp(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("lead_document_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stories")),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("author", sa.Text(), nullable=True),
        sa.Column("published", timestamp(), nullable=True),
        sa.Column("site", sa.String(255), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("canonical_url", sa.Text(), nullable=True),
        sa.Column("source_kind", sa.String(8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_digest", sa.String(80), nullable=False),
        sa.Column("word_count", sa.Integer(), nullable=False),
        sa.Column("first_seen", timestamp(), nullable=False),
        sa.Column("duplicate_of", sa.Integer(), nullable=True),
        sa.Column("similarity", sa.Float(), nullable=True),
        sa.Column("story_id", sa.Integer(), nullable=True),
        sa.Column("minhash", sa.LargeBinary(), nullable=True),
        sa.Column("story_features", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("text_digest", name=op.f("uq_documents_text_digest")),
        sa.ForeignKeyConstraint(
            ["duplicate_of"], ["documents.id"], name=op.f("fk_documents_duplicate_of_documents")
        ),
        sa.ForeignKeyConstraint(
            ["story_id"], ["stories.id"], name=op.f("fk_documents_story_id_stories")
        ),
    )
    op.create_index(op.f("ix_documents_duplicate_of"), "documents", ["duplicate_of"])
    op.create_index(op.f("ix_documents_story_id"), "documents", ["story_id"])


def create_captures_and_failures() -> None:
    op.create_table(
        "captures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("record_type", sa.String(16), nullable=False),
        sa.Column("warc_file_id", sa.Integer(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("date", timestamp(), nullable=False),
        sa.Column("payload_digest", sa.String(64), nullable=True),
        sa.Column("block_digest", sa.String(64), nullable=True),
        sa.Column("content_type", sa.String(255), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("refers_to", sa.String(64), nullable=True),
        sa.Column("crawl_id", sa.Integer(), nullable=True),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_captures")),
        sa.UniqueConstraint("record_id", name=op.f("uq_captures_record_id")),
        sa.ForeignKeyConstraint(
            ["warc_file_id"], ["warc_files.id"], name=op.f("fk_captures_warc_file_id_warc_files")
        ),
        sa.ForeignKeyConstraint(
            ["crawl_id"], ["crawls.id"], name=op.f("fk_captures_crawl_id_crawls")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_captures_document_id_documents")
        ),
    )
    op.create_index(op.f("ix_captures_payload_digest"), "captures", ["payload_digest"])
    op.create_index(op.f("ix_captures_refers_to"), "captures", ["refers_to"])
    op.create_index(op.f("ix_captures_document_id"), "captures", ["document_id"])
    op.create_table(
        "failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("crawl_id", sa.Integer(), nullable=True),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("capture_id", sa.Integer(), nullable=True),
        sa.Column("created_at", timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_failures")),
        sa.ForeignKeyConstraint(
            ["crawl_id"], ["crawls.id"], name=op.f("fk_failures_crawl_id_crawls")
        ),
        sa.ForeignKeyConstraint(
            ["capture_id"], ["captures.id"], name=op.f("fk_failures_capture_id_captures")
        ),
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("documents_fts_au", "documents_fts_ad", "documents_fts_ai"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS documents_fts")
    else:
        op.drop_index("ix_documents_search_vector", table_name="documents")
        op.drop_column("documents", "search_vector")
    # Dependants first: failures -> captures -> documents -> stories.
    op.drop_table("failures")
    op.drop_table("captures")
    op.drop_table("documents")
    op.drop_table("stories")
    op.drop_table("warc_files")
    op.drop_table("crawls")
