"""The README's "Schema" section stays true: every table and column it names exists (and every
one that exists is named), and its example queries run on a real crawled archive with the
results they promise."""

from __future__ import annotations

import os
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

from pipeline.db.migrate import upgrade_to_head
from pipeline.db.session import make_engine
from tests.cli import PROJECT_DIR, archive_env, scrapy
from tests.conftest import PG_ENV, PG_SKIP_REASON
from tests.pgdb import fresh_postgres_database

README = (PROJECT_DIR / "README.md").read_text("utf-8")
SEEDS = PROJECT_DIR / "seeds"
FIRST_SEED = SEEDS / "000_45aba19d97436708.txt"
# Not documented as tables: Alembic's bookkeeping and SQLite's FTS5 index (named in the text).
UNDOCUMENTED = re.compile(r"alembic_version|documents_fts.*")


def schema_section() -> str:
    start = README.index("\n## Schema\n")
    return README[start : README.index("\n## ", start + 1)]


def documented_columns() -> dict[tuple[str, ...], dict[str, str]]:
    """(tables of a heading) -> {column: its meaning}, from the section's column tables."""
    found: dict[tuple[str, ...], dict[str, str]] = {}
    for heading, body in re.findall(r"\n### (`.+?)\n(.*?)(?=\n### |\Z)", schema_section(), re.S):
        tables = tuple(re.findall(r"`(\w+)`", heading))
        columns: dict[str, str] = {}
        for cell, meaning in re.findall(r"^\| (`.+?) \| (.+) \|$", body, re.M):
            for name in re.findall(r"`(\w+)`", cell):
                columns[name] = meaning
        found[tables] = columns
    return found


def actual_columns(url: str) -> dict[str, set[str]]:
    engine = make_engine(url)
    try:
        inspector = inspect(engine)
        return {
            table: {column["name"] for column in inspector.get_columns(table)}
            for table in inspector.get_table_names()
            if not UNDOCUMENTED.fullmatch(table)
        }
    finally:
        engine.dispose()


def check_columns(url: str, engine_name: str) -> None:
    actual = actual_columns(url)
    documented = documented_columns()
    assert {t for tables in documented for t in tables} == set(actual)
    for tables, columns in documented.items():
        wanted = {
            name
            for name, meaning in columns.items()
            if engine_name == "postgresql" or "(PostgreSQL only)" not in meaning
        }
        assert wanted == set().union(*(actual[t] for t in tables)), tables


def test_every_table_and_column_is_documented_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'index.sqlite'}"
    upgrade_to_head(url)
    check_columns(url, "sqlite")


def test_every_table_and_column_is_documented_postgresql(migrated_url: str) -> None:
    if not migrated_url.startswith("postgresql"):
        pytest.skip("the SQLite schema is checked above")
    check_columns(migrated_url, "postgresql")


def example_queries() -> list[str]:
    return re.findall(r"```sql\n(.+?)\n```", schema_section(), re.S)


@dataclass(frozen=True)
class Crawled:
    url: str  # the index database

    def run(self, sql: str) -> list[tuple[Any, ...]]:
        engine = make_engine(self.url)
        try:
            with engine.connect() as connection:
                return [tuple(row) for row in connection.execute(text(sql))]
        finally:
            engine.dispose()


def crawl_inbox(root: Path, db_url: str | None) -> Crawled:
    """The seeds, the first seed's text in other bytes (a BOM), its bytes under another name,
    and a copy with one word changed (a near-duplicate), crawled twice."""
    inbox = root / "inbox"
    shutil.copytree(SEEDS, inbox)
    data = FIRST_SEED.read_bytes()
    (inbox / "bom.txt").write_bytes(b"\xef\xbb\xbf" + data)
    (inbox / "copy.txt").write_bytes(data)
    words = data.decode("utf-8").split(" ")
    words[len(words) // 2] = "zeppelin"
    (inbox / "edited.txt").write_text(" ".join(words), "utf-8")
    archive = root / "archive"
    for _ in range(2):
        env = archive_env(archive, db_url)
        result = scrapy("crawl", "files", "-a", f"path={inbox}", env=env)
        assert result.code == 0, result.err[-2000:]
    return Crawled(db_url or f"sqlite:///{archive / 'index.sqlite'}")


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def crawled(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Crawled]:
    root = tmp_path_factory.mktemp("schema")
    if request.param == "postgresql":
        if not os.environ.get(PG_ENV, "").strip():
            pytest.skip(PG_SKIP_REASON)
        with fresh_postgres_database() as url:
            yield crawl_inbox(root, url)
    else:
        yield crawl_inbox(root, None)


def test_three_example_queries_run_as_described(crawled: Crawled) -> None:
    run = crawled.run
    per_outlet, sightings, near_duplicates = example_queries()
    assert run(per_outlet) == [("local", 5)]
    first = run("select document_id from captures where uri like '%/000_%'")[0][0]
    edited = run("select document_id from captures where uri like '%/edited.txt'")[0][0]
    rows = run(sightings)
    kinds = Counter((row[0], row[2]) for row in rows)
    # The first seed: its file and the BOM copy (same text), the copy's bytes and every second
    # sighting are revisits; each other document: one resource and one revisit.
    assert kinds[(first, "resource")] == 2 and kinds[(first, "revisit")] == 4
    assert {doc for doc, _ in kinds} == {row[0] for row in run("select id from documents")}
    assert all(kinds[(doc, "resource")] == 1 for doc, _ in kinds if doc != first)
    # Its first sighting is its original; the BOM copy's resource and the revisits come in the
    # order the extraction workers finished them, so only the first row is fixed.
    assert next(row[2] for row in rows if row[0] == first) == "resource"
    [(copy_id, _title, similarity, canonical, story)] = run(near_duplicates)
    # The two state the same date (or none), so the one fetched first is the original; files
    # are read concurrently, so which one that is comes from the index, not from their names.
    seen = run(f"select id from documents where id in ({first}, {edited}) order by first_seen, id")
    assert (copy_id, canonical) == (seen[1][0], seen[0][0])
    assert isinstance(similarity, float) and 0.75 <= similarity < 1.0
    headline = "select headline from stories s join documents d on d.story_id = s.id where d.id = "
    assert story == run(f"{headline}{first}")[0][0]
