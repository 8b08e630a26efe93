"""Documents say why they are the canonical of their near-duplicate group.

``canonical_reason`` is set on a group's canonical only (``rel=canonical of 2 members``,
``published earliest (2024-05-14T09:30:00Z)``, ``fetched first (...)``) and cleared when another
member becomes the canonical; documents without near-duplicates have none. Archives migrated from
0005 keep their groups and show no reason until their next ``scrapy reindex``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 02:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("canonical_reason", sa.String(120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("canonical_reason")
