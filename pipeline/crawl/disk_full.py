"""Telling a full disk from a bad input: the first stops the crawl, the second is a failure row.

A disk that fills up under the archive fails every later item the same way (the WARC writer's
ENOSPC, SQLite's "database or disk is full", PostgreSQL's "could not extend file"). Going on
would turn each remaining input into an error line and end with exit code 0, so the crawl stops
at the first one and `scrapy crawl` exits 1 with one line.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

# Below this a database cannot even open its journal: counted as full.
NEARLY_FULL_BYTES = 64 * 1024
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
# How the database reports it, also as text from the index writer process.
FULL_MESSAGES = (
    "database or disk is full",
    "no space left on device",
    "disk quota exceeded",
    "could not extend file",
)


def is_disk_full(error: BaseException) -> bool:
    """Whether ``error`` (or an error it was raised from) says the disk or quota is full."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in FULL_ERRNOS:
            return True
        text = str(current).lower()
        if any(message in text for message in FULL_MESSAGES):
            return True
        current = current.__cause__ or current.__context__
    return False


def no_space_left(folder: Path) -> bool:
    """Whether the disk under ``folder`` (or its nearest existing parent) is full: SQLite then
    says only "disk I/O error" when it cannot create its -wal or -shm file."""
    for candidate in (folder, *folder.parents):
        try:
            usage = os.statvfs(candidate)
        except OSError:
            continue
        return usage.f_bavail * usage.f_frsize < NEARLY_FULL_BYTES
    return False
