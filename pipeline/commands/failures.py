"""`scrapy failures`: the inputs that ended as failure rows, newest first, with their reasons."""

from __future__ import annotations

import argparse
import json

from pipeline.cli.command_support import ArchiveCommand, CommandError, day_range, positive_int
from pipeline.db import queries
from pipeline.db.models import Failure
from pipeline.json_output import iso_time

# Where an input can fail (ArchiveItem.fail); an archive may hold others (reindexed, imported).
STAGES = ("input", "fetch", "capture", "parse", "extract", "interrupted")


def failure_json(failure: Failure) -> dict[str, object]:
    return {
        "id": failure.id,
        "when": iso_time(failure.created_at),
        "stage": failure.stage,
        "uri": failure.uri,
        "reason": failure.reason,
        "crawl_id": failure.crawl_id,
        "capture_id": failure.capture_id,
    }


def failure_line(failure: Failure) -> str:
    when = iso_time(failure.created_at)
    reason = " ".join(failure.reason.split())  # one line, whatever the reason holds
    return f"{when}  {failure.stage:<8}  {failure.uri}  {reason}"


class Command(ArchiveCommand):
    def syntax(self) -> str:
        return "[--stage S] [--since D] [--until D] [--limit N] [--json]"

    def short_desc(self) -> str:
        return "List failures (when, stage, URI, reason), newest first"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--stage", help="only this stage (input, fetch, extract, ...)")
        parser.add_argument("--since", help="on/after YYYY-MM-DD (or an ISO date-time)")
        parser.add_argument("--until", help="on/before YYYY-MM-DD (or an ISO date-time)")
        parser.add_argument("--limit", type=positive_int, default=100, help="at most N failures")
        parser.add_argument("--json", action="store_true", help="JSON Lines output")

    def execute(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise CommandError(f"unexpected arguments: {' '.join(args)}")
        since, until = day_range(opts.since, opts.until)
        with self.session() as session:
            stages = sorted({*STAGES, *queries.failure_stages(session)})
            if opts.stage is not None and opts.stage not in stages:
                raise CommandError(f"--stage: unknown stage {opts.stage!r} ({', '.join(stages)})")
            rows = queries.failures_matching(
                session, stage=opts.stage, since=since, until=until, limit=opts.limit
            )
            if opts.json:
                for failure in rows:
                    print(json.dumps(failure_json(failure), ensure_ascii=False))
                return
            lines = [failure_line(failure) for failure in rows]
        print("\n".join(lines) if lines else "no failures")
