"""What the first pass over imported files learns, so that the second can resolve references."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from pipeline.db.queries_core import warc_file_name
from pipeline.warc.record_ids import duplicate_record_id
from pipeline.warc.ref import RecordRef
from spiders.warc_source import ScannedRecord


def parse_warc_date(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


SOURCE_TYPES = frozenset({"response", "resource", "revisit"})


class RecordIndex:
    """What the first pass learns: originals by id, by (uri, date) and by digest; requests; the
    id each record is indexed under (a second record with an id already seen gets a derived one,
    see pipeline.warc.record_ids)."""

    def __init__(self) -> None:
        self.by_id: dict[str, RecordRef] = {}
        self.by_uri_date: dict[tuple[str, str], RecordRef] = {}
        self.by_digest: dict[str, RecordRef] = {}
        self.request_for: dict[str, RecordRef] = {}  # response record id -> its request record
        self.copied: dict[str, RecordRef] = {}  # copy=true: imported record id -> our copy
        self.index_ids: dict[tuple[str, int], str] = {}  # (location, offset) -> indexed id
        self.duplicates: list[tuple[str, str]] = []  # (id as stored, derived id)
        self.requests_by_id: dict[str, RecordRef] = {}
        self.seen_ids: set[str] = set()
        self.sources: set[str] = set()
        # Responses naming their request (wget, wpull: the request does not name the response).
        self.concurrent_of: dict[str, str] = {}

    def add(self, scanned: ScannedRecord) -> None:
        self._assign_id(scanned)
        ref = scanned.ref
        if ref.record_type == "request":
            self.requests_by_id[ref.record_id] = ref
            if scanned.concurrent_to:
                self.request_for.setdefault(scanned.concurrent_to, ref)
            return
        if ref.record_type in SOURCE_TYPES:
            self.sources.add(ref.record_id)
            if scanned.concurrent_to:
                self.concurrent_of[ref.record_id] = scanned.concurrent_to
        if ref.record_type not in ("response", "resource"):
            return
        self.by_id[ref.record_id] = ref
        self.by_uri_date.setdefault((ref.target_uri, ref.date.isoformat()), ref)
        if ref.payload_digest:
            self.by_digest.setdefault(ref.payload_digest, ref)

    def finish(self) -> None:
        """After the first pass: requests named only by their response join that response."""
        for response_id, request_id in self.concurrent_of.items():
            request = self.requests_by_id.get(request_id)
            if request is not None and response_id not in self.request_for:
                self.request_for[response_id] = request

    def attached_requests(self) -> set[str]:
        """Request records captured with their response (the others are items of their own)."""
        return {
            request.record_id
            for response_id, request in self.request_for.items()
            if response_id in self.sources
        }

    def _assign_id(self, scanned: ScannedRecord) -> None:
        ref = scanned.ref
        place = (ref.warc_file, ref.offset)
        if place not in self.index_ids:
            record_id = ref.record_id
            if record_id in self.seen_ids:
                record_id = duplicate_record_id(ref.record_id, ref.warc_file, ref.offset)
                self.duplicates.append((ref.record_id, record_id))
            self.seen_ids.add(ref.record_id)
            self.index_ids[place] = record_id
        self.rename(scanned)

    def avoid_taken(self, indexed: dict[str, str]) -> None:
        """Records whose id the index holds for another file (an earlier import of a copy of
        it, say) get a derived id too, like duplicates within one import."""
        for (location, offset), record_id in list(self.index_ids.items()):
            elsewhere = indexed.get(record_id)
            if elsewhere is not None and elsewhere != warc_file_name(location):
                derived = duplicate_record_id(record_id, location, offset)
                self.index_ids[(location, offset)] = derived
                self.duplicates.append((record_id, derived))
                for table in (self.by_id, self.requests_by_id):
                    if record_id in table and table[record_id].warc_file == location:
                        table[derived] = replace(table.pop(record_id), record_id=derived)
                if record_id in self.sources:
                    self.sources.add(derived)

    def rename(self, scanned: ScannedRecord) -> ScannedRecord:
        """``scanned`` under the id the index knows it by (second pass)."""
        record_id = self.index_ids.get((scanned.ref.warc_file, scanned.ref.offset))
        if record_id is not None and record_id != scanned.ref.record_id:
            scanned.ref = replace(scanned.ref, record_id=record_id)
        return scanned

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
