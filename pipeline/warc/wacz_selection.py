"""The records of some documents only, copied into one WARC file for a filtered WACZ export.

Each record is copied byte for byte (our records are gzip members of their own; a record of an
imported uncompressed WARC becomes one), so digests and record ids stay what they were.
"""

from __future__ import annotations

import gzip
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import or_, select

from pipeline.db.models import Capture, WarcFile
from pipeline.warc.wacz_reading import open_location

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

GZIP_MAGIC = b"\x1f\x8b"


def document_captures(session: Session, document_ids: Collection[int]) -> list[Capture]:
    """Every record of these documents: sources, revisits (and the originals they refer to),
    conversions and metadata, and the requests and metadata records of their responses."""
    if not document_ids:
        return []
    own = list(session.scalars(select(Capture).where(Capture.document_id.in_(document_ids))))
    record_ids = {capture.record_id for capture in own}
    originals = {c.refers_to for c in own if c.record_type == "revisit" and c.refers_to}
    related = session.scalars(
        select(Capture).where(
            or_(Capture.refers_to.in_(record_ids), Capture.record_id.in_(originals))
        )
    )
    chosen = {capture.id: capture for capture in [*own, *related]}
    return sorted(chosen.values(), key=lambda c: (c.warc_file_id, c.offset))


def source_location(warc_dir: Path, name: str) -> str:
    """Where a warc_files row's records lie: our folder, or the imported file's own path."""
    return name if Path(name.partition("#")[0]).is_absolute() else str(warc_dir / name)


def copy_records(session: Session, warc_dir: Path, captures: list[Capture], target: Path) -> int:

    names = dict(session.execute(select(WarcFile.id, WarcFile.name)).tuples().all())
    written = 0
    with target.open("wb") as out:
        for capture in captures:
            location = source_location(warc_dir, names[capture.warc_file_id])
            with open_location(location) as source:
                source.seek(capture.offset)
                raw = source.read(capture.length)
            out.write(raw if raw.startswith(GZIP_MAGIC) else gzip.compress(raw, mtime=0))
            written += 1
    return written
