"""Reading WARC data out of a WACZ, and locations that name a WARC file either way.

Locations of the form ``/abs/file.wacz#archive/name.warc.gz`` name a WARC inside a WACZ;
``open_location`` opens either that or a plain path.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import BinaryIO

WARC_SUFFIXES = (".warc", ".warc.gz")


class WaczError(Exception):
    """A WACZ cannot be written or read; the message says which file and why."""


def wacz_members(path: Path | str) -> list[str]:
    """The WARC files inside a WACZ (its archive/ folder), in zip order."""
    try:
        with zipfile.ZipFile(path) as wacz:
            names = [
                info.filename
                for info in wacz.infolist()
                if info.filename.startswith("archive/") and info.filename.endswith(WARC_SUFFIXES)
            ]
    except (zipfile.BadZipFile, OSError) as error:
        raise WaczError(f"{path}: not a readable WACZ (zip) file: {error}") from error
    if not names:
        raise WaczError(f"{path}: no WARC files in its archive/ folder")
    return names


def split_location(location: str) -> tuple[Path, str | None]:
    """``/x/a.wacz#archive/b.warc.gz`` -> (Path('/x/a.wacz'), 'archive/b.warc.gz')."""
    path, sep, member = location.partition("#")
    if sep and path.lower().endswith(".wacz"):
        return Path(path), member
    return Path(location), None


def open_location(location: str) -> BinaryIO:
    """Open a WARC given as a path or as a WACZ member location, for reading and seeking."""
    path, member = split_location(location)
    if member is None:
        return path.open("rb")
    try:
        wacz = zipfile.ZipFile(path)
        # The member keeps the zip's shared file handle open after the ZipFile object goes.
        return wacz.open(member)  # type: ignore[return-value]
    except (zipfile.BadZipFile, KeyError, OSError) as error:
        raise WaczError(f"{location}: cannot open WARC inside WACZ: {error}") from error


def location_size(location: str) -> int:
    path, member = split_location(location)
    if member is None:
        return path.stat().st_size
    with zipfile.ZipFile(path) as wacz:
        return wacz.getinfo(member).file_size
