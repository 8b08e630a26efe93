"""`scrapy reindex` and migrations are all-or-nothing: a failure leaves the old index as it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import inspect

from pipeline.db.migrate import current_revision, run_migration, upgrade_to_head
from pipeline.db.session import DatabaseError, make_engine
from pipeline.warc.writer import WarcWriter
from tests.cli import archive_env, assert_clean_error, scrapy
from tests.test_warc_recovery import HOST, damage_two_thirds_in, write_pages

PAGES = 9


def export_rows(archive: Path, env: dict[str, str]) -> list[dict[str, object]]:
    out = archive / "export.jsonl"
    result = scrapy("export", "-o", str(out), env=env)
    assert result.code == 0, result.err
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    out.unlink()
    return rows


def stats_documents_line(env: dict[str, str]) -> str:
    result = scrapy("stats", env=env)
    assert result.code == 0, result.err
    return next(line for line in result.out.splitlines() if line.lower().startswith("documents"))


@pytest.mark.postgres
def test_failed_reindex_keeps_the_postgresql_index(tmp_path: Path, pg_url: str) -> None:
    archive = tmp_path / "archive"
    with WarcWriter(archive / "warc", prefix="test", host=HOST, pid=1) as writer:
        refs = write_pages(writer, range(PAGES))
    env = archive_env(archive, pg_url)
    first = scrapy("reindex", env=env)
    assert first.code == 0, first.err
    before_rows = export_rows(archive, env)
    before_stats = stats_documents_line(env)
    assert len(before_rows) == PAGES
    warc = archive / "warc" / writer.files[0]
    intact = warc.read_bytes()
    damage_two_thirds_in(warc, refs)

    assert_clean_error(scrapy("reindex", env=env), warc.name, "corrupt gzip data")

    assert export_rows(archive, env) == before_rows
    assert stats_documents_line(env) == before_stats
    warc.write_bytes(intact)
    verify = scrapy("verify", env=env)
    assert verify.code == 0, verify.out + verify.err


def make_table_conflict(url: str) -> None:
    """A table of the name migration 0002 creates second: its first table is made, then it fails."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE story_keys (stray INTEGER)")
    finally:
        engine.dispose()


def test_failed_migration_leaves_the_old_schema(db_url: str) -> None:
    run_migration(db_url, "upgrade", "0001")
    make_table_conflict(db_url)
    with pytest.raises(DatabaseError, match=r"^cannot migrate database .*story_keys"):
        upgrade_to_head(db_url)
    assert current_revision(db_url) == "0001"
    engine = make_engine(db_url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    # 0002 made lsh_bands before it failed on story_keys: rolled back with the rest.
    assert "lsh_bands" not in tables
    assert {"documents", "captures", "story_keys"} <= tables
