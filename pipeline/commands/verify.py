"""`scrapy verify`: read back every indexed record from its WARC file and check its digests."""

from __future__ import annotations

import argparse

from pipeline.cli.command_support import ArchiveCommand
from pipeline.index.verify import verify_archive

MAX_PROBLEMS_SHOWN = 50


class Command(ArchiveCommand):
    def short_desc(self) -> str:
        return "Check the index against the WARC files: digests, ids, offsets, records not indexed"

    def execute(self, args: list[str], opts: argparse.Namespace) -> None:
        warc_dir = self.config().warc_dir
        with self.session() as session:
            report = verify_archive(session, warc_dir)
        for problem in report.problems[:MAX_PROBLEMS_SHOWN]:
            print(f"PROBLEM {problem}")
        if len(report.problems) > MAX_PROBLEMS_SHOWN:
            print(f"... and {len(report.problems) - MAX_PROBLEMS_SHOWN} more problems")
        for note in report.notes:
            print(f"note: {note}")
        failures = len(report.problems) + (1 if report.unindexed else 0)
        status = "OK" if report.ok else f"{failures} problem(s)"
        files = len(report.files)
        print(f"verified {report.checked} indexed records in {files} WARC file(s): {status}")
        if report.unindexed:
            count = report.unindexed
            records = (
                "1 record in the WARC files is"
                if count == 1
                else f"{count} records in the WARC files are"
            )
            print(f"{records} not in the index: run a crawl to recover them or `scrapy reindex`")
        if not report.ok:
            self.exitcode = 1
