"""Migrations: upgrade/downgrade round trips, models in step with the schema, FTS objects."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Index, Integer, MetaData, Table, inspect

from pipeline.db.base import Base
from pipeline.db.migrate import (
    current_revision,
    downgrade_to,
    head_revision,
    include_object,
    upgrade_to_head,
)
from pipeline.db.session import make_engine

TABLES = {
    "alembic_version",
    "captures",
    "crawls",
    "documents",
    "failures",
    "lsh_bands",
    "stories",
    "story_keys",
    "warc_files",
}


def schema_diff(url: str, metadata: MetaData = Base.metadata) -> list[Any]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={"include_object": include_object, "compare_type": True},
            )
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def user_tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        names = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    # FTS5 shadow tables are implementation details of documents_fts.
    return {name for name in names if not name.startswith("documents_fts_")}


def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    assert current_revision(db_url) is None
    upgrade_to_head(db_url)
    assert current_revision(db_url) == head_revision()
    fts = {"documents_fts"} if db_url.startswith("sqlite") else set()
    assert user_tables(db_url) == TABLES | fts

    downgrade_to(db_url, "base")
    assert current_revision(db_url) is None
    assert user_tables(db_url) == {"alembic_version"}

    upgrade_to_head(db_url)
    assert current_revision(db_url) == head_revision()
    assert user_tables(db_url) == TABLES | fts


def test_stepwise_downgrade(db_url: str) -> None:
    upgrade_to_head(db_url)
    downgrade_to(db_url, "0001")
    assert current_revision(db_url) == "0001"
    assert "lsh_bands" not in user_tables(db_url)
    upgrade_to_head(db_url)
    assert "lsh_bands" in user_tables(db_url)


def test_upgrade_is_idempotent(migrated_url: str) -> None:
    upgrade_to_head(migrated_url)
    assert current_revision(migrated_url) == head_revision()


def test_models_match_migrated_schema(migrated_url: str) -> None:
    assert schema_diff(migrated_url) == []


def test_schema_comparison_detects_drift(migrated_url: str) -> None:
    # Guards the test above: a model change without a migration must show up as a diff.
    drifted = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(drifted)
    Table("extra", drifted, Column("id", Integer, primary_key=True))
    Index("ix_documents_site", drifted.tables["documents"].c.site)
    kinds = {diff[0] for diff in schema_diff(migrated_url, drifted) if isinstance(diff, tuple)}
    assert {"add_table", "add_index"} <= kinds


def test_fts_objects_exist(migrated_url: str) -> None:
    engine = make_engine(migrated_url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                rows = connection.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger'"
                )
                assert {row[0] for row in rows} == {
                    "documents_fts_ai",
                    "documents_fts_ad",
                    "documents_fts_au",
                }
            else:
                columns = {c["name"] for c in inspect(connection).get_columns("documents")}
                assert "search_vector" in columns
                indexes = {i["name"] for i in inspect(connection).get_indexes("documents")}
                assert "ix_documents_search_vector" in indexes
    finally:
        engine.dispose()


def test_sqlite_parent_directory_is_created(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'deep' / 'er' / 'index.sqlite'}"
    upgrade_to_head(url)
    assert (tmp_path / "deep" / "er" / "index.sqlite").is_file()


def test_current_revision_never_creates_a_file(tmp_path: Any) -> None:
    path = tmp_path / "absent.sqlite"
    assert current_revision(f"sqlite:///{path}") is None
    assert not path.exists()


@pytest.mark.parametrize("url", ["mysql://u@h/db", "not a url"])
def test_unsupported_urls_are_refused(url: str) -> None:
    from pipeline.db.session import DatabaseError

    with pytest.raises(DatabaseError):
        upgrade_to_head(url)
