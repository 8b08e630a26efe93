"""`scrapy stories [ID]`: stories (one event, many outlets), or one story's members."""

from __future__ import annotations

import argparse
import json

from pipeline.cli.command_support import ArchiveCommand, CommandError, positive_int
from pipeline.commands.dupes import document_id_arg
from pipeline.db import queries
from pipeline.db.models import Document
from pipeline.db.queries_dedup import StoryRow
from pipeline.json_output import iso_time, iso_time_or_none


def _day(document: Document) -> str:
    return (document.published or document.first_seen).date().isoformat()


def member_json(document: Document) -> str:
    row = {
        "id": document.id, "title": document.title, "site": document.site,
        "date": _day(document), "published": iso_time_or_none(document.published),
        "first_seen": iso_time(document.first_seen), "url": document.url,
        "duplicate_of": document.duplicate_of,
    }  # fmt: skip
    return json.dumps(row, ensure_ascii=False)


def member_line(document: Document) -> str:
    copy = f"  (copy of {document.duplicate_of})" if document.duplicate_of else ""
    title = document.title or "(untitled)"
    return f"[{document.id}] {_day(document)}  {title}{copy}  {document.url}"


class Command(ArchiveCommand):
    takes_arguments = True

    def syntax(self) -> str:
        return "[ID] [--limit N] [--json]"

    def short_desc(self) -> str:
        return "List stories, or the members of one story"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--limit", type=positive_int, default=50, help="at most N stories")
        parser.add_argument("--json", action="store_true", help="JSON Lines output")

    def execute(self, args: list[str], opts: argparse.Namespace) -> None:
        story_id = document_id_arg(args, "story")
        with self.session() as session:
            if story_id is None:
                self.print_stories(queries.list_stories(session, limit=opts.limit), opts.json)
                return
            members = queries.story_members(session, story_id)
            if not members:
                raise CommandError(f"no story with ID {story_id}")
            for document in members:
                print(member_json(document) if opts.json else member_line(document))

    def print_stories(self, stories: list[StoryRow], as_json: bool) -> None:
        if not stories and not as_json:
            print("no stories")
        for story in stories:
            if as_json:
                row = {
                    "id": story.story_id, "headline": story.headline, "outlets": story.outlets,
                    "first_seen": iso_time(story.first_seen),
                    "last_seen": iso_time(story.last_seen), "size": story.size,
                }  # fmt: skip
                print(json.dumps(row, ensure_ascii=False))
                continue
            span = f"{story.first_seen.date().isoformat()} .. {story.last_seen.date().isoformat()}"
            print(f"[{story.story_id}] {story.headline}")
            print(f"     {story.size} document(s) | {span} | {', '.join(story.outlets)}")
