"""`scrapy crawl`: Scrapy's command, with one clear line when the archive cannot be opened.

The archive and its index are opened before Scrapy starts: a crawl whose archive cannot be
opened (another crawl holds the SQLite archive, the database is unreachable or not ours, the
archive folder is unwritable) stops before fetching anything, with one line on stderr and exit
code 1, where Scrapy would print tracebacks from deep inside its engine.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from pipeline.runtime import ArchiveRuntime, ArchiveStartError

if TYPE_CHECKING:
    import argparse

ARCHIVE_FAILED_EXIT = 1


class Command(ScrapyCrawlCommand):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one spider name")
        assert self.crawler_process is not None
        crawler = self._create_crawler(args[0])
        runtime = ArchiveRuntime.for_crawler(crawler)
        try:
            runtime.preflight()
        except ArchiveStartError as error:
            print(f"newsvault: error: {error}", file=sys.stderr)
            self.exitcode = ARCHIVE_FAILED_EXIT
            return
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if runtime.start_error is not None:
            print(f"newsvault: error: {runtime.start_error}", file=sys.stderr)
            self.exitcode = ARCHIVE_FAILED_EXIT
        elif self.crawler_process.bootstrap_failed:
            self.exitcode = 1
