"""One crawl at a time on an archive whose index is a SQLite file.

SQLite takes one writer at a time: two crawls on one archive would fight over the file lock
("database is locked") and lose items. The second crawl is refused at start with one clear line
instead. The lock is an advisory ``flock`` on ``ARCHIVE_DIR/.crawl.lock``: the kernel drops it
when its process dies, so a killed crawl never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_NAME = ".crawl.lock"


class ArchiveBusyError(Exception):
    """Another crawl is writing to this archive; the message says which process."""

    def __init__(self, message: str, holder: str) -> None:
        super().__init__(message)
        self.holder = holder  # the pid written into the lock file, or "?"


class ArchiveLock:
    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, archive_dir: Path) -> ArchiveLock:
        path = Path(archive_dir) / LOCK_NAME
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise ArchiveBusyError(
                f"another crawl (pid {holder}) is writing to the archive {archive_dir}: wait for "
                "it to finish, or use PostgreSQL (ARCHIVE_DB_URL) to run several crawls at once",
                holder,
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return cls(path, fd)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None
