"""What the first pass over imported files learns, so that the second can resolve references."""

from __future__ import annotations

from datetime import UTC, datetime

from pipeline.warc.ref import RecordRef
from spiders.warc_source import ScannedRecord


def parse_warc_date(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


class RecordIndex:
    """What the first pass learns: originals by id, by (uri, date) and by digest; requests."""

    def __init__(self) -> None:
        self.by_id: dict[str, RecordRef] = {}
        self.by_uri_date: dict[tuple[str, str], RecordRef] = {}
        self.by_digest: dict[str, RecordRef] = {}
        self.request_for: dict[str, RecordRef] = {}  # response record id -> its request record
        self.copied: dict[str, RecordRef] = {}  # copy=true: imported record id -> our copy

    def add(self, scanned: ScannedRecord) -> None:
        ref = scanned.ref
        if ref.record_type == "request":
            if scanned.concurrent_to:
                self.request_for[scanned.concurrent_to] = ref
            return
        if ref.record_type == "revisit":
            return
        self.by_id[ref.record_id] = ref
        self.by_uri_date.setdefault((ref.target_uri, ref.date.isoformat()), ref)
        if ref.payload_digest:
            self.by_digest.setdefault(ref.payload_digest, ref)

    def original_of(self, scanned: ScannedRecord) -> RecordRef | None:
        found = self._original_of(scanned)
        return self.copied.get(found.record_id, found) if found is not None else None

    def _original_of(self, scanned: ScannedRecord) -> RecordRef | None:
        ref = scanned.ref
        if ref.refers_to and ref.refers_to in self.by_id:
            return self.by_id[ref.refers_to]
        if scanned.refers_to_uri and scanned.refers_to_date:
            when = parse_warc_date(scanned.refers_to_date)
            found = self.by_uri_date.get((scanned.refers_to_uri, when.isoformat() if when else ""))
            if found is not None:
                return found
        return self.by_digest.get(ref.payload_digest or "")
