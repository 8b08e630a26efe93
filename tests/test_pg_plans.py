"""PostgreSQL plans a prepared statement for the tables as they are when it runs.

The server's foreign-key checks are prepared statements of this kind (one per row written: a
document's 32 LSH band rows, its story keys, its captures); so are the writer's own statements
once psycopg prepares them. A plan kept from when the documents table was small scans the whole
table on every check: this test prepares the very query a foreign-key check runs.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from pipeline.db.migrate import upgrade_to_head
from pipeline.db.session import make_engine

# The query PostgreSQL's referential-integrity trigger runs for a row referring to documents.
KEY_CHECK = (
    "PREPARE key_check(integer) AS "
    'SELECT 1 FROM ONLY "public"."documents" x WHERE "id" OPERATOR(pg_catalog.=) $1 '
    "FOR KEY SHARE OF x"
)
DOCUMENTS = (
    "INSERT INTO documents (url, source_kind, text, text_digest, word_count, first_seen) "
    "SELECT 'https://example.org/' || n, 'html', repeat('word ', 300), 'digest-' || n, 300, "
    "now() FROM generate_series(1, :count) AS n"
)


def _plan(connection: Connection, document_id: int) -> str:
    rows = connection.exec_driver_sql(f"EXPLAIN EXECUTE key_check({document_id})").scalars()
    return "\n".join(rows)


def test_checks_prepared_on_a_small_table_use_its_index_once_it_has_grown(pg_url: str) -> None:
    upgrade_to_head(pg_url)
    engine = make_engine(pg_url)
    try:
        # One transaction, as `reindex` fills its new tables: no statistics are ever gathered.
        with engine.connect() as connection:
            connection.exec_driver_sql(
                "INSERT INTO documents (url, source_kind, text, text_digest, word_count, "
                "first_seen) VALUES ('https://example.org/0', 'html', 'word', 'digest-0', 1, now())"
            )
            connection.exec_driver_sql(KEY_CHECK)
            # Past the five runs after which the server may settle on a generic plan.
            for _ in range(10):
                connection.exec_driver_sql("EXECUTE key_check(1)")
            small = _plan(connection, 1)
            connection.execute(text(DOCUMENTS), {"count": 5000})
            grown = _plan(connection, 4000)
    finally:
        engine.dispose()
    assert "Seq Scan on documents" in small  # one row: a scan is the cheaper plan
    assert "Index Scan using pk_documents on documents" in grown, grown
