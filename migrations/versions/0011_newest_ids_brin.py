"""PostgreSQL: a BRIN index on ``documents.id``, so that a search can stay among the newest ids.

A ranked search scores the newest 1,000 of its matches. GIN returns matches in no order, so
PostgreSQL fetched every match's row to learn its id: 7,000-9,000 heap pages for two common
words at a million documents, which is most of such a search when the table is larger than
``shared_buffers``. The search now first asks for the matches among the newest ids that should
hold enough of them, and ANDs the GIN bitmap with this index's bitmap of that range, so that only
those rows are fetched. A BRIN index keeps the smallest and largest id of each 128 pages: a few
hundred kB at a million documents, and its bitmap of any range costs next to nothing, where the
primary key's costs a lookup per id. Rows lie in id order (0010 clustered the table and new rows
are appended), which is what makes the ranges narrow. SQLite is unchanged.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 12:15:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # autosummarize: the ranges new rows fill are summarised without waiting for a VACUUM.
        # (An unsummarised range is only lossy: every page of it counts, the GIN bitmap narrows.)
        op.execute(
            "CREATE INDEX ix_documents_id_brin ON documents USING brin (id) "
            "WITH (autosummarize = on)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_documents_id_brin")
