"""Record ids the index gives records whose own id cannot serve: duplicates and ARC records.

The index holds each record id once. Some writers give two records one WARC-Record-ID (wget 1.14
to 1.19 did), and ARC records have no id at all (warcio's ARC-to-WARC conversion makes a random
one on every read). Both get an id computed from where the record lies, so an import, ``verify``
and ``reindex`` all arrive at the same one.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import PurePath

MAX_RECORD_ID = 64  # the index's column width
_ARC_NAMESPACE = uuid.UUID("6f0d8a52-3c1e-5b7e-9d2a-4c6b1f0e8a37")


def _place_hash(original: str, location: str, offset: int) -> str:
    return hashlib.sha1(f"{original}\0{location}\0{offset}".encode()).hexdigest()


def duplicate_record_id(original: str, location: str, offset: int) -> str:
    """The id under which a record is indexed whose WARC-Record-ID an earlier record has.

    ``<urn:uuid:X>`` becomes ``<urn:uuid:X#dup-H>`` (H: 10 hex digits of a hash of the id, the
    file and the offset), so the derived id still names the original; ids too long for that
    become ``<urn:newsvault:dup:H>`` with 32 digits.
    """
    digest = _place_hash(original, location, offset)
    inner = original.strip()
    if inner.startswith("<") and inner.endswith(">"):
        inner = inner[1:-1]
    derived = f"<{inner}#dup-{digest[:10]}>"
    if len(derived) <= MAX_RECORD_ID:
        return derived
    return f"<urn:newsvault:dup:{digest[:32]}>"


def is_duplicate_id_of(candidate: str, original: str, location: str, offset: int) -> bool:
    return candidate == duplicate_record_id(original, location, offset)


def arc_record_id(location: str, offset: int) -> str:
    """A stable WARC-Record-ID for the ARC record at ``offset`` of the file ``location``.

    From the file's name (not its folder) and the offset: an ARC file moved elsewhere keeps its
    ids.
    """
    name = PurePath(location.partition("#")[0]).name
    return f"<urn:uuid:{uuid.uuid5(_ARC_NAMESPACE, f'{name}#{offset}')}>"


def is_arc_location(location: str) -> bool:
    return location.lower().endswith((".arc", ".arc.gz"))
