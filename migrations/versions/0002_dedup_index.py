"""Near-duplicate and story indexes: LSH band hashes and story keys.

Candidate lookup for both is one indexed query: (band, hash) for near-duplicates, key for stories.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-01 00:00:01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lsh_bands",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("band", sa.SmallInteger(), nullable=False),
        sa.Column("hash", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("document_id", "band", name=op.f("pk_lsh_bands")),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_lsh_bands_document_id_documents")
        ),
    )
    op.create_index("ix_lsh_bands_band_hash", "lsh_bands", ["band", "hash"])
    op.create_table(
        "story_keys",
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("document_id", "key", name=op.f("pk_story_keys")),
        sa.ForeignKeyConstraint(
            ["story_id"], ["stories.id"], name=op.f("fk_story_keys_story_id_stories")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_story_keys_document_id_documents")
        ),
    )
    op.create_index(op.f("ix_story_keys_key"), "story_keys", ["key"])


def downgrade() -> None:
    op.drop_index(op.f("ix_story_keys_key"), table_name="story_keys")
    op.drop_table("story_keys")
    op.drop_index("ix_lsh_bands_band_hash", table_name="lsh_bands")
    op.drop_table("lsh_bands")
