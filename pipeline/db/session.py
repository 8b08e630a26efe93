"""Engines and sessions from a database URL: SQLite (embedded default) or PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_HEADER = b"SQLite format 3\x00"
SQLITE_BUSY_TIMEOUT_MS = 30_000


class DatabaseError(Exception):
    """The index database cannot be used; ``str(error)`` is a one-line message for users."""


def default_db_url(archive_dir: str | Path) -> str:
    path = Path(archive_dir).expanduser().resolve() / "index.sqlite"
    return f"sqlite:///{path}"


def parse_url(url: str) -> URL:
    """Parse ``url``, mapping plain PostgreSQL URLs to the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except exc.ArgumentError as error:
        raise DatabaseError(f"invalid database URL: {url!r}") from error
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise DatabaseError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")
    return parsed


def sqlite_path(url: URL) -> Path | None:
    """The file of a SQLite URL, or None for an in-memory database."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return Path(database)


def make_engine(url: str) -> Engine:
    parsed = parse_url(url)
    try:
        engine = create_engine(parsed)
    except (exc.ArgumentError, exc.NoSuchModuleError) as error:
        raise DatabaseError(f"cannot use database URL {url!r}: {error}") from error
    if parsed.get_backend_name() == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling starts transactions late and breaks SAVEPOINT; hand
    # transaction control to SQLAlchemy (the documented recipe), so begin_nested() works too.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            # WAL lets query commands read while a crawl writes.
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    # Rows handed out by query functions stay readable after the caller's commit.
    return sessionmaker(bind=engine, expire_on_commit=False)


def open_existing(url: str) -> Engine:
    """An engine on an existing newsvault index at the head revision; never creates anything."""
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        _check_sqlite_file(parsed)
    engine = make_engine(url)
    try:
        _check_revision(engine, parsed)
    except BaseException:
        engine.dispose()
        raise
    return engine


def _check_sqlite_file(url: URL) -> None:
    path = sqlite_path(url)
    if path is None:
        raise DatabaseError("not a newsvault database (no schema): run a crawl first")
    if not path.exists():
        raise DatabaseError(f"database not found: {path}")
    if path.is_dir():
        raise DatabaseError(f"database path is a directory: {path}")
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as error:
        raise DatabaseError(f"cannot read database {path}: {error.strerror}") from error
    if not header:
        raise DatabaseError("not a newsvault database (no schema): run a crawl first")
    if header != SQLITE_HEADER:
        raise DatabaseError(f"database file is corrupt: {path}")


def _check_revision(engine: Engine, url: URL) -> None:
    # Imported here: migrate imports this module.
    from pipeline.db.migrate import head_revision, revision_of_connection

    where = sqlite_path(url) if url.get_backend_name() == "sqlite" else url.render_as_string()
    try:
        with engine.connect() as connection:
            current = revision_of_connection(connection)
    except exc.OperationalError as error:
        if url.get_backend_name() == "sqlite":
            raise DatabaseError(f"database file is corrupt: {where}") from error
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise DatabaseError(f"cannot connect to database {where}: {reason}") from error
    except exc.DatabaseError as error:
        raise DatabaseError(f"database file is corrupt: {where}") from error
    head = head_revision()
    if current is None:
        raise DatabaseError("not a newsvault database (no schema): run a crawl first")
    if current != head:
        raise DatabaseError(
            f"database schema is at revision {current}, this newsvault needs {head}: "
            "run a crawl (or `upgrade_to_head`) to upgrade it"
        )
