"""Check every indexed record against its WARC record, and every WARC record against the index."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from pipeline.db import queries
from pipeline.warc.reading import (
    OPEN_SUFFIX,
    TornTailError,
    WarcReadError,
    iter_records,
    read_record,
    verify_record,
    warc_files,
)
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
        if stored.ref.record_id != capture.record_id:
            report.problems.append(
                f"{where}: record id {stored.ref.record_id} differs from index {capture.record_id}"
            )
            continue
        if stored.ref.record_type != capture.record_type:
            report.problems.append(f"{where}: record type {stored.ref.record_type} != index")
        if (capture.payload_digest or None) != (stored.ref.payload_digest or None):
            report.problems.append(f"{where}: payload digest differs from the index")
        report.problems.extend(f"{where}: {problem}" for problem in verify_record(stored))
    report.unindexed = count_unindexed(warc_dir, indexed, report)
    report.notes.extend(partial_file_notes(warc_dir))
    return report


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
