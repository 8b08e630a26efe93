"""What every query command shares: the archive config, the database, and one-line errors."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, ClassVar

from scrapy.commands import ScrapyCommand
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from pipeline.config import ArchiveConfig, archive_config
from pipeline.dates import parse_iso_utc
from pipeline.db.existing import open_existing
from pipeline.db.search import QueryError
from pipeline.db.session import DatabaseError, make_session_factory
from pipeline.output_target import OutputTargetError, OutputWriteError
from pipeline.warc.reading import WarcReadError

USAGE_EXIT = 2
WRITE_FAILED_EXIT = 1
logger = logging.getLogger(__name__)


class CommandError(Exception):
    """A bad input to a command: printed as one line, exit code 2."""


class ArchiveCommand(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

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


def parse_day(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_iso_utc(value)
    except ValueError:
        raise CommandError(f"{name}: not a date: {value!r} (use YYYY-MM-DD)") from None


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number < 1 or number > 10_000:
        raise argparse.ArgumentTypeError(f"must be between 1 and 10000: {value}")
    return number
