"""Engines and sessions from a database URL: SQLite (embedded default) or PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from pipeline.db.search_words import SQLITE_FUNCTION, sqlite_words

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


def read_only_url(path: Path) -> str:
    """A SQLite URL that reads ``path`` as an immutable file: no -wal or -shm file is made."""
    return f"sqlite:///file:{quote(str(path.absolute()))}?immutable=1&uri=true"


def make_engine(url: str, *, set_wal: bool = True) -> Engine:
    """An engine for ``url``; ``set_wal=False`` for readers of an existing index, which must not
    write to the file (a crawl made it WAL already; another application's file stays as is)."""
    parsed = parse_url(url)
    # PostgreSQL: a pooled connection the server ended (restart, failover, pg_terminate_backend)
    # is found by a ping at checkout and replaced, instead of failing the next transaction.
    options = {"pool_pre_ping": True} if parsed.get_backend_name() == "postgresql" else {}
    try:
        engine = create_engine(parsed, **options)
    except (exc.ArgumentError, exc.NoSuchModuleError) as error:
        raise DatabaseError(f"cannot use database URL {url!r}: {error}") from error
    if parsed.get_backend_name() == "sqlite":
        _configure_sqlite(engine, set_wal=set_wal)
    else:
        _configure_postgresql(engine)
    return engine


def _configure_postgresql(engine: Engine) -> None:
    # A plan for every execution of a prepared statement, made for the tables as they are then.
    # The server otherwise keeps a generic plan for as long as the connection lives, made when
    # the tables were small: the foreign-key checks of every row written (a document's 32 LSH
    # band rows, its story keys and captures) went on scanning the whole documents table long
    # after it had grown, and `reindex`, which refills new tables in one transaction, never
    # saw a better plan (bench/README.md, "PostgreSQL: plans for the tables as they are").
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET plan_cache_mode = force_custom_plan")
        # Committed, or the pool's reset at check-in would roll the setting back.
        dbapi_connection.commit()


def _configure_sqlite(engine: Engine, *, set_wal: bool) -> None:
    # pysqlite's own transaction handling starts transactions late and breaks SAVEPOINT; hand
    # transaction control to SQLAlchemy (the documented recipe), so begin_nested() works too.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        # The full-text index's triggers make its words with it (migration 0012).
        dbapi_connection.create_function(SQLITE_FUNCTION, 2, sqlite_words, deterministic=True)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            # WAL lets query commands read while a crawl writes (an immutable file stays as is).
            if set_wal and "immutable=1" not in str(engine.url):
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
