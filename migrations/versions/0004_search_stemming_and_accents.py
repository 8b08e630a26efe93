"""Search as people expect it: stemmed words, accent-insensitive, alike on both engines.

Both engines now index the same words the same way: runs of letters, marks and digits, case and
the accents of Latin letters folded ("Zürich" = "zurich"), Porter-stemmed ("missiles" =
"missile"). FTS5 has only the Porter stemmer, so PostgreSQL uses the snowball ``porter``
dictionary too (not ``english``, a different algorithm), whatever the document's language.

- SQLite: ``documents_fts`` is recreated with the tokenizer
  ``porter unicode61 remove_diacritics 2 categories 'L* N* Co M*'`` and rebuilt from documents;
  dropping the table drops its triggers, which are recreated as in 0001.
- PostgreSQL: ``newsvault_search_text()`` turns ASCII punctuation into spaces (the default
  parser would otherwise read "example.com", "3.5" or "<b>" as single tokens where FTS5 sees
  words) and removes the accents of Latin letters as FTS5's ``remove_diacritics 2`` does; the
  ``newsvault_search`` configuration stems every word with snowball ``porter``, without stop
  words (FTS5 has none). ``documents.search_vector`` is regenerated with them (the table is
  rewritten once) and its GIN index rebuilt.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# tsvector values are limited to 1 MB; index the first part of very long texts only (as 0001).
PG_FTS_TEXT_CHARS = 300_000
SQLITE_TOKENIZER = "porter unicode61 remove_diacritics 2 categories 'L* N* Co M*'"
SQLITE_TOKENIZER_0001 = "unicode61 remove_diacritics 0"
ASCII_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
# Folded by FTS5's tokenizer but not by PostgreSQL's lower(): final sigma, long s, micro sign.
EXTRA_FOLDS_FROM = "ςſµ"
EXTRA_FOLDS_TO = "σsμ"


def sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def sqlite_fts(tokenizer: str) -> list[str]:
    return [
        f"""
        CREATE VIRTUAL TABLE documents_fts USING fts5(
            title, text, content='documents', content_rowid='id',
            tokenize={sql_literal(tokenizer)}
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
        "INSERT INTO documents_fts(documents_fts) VALUES ('rebuild')",
    ]


SQLITE_DROP_FTS = [
    "DROP TRIGGER IF EXISTS documents_fts_au",
    "DROP TRIGGER IF EXISTS documents_fts_ad",
    "DROP TRIGGER IF EXISTS documents_fts_ai",
    "DROP TABLE IF EXISTS documents_fts",
]

PG_SEARCH_OBJECTS = [
    "CREATE TEXT SEARCH DICTIONARY newsvault_porter (TEMPLATE = snowball, Language = porter)",
    "CREATE TEXT SEARCH CONFIGURATION newsvault_search (COPY = simple)",
    """
    ALTER TEXT SEARCH CONFIGURATION newsvault_search
        ALTER MAPPING FOR asciiword, word, numword, asciihword, hword, numhword,
                          hword_part, hword_asciipart, hword_numpart
        WITH newsvault_porter
    """,
    # NFD splits accented letters into letter + combining marks; the marks following an ASCII
    # letter go (as FTS5 folds them), other scripts' marks stay; NFC recomposes the rest.
    f"""
    CREATE FUNCTION newsvault_search_text(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT normalize(
        regexp_replace(
            normalize(
                translate(
                    value,
                    {sql_literal(ASCII_PUNCTUATION + EXTRA_FOLDS_FROM)},
                    {sql_literal(" " * len(ASCII_PUNCTUATION) + EXTRA_FOLDS_TO)}
                ),
                NFD
            ),
            '([A-Za-z])[\\u0300-\\u036f]+', '\\1', 'g'
        ),
        NFC
    ) $$
    """,
]


def pg_search_vector(config: str, text_of: str) -> list[str]:
    return [
        "DROP INDEX IF EXISTS ix_documents_search_vector",
        "ALTER TABLE documents DROP COLUMN IF EXISTS search_vector",
        f"""
        ALTER TABLE documents ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector({config}, {text_of.format("coalesce(title, '')")}), 'A')
            || setweight(
                to_tsvector({config}, {text_of.format(f"left(text, {PG_FTS_TEXT_CHARS})")}), 'B'
            )
        ) STORED
        """,
        "CREATE INDEX ix_documents_search_vector ON documents USING gin (search_vector)",
    ]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        statements = SQLITE_DROP_FTS + sqlite_fts(SQLITE_TOKENIZER)
    else:
        statements = PG_SEARCH_OBJECTS + pg_search_vector(
            "'newsvault_search'::regconfig", "newsvault_search_text({})"
        )
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        statements = SQLITE_DROP_FTS + sqlite_fts(SQLITE_TOKENIZER_0001)
    else:
        statements = pg_search_vector("'simple'::regconfig", "{}") + [
            "DROP FUNCTION newsvault_search_text(text)",
            "DROP TEXT SEARCH CONFIGURATION newsvault_search",
            "DROP TEXT SEARCH DICTIONARY newsvault_porter",
        ]
    for statement in statements:
        op.execute(statement)
