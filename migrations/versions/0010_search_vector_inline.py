"""PostgreSQL keeps ``documents.search_vector`` in the row, not in the TOAST table.

A search tests rows one by one wherever the GIN index cannot answer alone: a phrase (GIN knows
no word positions), a common word listed newest first, the candidates ts_rank scores. Each test
reads the row's whole tsvector. A news article's vector is 2-8 kB and hardly compresses, so
under the default storage (EXTENDED) it was moved out of line, and every test looked it up in
the TOAST table: its index, then two to four chunks. Under storage MAIN it stays in the row
unless the row would not fit in a page (very long texts still go out of line).

The document's short columns (URL, title, digest, ...) get storage MAIN too: once a row holds a
vector it stays above the 2 kB at which PostgreSQL starts moving values out, and it would move
every one of them longer than a TOAST pointer, so that reading a result's URL or filtering by
site would fetch from the TOAST table. The text and the dedup data (minhash, story features)
stay EXTENDED: they go out of line first, as before. The price is a wider heap: statements that
scan the whole table (``stats``) read the vectors' pages too (bench/README.md).

Storage applies to values written from now on, so the upgrade rewrites the table once (CLUSTER
on the primary key, which also lays rows out in id order, the order the search walks); it holds
the table locked while it runs (bench/README.md has the time at a million documents). SQLite is
unchanged: FTS5 keeps positions in its own index.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 09:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IN_ROW_COLUMNS = (
    "search_vector",
    "url",
    "title",
    "author",
    "site",
    "description",
    "language",
    "canonical_url",
    "source_kind",
    "text_digest",
    "canonical_reason",
)


def _set_storage(storage: str) -> None:
    alterations = ", ".join(f"ALTER COLUMN {name} SET STORAGE {storage}" for name in IN_ROW_COLUMNS)
    op.execute(f"ALTER TABLE documents {alterations}")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _set_storage("MAIN")
        # Rewrites every row, which stores the existing values under the new storage.
        op.execute("CLUSTER documents USING pk_documents")
        op.execute("ANALYZE documents")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Rows keep their values where they are until rewritten; both places read the same.
        op.execute("ALTER TABLE documents SET WITHOUT CLUSTER")
        _set_storage("EXTENDED")
