"""Where `scrapy export -o FILE` may write, and writing there all at once.

An export is written to a scratch file beside its target and renamed over it at the end, so a
failure leaves the old file as it was. A rename replaces whatever has the name: a symbolic link,
a device node (/dev/full, /dev/stdout) or the archive's own index would silently become a plain
file. So the target is checked first: it may only be missing or a regular file, and never a file
the archive owns (its index database, a WARC file, anything in its warc folder) nor any SQLite
database or WARC/ARC file elsewhere (an export never is one; replacing one loses data).
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

SQLITE_MAGIC = b"SQLite format 3\x00"
ARCHIVE_SUFFIXES = (".warc", ".warc.gz", ".warc.open", ".warc.gz.open", ".arc", ".arc.gz")
SQLITE_SIDECARS = ("", "-wal", "-shm", "-journal")
OWNED_NAMES = (".crawl.lock",)


class OutputTargetError(ValueError):
    """The output path is unusable (exit 2): nothing was written."""


class OutputWriteError(Exception):
    """Writing the output failed part way (a full disk, an I/O error): exit 1, nothing replaced."""


def _database_files(db_url: str) -> set[Path]:
    try:
        url = make_url(db_url)
    except ArgumentError:
        return set()
    if url.get_backend_name() != "sqlite" or not url.database:
        return set()
    database = Path(url.database).expanduser().resolve()
    return {database.with_name(database.name + suffix) for suffix in SQLITE_SIDECARS}


def _is_sqlite_database(path: Path) -> bool:
    try:
        with path.open("rb") as existing:
            return existing.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def _archive_owns(resolved: Path, archive_dir: Path, db_url: str) -> bool:
    if resolved in _database_files(db_url):
        return True
    if resolved.is_relative_to(archive_dir / "warc"):
        return True
    if resolved.parent == archive_dir and (
        resolved.name in OWNED_NAMES or resolved.name.startswith("index.sqlite")
    ):
        return True
    return resolved.name.lower().endswith(ARCHIVE_SUFFIXES)


def _describe(mode: int) -> str | None:
    """What an existing non-regular path is, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def check_output_target(path: Path, archive_dir: Path, db_url: str) -> Path:
    """The absolute target to write, or OutputTargetError naming why it may not be replaced."""
    absolute = Path(os.path.abspath(path))
    try:
        mode: int | None = os.lstat(absolute).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as error:
        raise OutputTargetError(f"cannot write {path}: {error.strerror}") from None
    if mode is not None and (kind := _describe(mode)) is not None:
        raise OutputTargetError(f"{path} is {kind}: export writes only to a regular file")
    if not absolute.parent.is_dir():
        raise OutputTargetError(f"no such folder: {absolute.parent}")
    resolved = absolute.parent.resolve() / absolute.name
    if _archive_owns(resolved, archive_dir.resolve(), db_url) or (
        mode is not None and _is_sqlite_database(resolved)
    ):
        raise OutputTargetError(f"{path} is an archive or database file: it is never replaced")
    return resolved


def _new_file_mode() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


@contextmanager
def replacing(target: Path) -> Iterator[Path]:
    """A scratch file beside ``target``, renamed over it when the block ends without error.

    A scratch file that cannot be created is the user's unusable path (OutputTargetError), one
    that cannot be written or renamed is OutputWriteError; either way the scratch is removed.
    """
    try:
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial",
                                        dir=target.parent)  # fmt: skip
    except OSError as error:
        raise OutputTargetError(f"cannot write in {target.parent}: {error.strerror}") from None
    scratch = Path(name)
    try:
        os.fchmod(handle, _new_file_mode())
        os.close(handle)
        yield scratch
        if os.path.lexists(target) and not stat.S_ISREG(os.lstat(target).st_mode):
            raise OutputTargetError(f"{target} changed into a non-regular file: not replaced")
        os.replace(scratch, target)
    except OSError as error:
        raise OutputWriteError(f"writing {target} failed: {error.strerror or error}") from None
    finally:
        scratch.unlink(missing_ok=True)
