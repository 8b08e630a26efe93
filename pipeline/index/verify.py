"""Check every indexed record against its WARC record, and every WARC record against the index."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from pipeline.db import queries
from pipeline.warc.reading import WarcReadError, iter_records, read_record, verify_record


@dataclass
class VerifyReport:
    checked: int = 0
    files: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    unindexed: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


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
    return report


def count_unindexed(warc_dir: Path, indexed: set[str], report: VerifyReport) -> int:
    unindexed = 0
    for path in sorted(warc_files(warc_dir)):
        try:
            for stored in iter_records(path):
                if stored.ref.record_type != "warcinfo" and stored.ref.record_id not in indexed:
                    unindexed += 1
        except WarcReadError as error:
            report.problems.append(f"{path.name}: {error}")
    return unindexed


def warc_files(warc_dir: Path) -> list[Path]:
    if not warc_dir.is_dir():
        return []
    patterns = ("*.warc.gz", "*.warc", "*.warc.gz.open", "*.warc.open")
    return sorted({p for pattern in patterns for p in warc_dir.glob(pattern)})
