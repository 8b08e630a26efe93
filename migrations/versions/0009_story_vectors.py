"""Documents keep their story features as a vector too (``documents.story_vector``).

The index writer compares each new report with some twenty members of candidate stories. It
read their features from the JSON in ``story_features``; in a large archive those members are
seldom among the recently parsed, and parsing them became most of the writer's time per
report. ``story_vector`` holds the same features as sorted 64-bit term hashes and weights
(``pipeline/dedup/story_vectors.py``), compared without parsing. Rows indexed before this
revision have none: their vector is computed from the JSON when they are compared, and
``scrapy reindex`` stores it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("story_vector", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("story_vector")
