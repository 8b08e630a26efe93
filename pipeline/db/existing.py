"""Opening an index that must already exist at the head revision (query commands, reindex).

Kept apart from session (engines) and migrate (Alembic), which it needs both of.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import exc
from sqlalchemy.engine import URL, Engine

from pipeline.db.migrate import head_revision, revision_of_connection
from pipeline.db.session import (
    SQLITE_HEADER,
    DatabaseError,
    make_engine,
    parse_url,
    read_only_url,
    sqlite_path,
)


def open_existing(url: str) -> Engine:
    """An engine on an existing newsvault index at the head revision; never creates anything."""
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        _check_sqlite_file(parsed)
        path = sqlite_path(parsed)
        if path is not None and not _writable(path):
            # WAL needs its -shm file beside the database: in a folder that cannot take it,
            # read the file as it is (a crawl cannot be writing to it there either).
            url = read_only_url(path)
    engine = make_engine(url, set_wal=False)
    try:
        _check_revision(engine, parsed)
    except BaseException:
        engine.dispose()
        raise
    return engine


def _writable(path: Path) -> bool:
    folder = path.absolute().parent
    try:
        read_only_mount = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False
    return not read_only_mount and os.access(folder, os.W_OK) and os.access(path, os.W_OK)


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
