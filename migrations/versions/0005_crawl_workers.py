"""Crawl rows say which worker wrote them and which scaled-out crawl they belong to.

Several ``scrapy crawl`` workers on one shared frontier (``ARCHIVE_REDIS_URL``) each write a crawl
row of their own. ``shared_crawl_id`` is the crawl row of the first worker of that frontier, the
same on every worker's row, so ``scrapy stats`` shows them as one crawl; ``host`` and ``pid`` name
the worker (as its WARC file names do); ``outcome`` is how the worker ended: Scrapy's finish
reason, or ``died`` when another worker found it dead. No foreign key on ``shared_crawl_id``, as
for ``stories.lead_document_id``: a row would reference itself on insert.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("crawls") as batch:
        batch.add_column(sa.Column("host", sa.String(255), nullable=True))
        batch.add_column(sa.Column("pid", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("shared_crawl_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("outcome", sa.String(32), nullable=True))
        batch.create_index("ix_crawls_shared_crawl_id", ["shared_crawl_id"])


def downgrade() -> None:
    with op.batch_alter_table("crawls") as batch:
        batch.drop_index("ix_crawls_shared_crawl_id")
        batch.drop_column("outcome")
        batch.drop_column("shared_crawl_id")
        batch.drop_column("pid")
        batch.drop_column("host")
