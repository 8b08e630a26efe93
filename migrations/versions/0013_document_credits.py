"""Documents keep the outlets their credit lines name (``documents.credits``).

Each copy that joins a near-duplicate group has the group's canonical chosen again, and the
choice counts the credit lines of every member ("originally published by ...",
``pipeline/index/credits.py``). Until now each member's whole text was read and searched for
them every time: the index writer's cost per copy grew with the size of its group (a wire
story copied by hundreds of outlets). ``credits`` holds what the search found, once, when the
document is indexed: the folded outlet names separated by spaces ("" for none). Rows indexed
before this revision have none: their credits are read from the text when they are compared,
and ``scrapy reindex`` stores them.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("credits", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("credits")
