"""`scrapy show ID|URL`: one document's metadata and clean text, or its original bytes."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from pipeline.cli.command_support import ArchiveCommand, CommandError
from pipeline.db import queries
from pipeline.db.models import Document
from pipeline.db.queries_refs import capture_warc_name
from pipeline.json_output import iso_time, iso_time_or_none
from pipeline.warc.reading import read_record


def document_fields(document: Document) -> dict[str, object]:
    return {
        "id": document.id,
        "url": document.url,
        "title": document.title,
        "author": document.author,
        "published": iso_time_or_none(document.published),
        "site": document.site,
        "language": document.language,
        "description": document.description,
        "canonical_url": document.canonical_url,
        "source_kind": document.source_kind,
        "word_count": document.word_count,
        "text_digest": document.text_digest,
        "first_seen": iso_time(document.first_seen),
        "duplicate_of": document.duplicate_of,
        "similarity": document.similarity,
        "story_id": document.story_id,
    }


def file_uris(ident: str) -> list[str]:
    """The file:// URLs a path given on the command line may have been archived under.

    `crawl files` names a file by its absolute path; a path through a symlink may also have been
    archived under its target."""
    if ident.isdecimal() or "://" in ident:
        return []
    path = Path(ident).expanduser()
    try:
        candidates = [Path(os.path.abspath(path)), path.absolute(), path.resolve()]
    except (OSError, RuntimeError, ValueError):
        return []
    return list(dict.fromkeys(candidate.as_uri() for candidate in candidates))


class Command(ArchiveCommand):
    takes_arguments = True

    def syntax(self) -> str:
        return "[--raw | --json] ID|URL|PATH"

    def short_desc(self) -> str:
        return "Show a document: metadata and clean text, or --raw original bytes"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--raw", action="store_true", help="the original bytes from the WARC")
        parser.add_argument(
            "--json", action="store_true", help="metadata, captures and text as JSON"
        )

    def execute(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1 or not args[0].strip():
            raise CommandError("give exactly one document ID, URL or path")
        ident = args[0].strip()
        with self.session() as session:
            document = queries.get_document(session, ident)
            for uri in file_uris(ident):
                if document is None:
                    document = queries.get_document(session, uri)
            if document is None:
                raise CommandError(f"no document with ID, URL or path {ident!r}")
            if opts.raw:
                self.print_raw(session, document)
                return
            fields = document_fields(document)
            captures = [
                {
                    "record_type": c.record_type,
                    "date": iso_time(c.date),
                    "uri": c.uri,
                    "record_id": c.record_id,
                    "warc": f"{capture_warc_name(session, c)}:{c.offset}",
                }
                for c in queries.document_captures(session, document.id)
            ]
            text = document.text
        if opts.json:
            print(json.dumps({**fields, "captures": captures, "text": text}, ensure_ascii=False))
            return
        width = max(len(k) for k in fields)
        for key, value in fields.items():
            if value is not None:
                print(f"{key:<{width}}  {value}")
        print(f"{'captures':<{width}}  {len(captures)}")
        for capture in captures:
            kind, date, warc, uri = (capture[k] for k in ("record_type", "date", "warc", "uri"))
            print(f"  {kind:<10} {date}  {warc}  {uri}")
        print()
        # One paragraph per line in the index; a blank line between them reads better.
        print("\n\n".join(text.split("\n")))

    def print_raw(self, session: object, document: Document) -> None:
        capture = queries.source_capture(session, document.id)  # type: ignore[arg-type]
        if capture is None:
            raise CommandError(f"document {document.id} has no source capture")
        name = capture_warc_name(session, capture)  # type: ignore[arg-type]
        stored = read_record(self.config().warc_dir, name, capture.offset)
        sys.stdout.buffer.write(stored.payload)
        sys.stdout.buffer.flush()
