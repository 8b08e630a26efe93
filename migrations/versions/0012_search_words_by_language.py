"""Search stems each document's words for its own language, the same way on both engines.

Until now both engines Porter-stemmed every language, since FTS5 has no other stemmer, and
each stemmed on its own (FTS5's tokenizer, PostgreSQL's snowball dictionary), which differed on
some words. Now the words come from Python (``pipeline/db/search_words.py``): folded, then
stemmed with the Snowball stemmer of the document's language (English when it is unknown, none
when the language has no stemmer). Both engines index those words as they are:

- SQLite: ``documents_fts`` becomes a contentless FTS5 table (content='') with the ``ascii``
  tokenizer, which keeps every word whole; the triggers feed it the words of
  ``newsvault_search_words(text, language)``, a function every connection of ``make_engine``
  defines. A contentless table deletes a row by being given the words it indexed, which the
  function gives again from the old row. Prefix indexes of 3 and 4 letters as in 0007.
- PostgreSQL: ``documents.search_vector`` is a plain column written with each document (a
  tsvector literal, title words weight A, text words B); the generated column, its function,
  configuration and dictionary of 0004 go. Storage MAIN (0010) and statistics target 1000
  (0008) as before; the table is clustered once more after its rows are rewritten.

Both fill the index from every document, which stems every text once in Python (bench/README.md
has the time at a million documents). The words depend on PyStemmer's Snowball release, pinned
in pyproject.toml: another release changes some stems, and an archive indexed under it is
re-indexed (``reindex``). ``ix_documents_language`` lets a search find the archive's
languages with one index lookup for each.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 18:00:00
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

from pipeline.db.search_words import SQLITE_FUNCTION, pg_search_vector

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PREFIX_LENGTHS = "3 4"
SEARCH_VECTOR_STATISTICS = 1000
FILL_BATCH = 2_000


def _words(row: str) -> str:
    """The title's and text's index words of ``row`` (``new``, ``old`` or ``documents``)."""
    return (
        f"{SQLITE_FUNCTION}({row}.title, {row}.language), "
        f"{SQLITE_FUNCTION}({row}.text, {row}.language)"
    )


# A contentless table is told a row's old words to remove them ('delete' with the same values).
_ADD_NEW = f"INSERT INTO documents_fts(rowid, title, text) VALUES (new.id, {_words('new')});"
_REMOVE_OLD = (
    "INSERT INTO documents_fts(documents_fts, rowid, title, text) "
    f"VALUES ('delete', old.id, {_words('old')});"
)
SQLITE_FTS = [
    f"""
    CREATE VIRTUAL TABLE documents_fts USING fts5(
        title, text, content='', tokenize='ascii', prefix='{PREFIX_LENGTHS}'
    )
    """,
    f"CREATE TRIGGER documents_fts_ai AFTER INSERT ON documents BEGIN {_ADD_NEW} END",
    f"CREATE TRIGGER documents_fts_ad AFTER DELETE ON documents BEGIN {_REMOVE_OLD} END",
    # Only title, text and language make the words: dedup updates (duplicate_of, story_id)
    # skip it.
    "CREATE TRIGGER documents_fts_au AFTER UPDATE OF title, text, language ON documents "
    f"BEGIN {_REMOVE_OLD} {_ADD_NEW} END",
    f"INSERT INTO documents_fts(rowid, title, text) SELECT id, {_words('documents')} FROM documents",
]
PG_VECTOR_COLUMN = [
    "DROP INDEX IF EXISTS ix_documents_search_vector",
    "ALTER TABLE documents DROP COLUMN search_vector",
    "ALTER TABLE documents ADD COLUMN search_vector tsvector",
    "ALTER TABLE documents ALTER COLUMN search_vector SET STORAGE MAIN",
    f"ALTER TABLE documents ALTER COLUMN search_vector SET STATISTICS {SEARCH_VECTOR_STATISTICS}",
]
PG_DROP_0004_OBJECTS = [
    "DROP FUNCTION newsvault_search_text(text)",
    "DROP TEXT SEARCH CONFIGURATION newsvault_search",
    "DROP TEXT SEARCH DICTIONARY newsvault_porter",
]
PG_INDEX_VECTORS = [
    # The fill rewrote every row: lay them out in id order again, the order searches walk.
    "CLUSTER documents USING pk_documents",
    "CREATE INDEX ix_documents_search_vector ON documents USING gin (search_vector)",
    "ANALYZE documents",
]


def _earlier(name: str) -> ModuleType:
    """An earlier revision's module, for the definitions a downgrade restores."""
    path = Path(__file__).with_name(name)
    spec = importlib.util.spec_from_file_location(f"newsvault_migration_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fill_pg_vectors() -> None:
    """Every document's search_vector, written in batches in id order."""
    connection = op.get_bind()
    read = sa.text(
        "SELECT id, title, text, language FROM documents WHERE id > :after ORDER BY id LIMIT :n"
    )
    write = sa.text("UPDATE documents SET search_vector = CAST(:vector AS tsvector) WHERE id = :id")
    after = 0
    while rows := connection.execute(read, {"after": after, "n": FILL_BATCH}).all():
        connection.execute(
            write,
            [
                {"id": row.id, "vector": pg_search_vector(row.title, row.text, row.language)}
                for row in rows
            ],
        )
        after = rows[-1].id


def upgrade() -> None:
    op.create_index("ix_documents_language", "documents", ["language"])
    if op.get_bind().dialect.name == "sqlite":
        for statement in [*_earlier("0007_search_prefix_index.py").DROP_FTS, *SQLITE_FTS]:
            op.execute(statement)
        return
    for statement in PG_VECTOR_COLUMN:
        op.execute(statement)
    _fill_pg_vectors()
    for statement in [*PG_INDEX_VECTORS, *PG_DROP_0004_OBJECTS]:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        prefix_index = _earlier("0007_search_prefix_index.py")
        for statement in prefix_index.fts(f", prefix='{prefix_index.PREFIX_LENGTHS}'"):
            op.execute(statement)
    else:
        stemming = _earlier("0004_search_stemming_and_accents.py")
        statements = stemming.PG_SEARCH_OBJECTS + stemming.pg_search_vector(
            "'newsvault_search'::regconfig", "newsvault_search_text({})"
        )
        for statement in [*statements, *PG_VECTOR_COLUMN[3:], *PG_INDEX_VECTORS[:1]]:
            op.execute(statement)
        op.execute("ANALYZE documents")
    op.drop_index("ix_documents_language", table_name="documents")
