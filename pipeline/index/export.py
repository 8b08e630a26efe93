"""Documents with their metadata as JSON Lines, a JSON array or CSV, to a file or stdout."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from sqlalchemy.orm import Session

from pipeline.cli.output_target import replacing
from pipeline.db import queries
from pipeline.db.models import Document
from pipeline.db.queries_core import DocumentSelection
from pipeline.json_output import iso_time

EXPORT_FIELDS = (
    "id", "url", "title", "author", "published", "site", "language", "description",
    "canonical_url", "source_kind", "word_count", "text_digest", "first_seen", "duplicate_of",
    "similarity", "story_id", "text",
)  # fmt: skip
TEXT_FORMATS = ("jsonl", "json", "csv")


def document_row(document: Document) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for name in EXPORT_FIELDS:
        value = getattr(document, name)
        row[name] = iso_time(value) if name in ("published", "first_seen") and value else value
    return row


def write_jsonl(rows: Iterable[dict[str, Any]], out: IO[str]) -> int:
    count = 0
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count


def write_json_array(rows: Iterable[dict[str, Any]], out: IO[str]) -> int:
    """One JSON array, an element a line: streamed, never held whole in memory."""
    count = 0
    out.write("[")
    for row in rows:
        out.write(("," if count else "") + "\n" + json.dumps(row, ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def write_csv(rows: Iterable[dict[str, Any]], out: IO[str]) -> int:
    writer = csv.DictWriter(out, fieldnames=list(EXPORT_FIELDS), extrasaction="ignore")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return count


WRITERS = {"jsonl": write_jsonl, "json": write_json_array, "csv": write_csv}


def export_documents(
    session: Session, path: Path | None, fmt: str, selection: DocumentSelection | None = None
) -> int:
    """Write to ``path`` (None: stdout). A file is written under a scratch name and renamed,
    so a failed export leaves no half file; ``path`` has passed `check_output_target`."""
    documents = queries.iter_documents(session, selection=selection)
    rows = (document_row(document) for document in documents)
    write = WRITERS[fmt]
    if path is None:
        count = write(rows, sys.stdout)
        sys.stdout.flush()
        return count
    with replacing(path) as scratch, scratch.open("w", encoding="utf-8", newline="") as out:
        return write(rows, out)
