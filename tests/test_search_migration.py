"""The search migrations rebuild the full-text index of an existing archive, and can be undone."""

from __future__ import annotations

import random
import string
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from sqlalchemy import Table, insert, text
from sqlalchemy.orm import Session, sessionmaker

from pipeline.db import queries as q
from pipeline.db.migrate import current_revision, downgrade_to, head_revision, run_migration
from pipeline.db.models import Document
from pipeline.db.search import count_matches, search_documents
from pipeline.db.session import make_engine, make_session_factory

TEXTS = {
    "zurich": "Talks in Zürich ended; the ministers left for Genève.",
    "missiles": "Two missiles were launched on Monday.",
    "plain": "Markets were calm.",
}


def session_factory(url: str) -> sessionmaker[Session]:
    return make_session_factory(make_engine(url))


def add(session: Session, **fields: Any) -> int:
    """A document as the code of the schema's revision wrote it: add_document at the head; a
    plain insert before 0012, when PostgreSQL generated the search vector itself."""
    if current_revision(session.get_bind().url.render_as_string(hide_password=False)) == (
        head_revision()
    ):
        return q.add_document(session, **fields)
    documents = cast(Table, Document.__table__)
    written = session.execute(
        insert(documents).values(word_count=0, **fields).returning(documents.c.id)
    )
    return int(written.scalar_one())


def fill(url: str) -> dict[str, int]:
    with session_factory(url)() as session, session.begin():
        return {
            name: add(
                session,
                url=f"https://example.org/{name}",
                title=f"Report {n}",
                source_kind="text",
                text=body,
                text_digest=f"sha256:{n:064d}",
                first_seen=datetime(2024, 1, 1, tzinfo=UTC),
            )
            for n, (name, body) in enumerate(TEXTS.items())
        }


def found(url: str, query: str) -> set[int]:
    with session_factory(url)() as session:
        hits = {hit.document_id for hit in search_documents(session, query)}
        assert count_matches(session, query).documents == len(hits)
        return hits


def old_index_finds(url: str, word: str) -> set[int]:
    """A lookup in the 0001 index: no stemming, no accent folding."""
    if url.startswith("sqlite"):
        sql = "SELECT rowid FROM documents_fts WHERE documents_fts MATCH :word"
    else:
        sql = "SELECT id FROM documents WHERE search_vector @@ to_tsquery('simple', :word)"
    with session_factory(url)() as session:
        return {row[0] for row in session.execute(text(sql), {"word": f'"{word}"'})}


def test_upgrade_from_0003_reindexes_existing_documents(db_url: str) -> None:
    run_migration(db_url, "upgrade", "0003")
    ids = fill(db_url)
    assert old_index_finds(db_url, "zürich") == {ids["zurich"]}
    assert old_index_finds(db_url, "zurich") == set()
    assert old_index_finds(db_url, "missile") == set()

    run_migration(db_url, "upgrade", "head")
    assert current_revision(db_url) == head_revision()
    assert found(db_url, "zurich") == {ids["zurich"]}
    assert found(db_url, "Zürich geneve") == {ids["zurich"]}
    assert found(db_url, "missile") == {ids["missiles"]}
    assert found(db_url, "minister") == {ids["zurich"]}

    # The index still follows inserts, updates and deletes after the rebuild.
    with session_factory(db_url)() as session, session.begin():
        q.update_document(session, ids["plain"], text="A missile test.")
    assert found(db_url, "missiles") == {ids["missiles"], ids["plain"]}
    newer = fill_one(db_url, "Zurich again, without its accent.")
    assert found(db_url, "zürich") == {ids["zurich"], newer}


def fill_one(url: str, body: str) -> int:
    with session_factory(url)() as session, session.begin():
        return add(
            session,
            url="https://example.org/later",
            title="Later",
            source_kind="text",
            text=body,
            text_digest="sha256:" + "f" * 64,
            first_seen=datetime(2024, 2, 1, tzinfo=UTC),
        )


def test_downgrade_restores_the_0001_index(db_url: str) -> None:
    run_migration(db_url, "upgrade", "head")
    ids = fill(db_url)
    downgrade_to(db_url, "0003")
    assert current_revision(db_url) == "0003"
    assert old_index_finds(db_url, "zürich") == {ids["zurich"]}
    assert old_index_finds(db_url, "zurich") == set()
    with session_factory(db_url)() as session:
        if db_url.startswith("sqlite"):
            triggers = session.execute(text("SELECT name FROM sqlite_master WHERE type='trigger'"))
            assert {row[0] for row in triggers} == {
                "documents_fts_ai",
                "documents_fts_ad",
                "documents_fts_au",
            }
        else:
            leftovers = session.execute(
                text(
                    "SELECT cfgname FROM pg_ts_config WHERE cfgname = 'newsvault_search' "
                    "UNION ALL SELECT proname FROM pg_proc WHERE proname = 'newsvault_search_text'"
                )
            )
            assert list(leftovers) == []
    run_migration(db_url, "upgrade", "head")
    assert found(db_url, "zurich") == {ids["zurich"]}


def test_prefix_index_of_0007_answers_like_the_merge(db_url: str) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("0007 changes SQLite's index only")
    run_migration(db_url, "upgrade", "0006")
    ids = fill(db_url)
    before = {query: found(db_url, query) for query in ("zur*", "miss*", "missi*", "mar*")}
    run_migration(db_url, "upgrade", "head")
    with session_factory(db_url)() as session:
        definition = session.execute(
            text("SELECT sql FROM sqlite_master WHERE name = 'documents_fts'")
        ).scalar_one()
    assert "prefix='3 4'" in definition
    after = {query: found(db_url, query) for query in before}
    assert after == before
    assert after["zur*"] == {ids["zurich"]} and after["miss*"] == {ids["missiles"]}
    # The triggers were recreated: a new document is found through the prefix index.
    newer = fill_one(db_url, "Missionaries arrived.")
    assert found(db_url, "miss*") == {ids["missiles"], newer}
    downgrade_to(db_url, "0006")
    assert found(db_url, "miss*") == {ids["missiles"], newer}


def documents_attributes(url: str, field: str) -> dict[str, object]:
    """``field`` of pg_attribute (attstorage, attstattarget, ...) for each column of documents."""
    with session_factory(url)() as session:
        rows = session.execute(
            text(
                f"SELECT attname, {field} FROM pg_attribute "
                "WHERE attrelid = 'documents'::regclass AND attnum > 0 AND NOT attisdropped"
            )
        )
        return {str(name): value for name, value in rows}


def test_0008_keeps_statistics_on_more_words_on_postgresql(db_url: str) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("0008 changes PostgreSQL's statistics only")
    run_migration(db_url, "upgrade", "0007")
    ids = fill(db_url)
    run_migration(db_url, "upgrade", "head")
    assert documents_attributes(db_url, "attstattarget")["search_vector"] == 1000
    with session_factory(db_url)() as session:
        # ANALYZE ran: the column's statistics list the documents' words.
        most_common = session.execute(
            text(
                "SELECT most_common_elems::text::text[] FROM pg_stats "
                "WHERE tablename = 'documents' AND attname = 'search_vector'"
            )
        ).scalar_one()
    assert {"zurich", "missil", "market"} <= set(most_common)
    assert found(db_url, "missile") == {ids["missiles"]}
    downgrade_to(db_url, "0007")
    assert documents_attributes(db_url, "attstattarget")["search_vector"] in (-1, None)


def article_of_distinct_words(seed: int, words: int = 300) -> str:
    """A text whose tsvector is ~5 kB: too large for the row under the default storage, and
    whose letters pglz cannot compress, so the text itself always goes to the TOAST table."""
    rng = random.Random(seed)
    return " ".join(
        "".join(rng.choice(string.ascii_lowercase) for _ in range(7)) for _ in range(words)
    )


def toasted_values(url: str) -> int:
    """How many values of ``documents`` are stored out of line (one chunk_id each)."""
    with session_factory(url)() as session:
        toast = session.execute(
            text(
                "SELECT reltoastrelid::regclass::text FROM pg_class "
                "WHERE oid = 'documents'::regclass"
            )
        ).scalar_one()
        return int(
            session.execute(text(f"SELECT count(DISTINCT chunk_id) FROM {toast}")).scalar_one()
        )


def test_0010_keeps_search_vectors_in_the_row_on_postgresql(db_url: str) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("0010 changes PostgreSQL's storage only")
    run_migration(db_url, "upgrade", "0009")
    older = fill_one(db_url, article_of_distinct_words(1) + " prime minister")
    # Before: the text and the search vector, each out of line.
    assert toasted_values(db_url) == 2

    run_migration(db_url, "upgrade", "head")
    storage = documents_attributes(db_url, "attstorage")
    in_row = {name for name, kind in storage.items() if kind == "m"}
    assert {"search_vector", "url", "title", "text_digest"} <= in_row
    # The upgrade rewrote the row: only its text is left out of line, not its URL either.
    assert toasted_values(db_url) == 1
    with session_factory(db_url)() as session, session.begin():
        newer = q.add_document(
            session,
            url="https://example.org/newer",
            title="Newer",
            source_kind="text",
            text=article_of_distinct_words(2) + " prime minister",
            text_digest="sha256:" + "e" * 64,
            first_seen=datetime(2024, 3, 1, tzinfo=UTC),
        )
    assert toasted_values(db_url) == 2
    assert found(db_url, '"prime minister"') == {older, newer}
    assert found(db_url, '"minister prime"') == set()

    downgrade_to(db_url, "0009")
    assert documents_attributes(db_url, "attstorage")["search_vector"] == "x"
    assert found(db_url, '"prime minister"') == {older, newer}


def newest_ids_index(url: str) -> str | None:
    with session_factory(url)() as session:
        return session.execute(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_documents_id_brin'")
        ).scalar_one_or_none()


def test_0011_adds_a_brin_index_on_document_ids_on_postgresql(db_url: str) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("0011 adds a PostgreSQL index only")
    run_migration(db_url, "upgrade", "0010")
    older = fill_one(db_url, article_of_distinct_words(3) + " harbour bridge")
    assert newest_ids_index(db_url) is None

    run_migration(db_url, "upgrade", "head")
    definition = newest_ids_index(db_url)
    assert definition is not None and "USING brin (id)" in definition
    assert "autosummarize='on'" in definition
    assert found(db_url, '"harbour bridge"') == {older}

    downgrade_to(db_url, "0010")
    assert newest_ids_index(db_url) is None
    assert found(db_url, '"harbour bridge"') == {older}


def test_0012_stems_each_document_for_its_language_and_can_be_undone(db_url: str) -> None:
    run_migration(db_url, "upgrade", "0011")
    with session_factory(db_url)() as session, session.begin():
        ids = {
            name: add(
                session,
                url=f"https://example.org/{name}",
                title=name,
                source_kind="text",
                text=body,
                language=language,
                text_digest=f"sha256:{n:064d}",
                first_seen=datetime(2024, 1, 1, tzinfo=UTC),
            )
            for n, (name, body, language) in enumerate(
                [
                    ("german", "Die Häuser am Fluss wurden überflutet.", "de"),
                    ("english", "The houses by the river were flooded.", "en"),
                    ("unknown", "Houses flooded again.", None),
                ]
            )
        }
    # Before: Porter for every language, which leaves German plurals alone.
    assert porter_index_finds(db_url, "haus") == set()
    assert porter_index_finds(db_url, "house") == {ids["english"], ids["unknown"]}

    run_migration(db_url, "upgrade", "head")
    assert found(db_url, "haus") == {ids["german"]}
    assert found(db_url, "überflutete") == {ids["german"]}
    assert found(db_url, "house") == {ids["english"], ids["unknown"]}
    with session_factory(db_url)() as session:
        if db_url.startswith("sqlite"):
            definition = session.execute(
                text("SELECT sql FROM sqlite_master WHERE name = 'documents_fts'")
            ).scalar_one()
            assert "content=''" in definition and "tokenize='ascii'" in definition
        else:
            generated = session.execute(
                text(
                    "SELECT attgenerated FROM pg_attribute "
                    "WHERE attrelid = 'documents'::regclass AND attname = 'search_vector'"
                )
            ).scalar_one()
            assert generated == ""
    # Rows written after the upgrade are indexed, on PostgreSQL by the writer itself.
    newer = fill_one(db_url, "Weitere Häuser.")
    assert found(db_url, "häuser") == {ids["german"], newer}

    downgrade_to(db_url, "0011")
    assert porter_index_finds(db_url, "house") == {ids["english"], ids["unknown"]}
    assert porter_index_finds(db_url, "haus") == set()


def porter_index_finds(url: str, word: str) -> set[int]:
    """A lookup in the index of 0004-0011: every language Porter-stemmed by the engine."""
    if url.startswith("sqlite"):
        sql = "SELECT rowid FROM documents_fts WHERE documents_fts MATCH :word"
    else:
        sql = (
            "SELECT id FROM documents WHERE search_vector @@ to_tsquery('newsvault_search', :word)"
        )
    with session_factory(url)() as session:
        return {row[0] for row in session.execute(text(sql), {"word": f'"{word}"'})}
