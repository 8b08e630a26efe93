"""Where one WARC record lies: what the index keeps of it and what derived records point at."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class RecordRef:
    """Where one WARC record lies, and the headers the index keeps of it."""

    record_id: str  # "<urn:uuid:...>"
    record_type: str  # warcinfo, resource, request, response, revisit, conversion, metadata
    warc_file: str  # file name without directory and without the ".open" suffix
    offset: int  # of the record's gzip member in the file
    length: int  # compressed length of that member
    target_uri: str
    date: datetime  # WARC-Date, timezone-aware UTC
    payload_digest: str | None = None  # "sha1:BASE32"
    block_digest: str | None = None
    content_type: str | None = None
    refers_to: str | None = None  # WARC-Refers-To / WARC-Concurrent-To record id
    http_status: int | None = None
