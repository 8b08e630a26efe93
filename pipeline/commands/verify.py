"""`scrapy verify`: read back every indexed record from its WARC file and check its digests."""

from __future__ import annotations

import argparse

from pipeline.command_support import ArchiveCommand
from pipeline.index.verify import verify_archive

MAX_PROBLEMS_SHOWN = 50


class Command(ArchiveCommand):
    def short_desc(self) -> str:
        return "Check every indexed record against its WARC record (digests, ids, offsets)"

    def execute(self, args: list[str], opts: argparse.Namespace) -> None:
        warc_dir = self.config().warc_dir
        with self.session() as session:
            report = verify_archive(session, warc_dir)
        for problem in report.problems[:MAX_PROBLEMS_SHOWN]:
            print(f"PROBLEM {problem}")
        if len(report.problems) > MAX_PROBLEMS_SHOWN:
            print(f"... and {len(report.problems) - MAX_PROBLEMS_SHOWN} more problems")
        status = "OK" if report.ok else f"{len(report.problems)} problem(s)"
        files = len(report.files)
        print(f"verified {report.checked} indexed records in {files} WARC file(s): {status}")
        if report.unindexed:
            print(
                f"{report.unindexed} WARC record(s) are not in the index "
                "(an interrupted crawl?): run `scrapy reindex` to add them"
            )
        if not report.ok:
            self.exitcode = 1
