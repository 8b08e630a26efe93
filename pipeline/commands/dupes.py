"""`scrapy dupes [ID]`: near-duplicate groups, or one document's group: similarity, and why
the canonical is the original."""

from __future__ import annotations

import argparse
import json
import re

from pipeline.cli.command_support import ArchiveCommand, CommandError, positive_int, shown
from pipeline.db import queries
from pipeline.db.models import Document
from pipeline.db.queries_dedup import DupGroup


def group_json(group: DupGroup) -> dict[str, object]:
    return {
        "canonical": {
            "id": group.canonical.id,
            "title": group.canonical.title,
            "url": group.canonical.url,
            "reason": group.canonical.canonical_reason,
        },
        "members": [
            {
                "id": m.document.id,
                "title": m.document.title,
                "url": m.document.url,
                "similarity": m.similarity,
            }
            for m in group.members
        ],
    }


def group_lines(group: DupGroup) -> list[str]:
    canonical = group.canonical
    why = f"canonical: {canonical.canonical_reason}" if canonical.canonical_reason else "canonical"
    lines = [f"[{canonical.id}] {canonical.title or '(untitled)'}  ({why})  {canonical.url}"]
    for member in group.members:
        similarity = f"{member.similarity:.2f}" if member.similarity is not None else "?"
        doc = member.document
        lines.append(
            f"   [{doc.id}] {doc.title or '(untitled)'}  similarity {similarity}  {doc.url}"
        )
    return lines


# ASCII digits only (str.isdigit accepts "²", which int() rejects) and at most 18 of them, so
# every accepted ID fits the databases' signed 64-bit integers.
_ID = re.compile(r"[0-9]{1,18}")


def document_id_arg(args: list[str], what: str = "document") -> int | None:
    """The one optional ID argument; CommandError for anything but a plain whole number."""
    if not args:
        return None
    if len(args) > 1 or not _ID.fullmatch(args[0].strip()):
        raise CommandError(f"expected one {what} ID (a whole number), got {shown(args)}")
    return int(args[0])


class Command(ArchiveCommand):
    takes_arguments = True

    def syntax(self) -> str:
        return "[ID] [--limit N] [--json]"

    def short_desc(self) -> str:
        return "List near-duplicate groups, or one document's group"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--limit", type=positive_int, default=50, help="at most N groups")
        parser.add_argument("--json", action="store_true", help="JSON Lines output")

    def execute(self, args: list[str], opts: argparse.Namespace) -> None:
        document_id = document_id_arg(args)
        with self.session() as session:
            if document_id is None:
                groups = queries.duplicate_groups(session, limit=opts.limit)
            else:
                if session.get(Document, document_id) is None:
                    raise CommandError(f"no document with ID {document_id}")
                group = queries.duplicate_group(session, document_id)
                groups = [group] if group is not None else []
            rendered = [group_json(g) if opts.json else group_lines(g) for g in groups]
        if opts.json:
            for entry in rendered:
                print(json.dumps(entry, ensure_ascii=False))
            return
        if not rendered:
            print(
                f"document {document_id} has no near-duplicates"
                if document_id
                else "no near-duplicates"
            )
            return
        for lines in rendered:
            print("\n".join(lines))
