"""Shared fixtures: a fresh index database per test, on SQLite and (when configured) PostgreSQL.

PostgreSQL runs need ARCHIVE_TEST_POSTGRES_URL (e.g. postgresql://postgres@127.0.0.1:5432/test);
each test gets its own freshly created database, dropped afterwards, so repeated and parallel runs
never share rows. Deselect them with ``-m "not postgres"``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from pipeline.db.migrate import upgrade_to_head
from pipeline.db.session import make_engine, make_session_factory

PG_ENV = "ARCHIVE_TEST_POSTGRES_URL"
PG_SKIP_REASON = f"{PG_ENV} is not set: PostgreSQL tests skipped"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"postgres: needs PostgreSQL ({PG_ENV})")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Tests that ask for pg_url are PostgreSQL tests even without an explicit marker.
    for item in items:
        if "pg_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


def _admin_conninfo(url: str) -> str:
    """libpq connection string of the server's configured database (plain postgresql:// form)."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """URL of a new, empty PostgreSQL database that is dropped after the test."""
    base = os.environ.get(PG_ENV, "").strip()
    if not base:
        pytest.skip(PG_SKIP_REASON)
    name = f"nv_test_{uuid.uuid4().hex}"
    conninfo = _admin_conninfo(base)
    try:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as error:
        pytest.fail(f"{PG_ENV} is set but PostgreSQL is unusable ({base}): {error}", pytrace=False)
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database (no schema) on each engine."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'index.sqlite'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def migrated_url(db_url: str) -> str:
    upgrade_to_head(db_url)
    return db_url


@pytest.fixture
def session_factory(migrated_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(migrated_url)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()
