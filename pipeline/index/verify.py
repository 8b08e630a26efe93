"""Check every indexed record against its WARC record, and every WARC record against the index."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.db import queries
from pipeline.db.models import Capture, WarcFile
from pipeline.warc.reading import (
    OPEN_SUFFIX,
    TornTailError,
    WarcReadError,
    iter_records,
    read_record,
    verify_record,
    warc_files,
)
from pipeline.warc.record_ids import is_duplicate_id_of
from pipeline.warc.recovery import PARTIAL_SUFFIX

__all__ = ["VerifyReport", "count_unindexed", "verify_archive", "warc_files"]


@dataclass
class VerifyReport:
    checked: int = 0
    files: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    unindexed: int = 0  # records of the WARC files (warcinfo aside) that the index lacks
    notes: list[str] = field(default_factory=list)  # worth knowing, not failures

    @property
    def ok(self) -> bool:
        return not self.problems and not self.unindexed


def verify_archive(session: Session, warc_dir: Path) -> VerifyReport:
    report = VerifyReport()
    indexed: set[str] = set()
    for capture, warc_name in queries.all_captures(session):
        report.checked += 1
        report.files.add(warc_name)
        indexed.add(capture.record_id)
        where = f"{warc_name}:{capture.offset}"
        try:
            stored = read_record(warc_dir, warc_name, capture.offset)
        except WarcReadError as error:
            report.problems.append(f"{where}: {error}")
            continue
        stored_id = stored.ref.record_id
        if stored_id != capture.record_id and not is_duplicate_id_of(
            capture.record_id, stored_id, warc_name, capture.offset
        ):
            report.problems.append(
                f"{where}: record id {stored_id} differs from index {capture.record_id}"
            )
            continue
        if stored.ref.record_type != capture.record_type:
            report.problems.append(f"{where}: record type {stored.ref.record_type} != index")
        if (capture.payload_digest or None) != (stored.ref.payload_digest or None):
            report.problems.append(f"{where}: payload digest differs from the index")
        problems = verify_record(stored)
        if problems and Path(warc_name).is_absolute():
            # An imported record: what the source file was like at import is not a change.
            known = source_anomalies(session, warc_dir, capture.record_id)
            report.notes.extend(
                f"{where}: the source file was like this at import: {problem}"
                for problem in problems
                if problem in known
            )
            problems = [problem for problem in problems if problem not in known]
        report.problems.extend(f"{where}: {problem}" for problem in problems)
    report.unindexed = count_unindexed(warc_dir, indexed, report)
    report.notes.extend(partial_file_notes(warc_dir))
    return report


def source_anomalies(session: Session, warc_dir: Path, record_id: str) -> set[str]:
    """The anomalies an import found in the record ``record_id`` (its metadata record's
    ``source_anomalies``)."""
    statement = (
        select(Capture.offset, WarcFile.name)
        .join(WarcFile, WarcFile.id == Capture.warc_file_id)
        .where(Capture.refers_to == record_id, Capture.record_type == "metadata")
    )
    found: set[str] = set()
    for offset, name in session.execute(statement):
        try:
            fields = json.loads(read_record(warc_dir, name, offset).payload)
        except (WarcReadError, ValueError):
            continue
        if isinstance(fields, dict):
            found.update(str(a) for a in fields.get("source_anomalies") or [])
    return found


def count_unindexed(warc_dir: Path, indexed: set[str], report: VerifyReport) -> int:
    unindexed = 0
    for path in warc_files(warc_dir):
        try:
            for stored in iter_records(path):
                if stored.ref.record_type != "warcinfo" and stored.ref.record_id not in indexed:
                    unindexed += 1
        except TornTailError as torn:
            if path.name.endswith(OPEN_SUFFIX):
                # A crawl still writing it, or killed mid-write: the next crawl recovers it.
                report.notes.append(
                    f"{path.name} ends inside a record at offset {torn.offset} "
                    f"({torn.tail_bytes} bytes): still being written, or left by a killed crawl"
                )
            else:
                report.problems.append(f"{path.name}: {torn}")
        except WarcReadError as error:
            report.problems.append(f"{path.name}: {error}")
    return unindexed


def partial_file_notes(warc_dir: Path) -> list[str]:
    if not Path(warc_dir).is_dir():
        return []
    return [
        f"{path.name}: {path.stat().st_size} bytes of a torn record, cut off a WARC file "
        "when a killed crawl's file was recovered (kept, not read)"
        for path in sorted(Path(warc_dir).glob(f"*{PARTIAL_SUFFIX}"))
    ]
