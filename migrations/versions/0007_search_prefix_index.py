"""SQLite's full-text index keeps prefix indexes of 3 and 4 letters (``prefix='3 4'``).

Without them FTS5 answers ``abcd*`` by merging the doclists of every indexed word starting with
those letters before it can return the newest match; on a million documents that is hundreds of
milliseconds. With them, a 3- or 4-letter prefix is one doclist, read newest first like a word.
Longer prefixes still merge, but fewer words share them. The index grows and each insert writes
the extra entries. ``documents_fts`` is recreated with the option and rebuilt from documents
(the tokenizer of 0004 unchanged); dropping the table drops its triggers, recreated as before.
PostgreSQL is unchanged: its GIN index answers ``abcd:*`` from the ordered list of lexemes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 05:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOKENIZER = "porter unicode61 remove_diacritics 2 categories ''L* N* Co M*''"
PREFIX_LENGTHS = "3 4"

DROP_FTS = [
    "DROP TRIGGER IF EXISTS documents_fts_au",
    "DROP TRIGGER IF EXISTS documents_fts_ad",
    "DROP TRIGGER IF EXISTS documents_fts_ai",
    "DROP TABLE IF EXISTS documents_fts",
]
TRIGGERS = [
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
]


def fts(prefix_option: str) -> list[str]:
    return [
        *DROP_FTS,
        f"""
        CREATE VIRTUAL TABLE documents_fts USING fts5(
            title, text, content='documents', content_rowid='id',
            tokenize='{TOKENIZER}'{prefix_option}
        )
        """,
        *TRIGGERS,
        "INSERT INTO documents_fts(documents_fts) VALUES ('rebuild')",
    ]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in fts(f", prefix='{PREFIX_LENGTHS}'"):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in fts(""):
            op.execute(statement)
