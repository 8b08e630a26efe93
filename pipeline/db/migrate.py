"""Alembic, configured in code: no alembic.ini, the migrations/ folder next to the package."""

from __future__ import annotations

import contextlib
import sqlite3
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import exc
from sqlalchemy.engine import Connection

from pipeline.db.session import DatabaseError, make_engine, parse_url, sqlite_path

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent.parent / "migrations"
# Any fixed number: serialises concurrent upgrades by several PostgreSQL workers.
PG_MIGRATION_LOCK = 0x6E76_6462  # "nvdb"
# Engine-specific full-text objects created by the migrations and absent from the models.
FTS_TABLE_PREFIX = "documents_fts"
FTS_COLUMN = "search_vector"
FTS_INDEX = "ix_documents_search_vector"
# PostgreSQL only (0011): bounds a search to the newest ids (pipeline/db/search_postgresql.py).
NEWEST_IDS_INDEX = "ix_documents_id_brin"


def alembic_config(url: str | None = None) -> Config:
    if not (MIGRATIONS_DIR / "env.py").is_file():
        raise DatabaseError(f"migrations folder not found: {MIGRATIONS_DIR}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        # ConfigParser interpolation would choke on '%' in passwords.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@cache
def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise DatabaseError(f"no migrations in {MIGRATIONS_DIR}")
    return head


def upgrade_to_head(url: str) -> None:
    """Create or upgrade the schema; a no-op when it is current. Used when a crawl starts."""
    run_migration(url, "upgrade", "head")


def downgrade_to(url: str, revision: str) -> None:
    run_migration(url, "downgrade", revision)


def run_migration(url: str, direction: str, revision: str) -> None:
    parsed = parse_url(url)
    path = sqlite_path(parsed) if parsed.get_backend_name() == "sqlite" else None
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        refuse_foreign_sqlite(path)
    engine = make_engine(url)
    try:
        # One transaction for all the steps: PostgreSQL and SQLite both roll DDL back, so a
        # migration that fails part-way leaves the schema it started from.
        with engine.begin() as connection:
            migrate_in_transaction(connection, direction, revision)
    except exc.OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise DatabaseError(f"cannot migrate database {parsed!s}: {reason}") from error
    except exc.DatabaseError as error:
        if parsed.get_backend_name() == "sqlite":
            raise DatabaseError(f"database file is corrupt: {path or parsed}") from error
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise DatabaseError(f"cannot migrate database {parsed!s}: {reason}") from error
    finally:
        engine.dispose()


def refuse_foreign_sqlite(path: Path) -> None:
    """A SQLite file with tables but none of ours is another application's database: creating
    our schema in it (or only switching it to WAL) would change someone else's file. Read
    read-only, before our engine touches it; DatabaseError, nothing written."""
    if not path.is_file() or path.stat().st_size == 0:
        return
    try:
        with contextlib.closing(
            sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
        ) as db:
            names = sorted(
                row[0]
                for row in db.execute(
                    "SELECT name FROM sqlite_master "
                    "WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                )
            )
    except sqlite3.Error:
        return  # not readable as SQLite: the migration says "corrupt" without writing
    if names and "alembic_version" not in names:
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        raise DatabaseError(
            f"not a newsvault database: {path} holds other tables ({shown}); nothing written"
        )


def migrate_in_transaction(connection: Connection, direction: str, revision: str) -> None:
    """Run Alembic's ``direction`` to ``revision`` inside the caller's open transaction.

    Alembic sees the transaction is the caller's and leaves commit or rollback to it, so a
    command can migrate and fill the schema as one unit of work (see `scrapy reindex`).
    """
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_MIGRATION_LOCK})")
    config = alembic_config()
    config.attributes["connection"] = connection
    getattr(command, direction)(config, revision)


def revision_of_connection(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def current_revision(url: str) -> str | None:
    """The schema revision of ``url``; None when it has no schema (or no file, never created)."""
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_path(parsed)
        if path is None or not path.exists():
            return None
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return revision_of_connection(connection)
    finally:
        engine.dispose()


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Hide the per-engine search objects from autogenerate comparisons."""
    if type_ == "table" and name and name.startswith(FTS_TABLE_PREFIX):
        return False
    if type_ == "column" and name == FTS_COLUMN:
        return False
    return not (type_ == "index" and name in (FTS_INDEX, NEWEST_IDS_INDEX))
