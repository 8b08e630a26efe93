"""Story keys carry their member's date, so candidate lookup reads only the time window.

Without it a frequent key (a head of state's name) makes every lookup read all of that key's rows
in the whole archive, and the cost per document grows with the archive.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MEMBER_DATE = (
    "UPDATE story_keys SET seen = (SELECT COALESCE(documents.published, documents.first_seen) "
    "FROM documents WHERE documents.id = story_keys.document_id)"
)


def upgrade() -> None:
    with op.batch_alter_table("story_keys") as batch:
        batch.add_column(sa.Column("seen", sa.DateTime(timezone=True), nullable=True))
    op.execute(MEMBER_DATE)
    with op.batch_alter_table("story_keys") as batch:
        batch.alter_column("seen", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch.drop_index("ix_story_keys_key")
        batch.create_index("ix_story_keys_key_seen", ["key", "seen"])


def downgrade() -> None:
    with op.batch_alter_table("story_keys") as batch:
        batch.drop_index("ix_story_keys_key_seen")
        batch.create_index("ix_story_keys_key", ["key"])
        batch.drop_column("seen")
