"""A resumable job's state: the crawls it is made of (``JOBDIR/newsvault-job.json``) and what
they archived, read back from the index and the WARC files. No Scrapy imports.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from pipeline.db import queries
from pipeline.db.queries_refs import capture_warc_name
from pipeline.warc.reading import StoredRecord, read_record

JOB_FILE = "newsvault-job.json"


class JobFileError(Exception):
    """The job folder's state cannot be read or written; the message says which file and why."""


class Job:
    """The crawls that make up one resumable job, kept in ``JOBDIR/newsvault-job.json``."""

    def __init__(self, jobdir: Path) -> None:
        self.path = Path(jobdir) / JOB_FILE

    def crawl_ids(self) -> list[int]:
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as error:
            raise JobFileError(f"cannot read job state {self.path}: {error}") from error
        ids = data.get("crawls") if isinstance(data, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            raise JobFileError(f"job state {self.path} is not a newsvault job file")
        return ids

    def add_crawl(self, crawl_id: int) -> list[int]:
        """Record a crawl as part of the job, durably (written aside, synced, renamed)."""
        ids = [*self.crawl_ids(), crawl_id]
        scratch = self.path.with_name(self.path.name + ".new")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with scratch.open("w", encoding="utf-8") as handle:
                json.dump({"crawls": ids}, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(scratch, self.path)
        except OSError as error:
            raise JobFileError(f"cannot write job state {self.path}: {error}") from error
        return ids


@dataclass(frozen=True)
class ArchivedPage:
    record_type: str  # response, resource or revisit
    warc_file: str
    offset: int
    refers_to: str | None  # the original record of a revisit


def archived_pages(session: Session, crawl_ids: list[int]) -> dict[str, ArchivedPage]:
    """The latest capture of every URI the given crawls archived."""
    return {
        uri: ArchivedPage(record_type, name, offset, refers_to)
        for uri, record_type, name, offset, refers_to in queries.source_captures_of_crawls(
            session, crawl_ids
        )
    }


def stored_source(session: Session, warc_dir: Path, page: ArchivedPage) -> StoredRecord:
    """The record holding the page's bytes: the page's own, or a revisit's original."""
    if page.record_type != "revisit" or not page.refers_to:
        return read_record(warc_dir, page.warc_file, page.offset)
    original = queries.capture_by_record_id(session, page.refers_to)
    if original is None:
        raise LookupError(f"the original {page.refers_to} of a revisit is not indexed")
    return read_record(warc_dir, capture_warc_name(session, original), original.offset)
