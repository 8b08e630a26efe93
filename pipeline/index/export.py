"""Documents with their metadata as JSON Lines or CSV."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from sqlalchemy.orm import Session

from pipeline.db import queries
from pipeline.db.models import Document
from pipeline.output_target import replacing

EXPORT_FIELDS = (
    "id", "url", "title", "author", "published", "site", "language", "description",
    "canonical_url", "source_kind", "word_count", "text_digest", "first_seen", "duplicate_of",
    "similarity", "story_id", "text",
)  # fmt: skip


def document_row(document: Document) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for name in EXPORT_FIELDS:
        value = getattr(document, name)
        row[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return row


def write_jsonl(rows: Iterable[dict[str, Any]], out: IO[str]) -> int:
    count = 0
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(rows: Iterable[dict[str, Any]], out: IO[str]) -> int:
    writer = csv.DictWriter(out, fieldnames=list(EXPORT_FIELDS), extrasaction="ignore")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return count


def export_documents(session: Session, path: Path, fmt: str) -> int:
    """Write to a scratch file and rename, so a failed export leaves no half file.

    ``path`` has passed `check_output_target`.
    """
    rows = (document_row(document) for document in queries.iter_documents(session))
    with replacing(path) as scratch, scratch.open("w", encoding="utf-8", newline="") as out:
        return write_csv(rows, out) if fmt == "csv" else write_jsonl(rows, out)
