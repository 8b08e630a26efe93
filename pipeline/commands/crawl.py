"""`scrapy crawl`: Scrapy's command, with one clear line and a telling exit code when it cannot run.

Exit codes (README, "Exit codes"): 0 the crawl ran; 2 its spider name, arguments or inputs are
unusable, and nothing was written; 1 the archive or its database failed.

Both refusals happen before Scrapy starts. The spider name and arguments are checked while the
options are processed, before Scrapy even logs its banner, so a typo prints exactly one line and
writes nothing (no WARC file, no crawl row, no failure row). The archive and its index are then
opened (another crawl holds the SQLite archive, the database is unreachable or not ours, the
archive folder is unwritable: one line and exit 1), where Scrapy would print tracebacks from deep
inside its engine.
"""

from __future__ import annotations

import gc
import logging
import sys
from typing import TYPE_CHECKING, NoReturn

from scrapy import signals
from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError
from scrapy.spiderloader import get_spider_loader
from scrapy.utils.job import job_dir

from pipeline.cli.command_support import add_archive_options, apply_archive_options
from pipeline.config import archive_config
from pipeline.crawl.pipelines import start_extraction_server
from pipeline.crawl.runtime import ArchiveRuntime, ArchiveStartError
from pipeline.crawl.spider_arguments import SpiderArgumentError, check_spider_arguments
from pipeline.index.deciding import policy_from_settings

if TYPE_CHECKING:
    import argparse

ARCHIVE_FAILED_EXIT = 1
UNUSABLE_INPUT_EXIT = 2
# Allocations of container objects between two young-generation collections (Python's 700).
GC_YOUNG_THRESHOLD = 10_000
logger = logging.getLogger(__name__)


def settle_heap() -> None:
    """Once the crawl is set up: what exists now lives as long as the crawl, so the cyclic
    garbage collector stops walking it, and it runs less often.

    A crawl's main process holds some 170,000 objects (Scrapy, Twisted, SQLAlchemy, the
    archive's state) and makes a few hundred short-lived ones per page. Each full collection
    walked all of them (~0.15 s of CPU, several per 1,000 pages) and young collections ran
    every 700 allocations: 0.7 ms of CPU per page, an eighth of the main process's work.
    Reference counting still frees almost everything; only cycles wait for a collection.
    """
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)


def refuse(message: str, exit_code: int) -> NoReturn:
    print(f"newsvault: error: {message}", file=sys.stderr)
    raise SystemExit(exit_code)


class Command(ScrapyCrawlCommand):
    def short_desc(self) -> str:
        return "Archive with a spider: crawl SPIDER [-a NAME=VALUE]..."

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        add_archive_options(self, parser)

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        assert self.settings is not None
        apply_archive_options(self.settings, opts)
        if len(args) != 1:
            raise UsageError("give exactly one spider name", print_help=False)
        # The extraction workers' fork server imports their code while the spider, its
        # arguments and the archive are checked and Scrapy starts (a refusal ends it too).
        start_extraction_server(self.settings)
        self.check_spider(args[0], opts.spargs)
        self.probe_archive()

    def check_spider(self, name: str, arguments: dict[str, str]) -> None:
        """Exit 2 with one line for an unknown spider or unusable arguments or inputs."""
        assert self.settings is not None
        loader = get_spider_loader(self.settings)
        try:
            spider_class = loader.load(name)
        except KeyError:
            known = ", ".join(sorted(loader.list()))
            refuse(f"no spider named {name!r} (spiders: {known})", UNUSABLE_INPUT_EXIT)
        try:
            check_spider_arguments(spider_class, self.settings, arguments)
        except SpiderArgumentError as error:
            logger.debug("spider arguments refused", exc_info=True)
            refuse(str(error), UNUSABLE_INPUT_EXIT)

    def probe_archive(self) -> None:
        """Exit 1 with one line when the archive or its index cannot be opened.

        Opened and released here, before Scrapy logs anything; `run` opens it for the crawl.
        """
        assert self.settings is not None
        probe = ArchiveRuntime(
            archive_config(self.settings),
            policy_from_settings(self.settings),
            job_dir(self.settings),
        )
        # As ArchiveRuntime.for_crawler does: the shared frontier is checked with the index.
        probe.redis_url = str(self.settings.get("ARCHIVE_REDIS_URL") or "").strip()
        try:
            probe.preflight()
        except ArchiveStartError as error:
            refuse(str(error), ARCHIVE_FAILED_EXIT)
        finally:
            probe.release()

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.crawler_process is not None
        crawler = self._create_crawler(args[0])
        runtime = ArchiveRuntime.for_crawler(crawler)
        try:
            runtime.preflight()
        except ArchiveStartError as error:
            print(f"newsvault: error: {error}", file=sys.stderr)
            self.exitcode = ARCHIVE_FAILED_EXIT
            return
        # Garbage of the start-up goes now; the rest is frozen once the engine has started.
        gc.collect()
        crawler.signals.connect(settle_heap, signal=signals.engine_started)
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        failure = runtime.start_error or runtime.fatal_error or runtime.close_error
        if failure is not None:
            print(f"newsvault: error: {failure}", file=sys.stderr)
            self.exitcode = ARCHIVE_FAILED_EXIT
        elif self.crawler_process.bootstrap_failed:
            self.exitcode = 1
