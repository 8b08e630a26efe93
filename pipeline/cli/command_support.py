"""What every query command shares: the archive config, the database, and one-line errors."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.settings import BaseSettings
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from pipeline.archive_settings import SettingError, check_settings
from pipeline.cli.output_target import OutputTargetError, OutputWriteError
from pipeline.cli.strict_options import make_strict
from pipeline.config import ArchiveConfig, archive_config
from pipeline.dates import bound
from pipeline.db.existing import open_existing
from pipeline.db.search import QueryError
from pipeline.db.session import DatabaseError, make_session_factory
from pipeline.warc.reading import WarcReadError

USAGE_EXIT = 2
WRITE_FAILED_EXIT = 1
logger = logging.getLogger(__name__)


class CommandError(Exception):
    """A bad input to a command: printed as one line, exit code 2."""


def command_name(command: ScrapyCommand) -> str:
    """The name Scrapy gives a command: its module's."""
    return type(command).__module__.rsplit(".", 1)[-1]


def add_archive_options(
    command: ScrapyCommand, parser: argparse.ArgumentParser, *, words: bool = False
) -> None:
    """Strict options (pipeline/cli/strict_options.py) and ``--archive DIR``, for every command.

    ``words``: the arguments are search words, which may start with "-" (exclusions)."""
    make_strict(parser, command_name(command), words_may_start_with_dash=words)
    parser.add_argument(
        "--archive",
        metavar="DIR",
        help="the archive folder (default: $ARCHIVE_DIR, else ./archive)",
    )


def apply_archive_options(settings: BaseSettings, opts: argparse.Namespace) -> None:
    """``--archive`` and every ARCHIVE_* setting, typed and checked before anything is opened.

    Raises UsageError (one line, exit 2) for an unknown setting or an unusable value."""
    if opts.archive:
        settings.set("ARCHIVE_DIR", opts.archive, priority="cmdline")
    try:
        check_settings(settings, os.environ)
    except SettingError as error:
        raise UsageError(str(error), print_help=False) from None


class ArchiveCommand(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}
    # Commands that take arguments (IDs, words) check them themselves; the others refuse any.
    takes_arguments: ClassVar[bool] = False
    # Search words may start with "-" (an exclusion): never read as unknown options.
    arguments_are_words: ClassVar[bool] = False

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        add_archive_options(self, parser, words=self.arguments_are_words)

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        assert self.settings is not None
        apply_archive_options(self.settings, opts)
        if args and not self.takes_arguments:
            name = command_name(self)
            raise UsageError(f"{name} takes no arguments, got {shown(args)}", print_help=False)

    def config(self) -> ArchiveConfig:
        assert self.settings is not None
        return archive_config(self.settings)

    @contextmanager
    def session(self) -> Iterator[Session]:
        engine = open_existing(self.config().db_url)
        try:
            with make_session_factory(engine)() as session:
                yield session
        finally:
            engine.dispose()

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        try:
            self.execute(args, opts)
        except (CommandError, DatabaseError, QueryError, WarcReadError, OutputTargetError) as error:
            self.fail(str(error))
        except OutputWriteError as error:
            self.fail(str(error))
            self.exitcode = WRITE_FAILED_EXIT
        except sa_exc.DatabaseError as error:
            self.fail(f"database error: {str(error.orig).splitlines()[0] if error.orig else error}")
        except OverflowError:
            # An ID past the database's integer range: no such row can exist.
            logger.debug("number out of range", exc_info=True)
            self.fail("a number in the command is out of range (IDs are at most 2^63-1)")
        except BrokenPipeError:
            sys.stderr.close()
        except KeyboardInterrupt:
            self.fail("interrupted")
        except Exception as error:  # a bug: still one line for the user, details in the debug log
            logger.debug("command failed", exc_info=True)
            print(f"newsvault: internal error: {type(error).__name__}: {error}", file=sys.stderr)
            self.exitcode = 1

    def fail(self, message: str) -> None:
        print(f"newsvault: error: {message}", file=sys.stderr)
        self.exitcode = USAGE_EXIT

    def execute(self, args: list[str], opts: argparse.Namespace) -> None:
        raise NotImplementedError


_SHOWN_CHARS = 40


def shown(args: list[str]) -> str:
    """The arguments for an error message, cut short so a 10 kB argument stays one short line."""
    text = " ".join(args)
    return repr(text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "...")


def parse_day(value: str | None, name: str, *, end_of_day: bool = False) -> datetime | None:
    """A --since (or, with ``end_of_day``, an --until) bound by the one rule of pipeline.dates:
    a calendar date (YYYY-MM-DD, YYYY-MM, YYYY) covers that whole period in UTC, both ends
    included; a date-time is that instant (UTC unless it says otherwise)."""
    if value is None:
        return None
    try:
        return bound(value, end=end_of_day)
    except ValueError:
        raise CommandError(f"{name}: not a date: {value!r} (use YYYY-MM-DD)") from None


def day_range(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    """``--since`` and ``--until`` of a command, both days included; since after until is bad."""
    start = parse_day(since, "--since")
    end = parse_day(until, "--until", end_of_day=True)
    if start is not None and end is not None and start > end:
        raise CommandError(f"--since {since} is after --until {until}")
    return start, end


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number < 1 or number > 10_000:
        raise argparse.ArgumentTypeError(f"must be between 1 and 10000: {value}")
    return number
