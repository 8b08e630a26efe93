"""`scrapy reindex`: rebuild the database from the WARC files alone."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from pipeline.cli.command_support import ArchiveCommand, CommandError
from pipeline.crawl.archive_lock import ArchiveBusyError, ArchiveLock
from pipeline.db.migrate import migrate_in_transaction, upgrade_to_head
from pipeline.db.session import make_engine, make_session_factory
from pipeline.index.deciding import IndexPolicy, policy_from_settings
from pipeline.index.reindex import ReplayState, rebuild
from pipeline.warc.reading import warc_files


class Command(ArchiveCommand):
    def short_desc(self) -> str:
        return "Rebuild the index from the WARC files alone"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--accept-torn",
            action="store_true",
            help="index the complete records of a closed WARC file that ends inside a record "
            "(a torn .open file left by a killed crawl is always accepted)",
        )

    def execute(self, args: list[str], opts: argparse.Namespace) -> None:
        config = self.config()
        paths = warc_files(config.warc_dir)
        if not paths:
            raise CommandError(f"no WARC files in {config.warc_dir}")
        assert self.settings is not None
        policy = policy_from_settings(self.settings)
        url = make_url(config.db_url)
        if url.get_backend_name() == "sqlite" and url.database:
            try:
                # The new index file replaces the old one: never under a crawl writing to it.
                lock = ArchiveLock.acquire(config.archive_dir)
            except ArchiveBusyError as busy:
                print(
                    f"newsvault: error: a crawl (pid {busy.holder}) is writing to the archive "
                    f"{config.archive_dir}: reindex once it has finished",
                    file=sys.stderr,
                )
                self.exitcode = 1
                return
            try:
                state = self.rebuild_sqlite(Path(url.database), paths, policy, opts.accept_torn)
            finally:
                lock.release()
        else:
            state = self.rebuild_in_one_transaction(config.db_url, paths, policy, opts.accept_torn)
        for torn in state.torn:
            print(
                f"warning: {torn.path} ends inside a record at offset {torn.offset} "
                f"({torn.tail_bytes} bytes, a crawl killed mid-write): "
                "indexed the complete records before it"
            )
        summary = ", ".join(f"{k} {v}" for k, v in sorted(state.outcomes.items()))
        print(f"reindexed {state.records} records from {len(paths)} WARC file(s): {summary}")

    def rebuild_sqlite(
        self, target: Path, paths: list[Path], policy: IndexPolicy, accept_torn: bool
    ) -> ReplayState:
        # Built beside the old index and swapped in at the end: a failure changes nothing.
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = target.with_name(target.name + ".reindex")
        for leftover in (scratch, Path(f"{scratch}-wal"), Path(f"{scratch}-shm")):
            leftover.unlink(missing_ok=True)
        try:
            state = self.rebuild_into(f"sqlite:///{scratch}", paths, policy, accept_torn)
        except BaseException:
            scratch.unlink(missing_ok=True)
            raise
        for stale in (Path(f"{target}-wal"), Path(f"{target}-shm")):
            stale.unlink(missing_ok=True)
        os.replace(scratch, target)
        return state

    def rebuild_into(
        self, url: str, paths: list[Path], policy: IndexPolicy, accept_torn: bool
    ) -> ReplayState:
        upgrade_to_head(url)
        engine = make_engine(url)
        try:
            return rebuild(make_session_factory(engine), paths, policy, accept_torn=accept_torn)
        finally:
            engine.dispose()

    def rebuild_in_one_transaction(
        self, url: str, paths: list[Path], policy: IndexPolicy, accept_torn: bool
    ) -> ReplayState:
        """PostgreSQL: drop, recreate and fill the schema in one transaction.

        PostgreSQL's DDL is transactional, so a failure (or a kill: the server rolls back what
        a lost connection left open) leaves the old index exactly as it was, and readers see
        the old index, or wait on its locks, until the new one is committed whole.
        """
        engine = make_engine(url)
        try:
            with engine.connect() as connection, connection.begin():
                migrate_in_transaction(connection, "downgrade", "base")
                migrate_in_transaction(connection, "upgrade", "head")
                # The replay's per-file sessions become savepoints of this one transaction.
                factory: sessionmaker[Session] = sessionmaker(
                    bind=connection,
                    expire_on_commit=False,
                    join_transaction_mode="create_savepoint",
                )
                return rebuild(factory, paths, policy, accept_torn=accept_torn)
        finally:
            engine.dispose()
