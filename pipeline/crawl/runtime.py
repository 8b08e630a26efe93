"""What one crawl's components share: WARC writer, index writer, crawl row, counters.

Scrapy builds extensions, middlewares and pipelines separately; they meet here
(``ArchiveRuntime.for_crawler``). Opening the runtime is also where a crawl makes the archive
whole again after a crash: WARC files a killed crawl left open are closed and their records the
index lacks are indexed, before anything new is written.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from scrapy.exceptions import CloseSpider
from scrapy.utils.job import job_dir
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from pipeline.config import ArchiveConfig, archive_config
from pipeline.crawl.archive_lock import ArchiveBusyError, ArchiveLock
from pipeline.crawl.disk_full import is_disk_full, no_space_left
from pipeline.crawl.frontier import FrontierError, connect
from pipeline.crawl.job_state import ArchivedPage, Job, archived_pages
from pipeline.crawl.per_crawler import PerCrawler
from pipeline.db import queries
from pipeline.db.migrate import upgrade_to_head
from pipeline.db.queries_refs import capture_record_ref
from pipeline.db.session import DatabaseError, make_engine, make_session_factory, parse_url
from pipeline.index.deciding import IndexPolicy, policy_from_settings
from pipeline.index.derived import write_derived_records
from pipeline.index.process import IndexWriteError, IndexWriterProcess
from pipeline.index.recover import recover_archive, recover_own_files
from pipeline.items import ArchiveItem
from pipeline.warc.ref import RecordRef
from pipeline.warc.writer import WarcWriteError, WarcWriter

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

logger = logging.getLogger(__name__)

# PostgreSQL's deadlock_detected and serialization_failure: another transaction won, try again.
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})
CLOSE_ATTEMPTS = 5
UNWRITABLE_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})


class ArchiveStartError(Exception):
    """The archive or its index cannot be opened for a crawl; ``str()`` is one line for users."""


class Stats(Protocol):
    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None: ...


class ArchiveRuntime:
    def __init__(self, config: ArchiveConfig, policy: IndexPolicy, jobdir: str | None) -> None:
        self.config = config
        self.policy = policy
        self.jobdir = Path(jobdir) if jobdir else None
        self.counts: Counter[str] = Counter()
        self.crawl_id: int | None = None
        self.writer: WarcWriter | None = None
        self.index_writer: IndexWriterProcess | None = None
        self.index_errors = 0
        self.engine: Engine | None = None
        self.session_factory: sessionmaker[Session] | None = None
        self.lock: ArchiveLock | None = None
        # Payloads archived by this crawl but possibly not yet committed to the index.
        self.payloads_this_crawl: dict[str, RecordRef] = {}
        # Hashes of every payload digest the index held at start, or this crawl archived: most
        # responses are new, and this answers "never seen" without asking the database.
        self.known_payloads: set[int] = set()
        self.stories_touched: set[int] = set()
        # Originals captured but not yet indexed: their revisits wait on these.
        self.stored_events: dict[str, asyncio.Event] = {}
        # What this job archived in earlier runs (JOBDIR only): served from the archive.
        self.archived_pages: dict[str, ArchivedPage] = {}
        # What this job's earlier runs ended as failure rows: not tried again (JOBDIR only).
        self.failed_earlier: set[str] = set()
        self.recovered: Counter[str] = Counter()
        self.start_error: str | None = None
        self.close_error: str | None = None  # the database failed while the crawl closed
        # The shared frontier's Redis (scale-out), checked with the index before a crawl starts.
        self.redis_url = ""
        # The archive failed under the crawl (a full disk): the crawl stops, `scrapy crawl` exit 1.
        self.fatal_error: str | None = None
        self.crawler: Crawler | None = None
        self.stop_task: asyncio.Task[None] | None = None

    @classmethod
    def for_crawler(cls, crawler: Crawler) -> ArchiveRuntime:
        return _RUNTIMES(crawler)

    @classmethod
    def _made_for(cls, crawler: Crawler) -> ArchiveRuntime:
        settings = crawler.settings
        runtime = cls(archive_config(settings), policy_from_settings(settings), job_dir(settings))
        runtime.redis_url = str(settings.get("ARCHIVE_REDIS_URL") or "").strip()
        runtime.crawler = crawler
        return runtime

    def preflight(self) -> None:
        """Open what can refuse a crawl, before Scrapy starts: the archive folder, the SQLite
        archive's lock, the index (migrated to the newest schema). Raises ArchiveStartError."""
        if self.engine is not None:
            return
        try:
            self.config.archive_dir.mkdir(parents=True, exist_ok=True)
            self.config.warc_dir.mkdir(exist_ok=True)
            if parse_url(self.config.db_url).get_backend_name() == "sqlite":
                # One SQLite file takes one writer: a second crawl is refused, not interleaved.
                self.lock = ArchiveLock.acquire(self.config.archive_dir)
            upgrade_to_head(self.config.db_url)
            self.engine = make_engine(self.config.db_url)
            with self.engine.connect():
                pass
            if self.redis_url:
                connect(self.redis_url).close()
        except (ArchiveBusyError, DatabaseError, OSError, FrontierError) as error:
            self.start_error = self._full_disk_line(error) or self._unwritable_line(error)
        except SQLAlchemyError as error:
            reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
            self.start_error = self._full_disk_line(error) or f"database error: {reason}"
        else:
            return
        self.release()
        raise ArchiveStartError(self.start_error)

    def _unwritable_line(self, error: BaseException) -> str:
        for folder in (self.config.archive_dir, self.config.warc_dir):
            if isinstance(error, FileExistsError | NotADirectoryError) and not folder.is_dir():
                return f"the archive folder {folder} is a file, not a folder"
        if isinstance(error, OSError) and error.errno in UNWRITABLE_ERRNOS:
            return (
                f"the archive folder {self.config.archive_dir} is not writable "
                f"({error.strerror}): a crawl needs to write there"
            )
        return str(error)

    def _full_disk_line(self, error: BaseException) -> str | None:
        """The one line for a crawl that cannot start on a full disk, else None."""
        if not is_disk_full(error) and not no_space_left(self.config.archive_dir):
            return None
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()
        return (
            f"the disk is full under {self.config.archive_dir} "
            f"({reason[0] if reason else type(error).__name__}): the crawl could not start; "
            "free some space and run it again"
        )

    def release(self) -> None:
        if self.engine is not None:
            self.engine.dispose()
            self.engine = None
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    def open(self, spider: Spider | None) -> None:
        """Open the crawl: its row, WARC writer, recovery, index writer. Raises
        ArchiveStartError with one line for users when the archive fails under it."""
        if self.session_factory is not None:
            return
        if self.start_error is not None:
            raise ArchiveStartError(self.start_error)
        try:
            self._open(spider)
        except ArchiveStartError:
            raise
        except Exception as error:
            logger.debug("opening the archive failed", exc_info=True)
            reason = str(getattr(error, "orig", None) or error).strip().splitlines()
            line = reason[0] if reason else type(error).__name__
            full = self._full_disk_line(error)
            if full is not None:
                self.start_error = full
            elif isinstance(error, SQLAlchemyError):
                self.start_error = f"database error: {line}"
            else:
                self.start_error = f"cannot open the archive {self.config.archive_dir}: {line}"
            raise ArchiveStartError(self.start_error) from error

    def open_or_close_spider(self, spider: Spider | None) -> None:
        """For Scrapy components: an archive that cannot open closes the spider (Scrapy's
        CloseSpider from a component's start), and `scrapy crawl` prints the one line."""
        try:
            self.open(spider)
        except ArchiveStartError as error:
            raise CloseSpider("archive_failed") from error

    def _open(self, spider: Spider | None) -> None:
        self.preflight()
        assert self.engine is not None
        spider_name = spider.name if spider is not None else "unknown"
        spider_args = dict(getattr(spider, "archive_args", {}) or {})
        factory = make_session_factory(self.engine)
        with factory() as session, session.begin():
            self.crawl_id = queries.start_crawl(session, spider_name, spider_args)
        job = Job(self.jobdir) if self.jobdir is not None else None
        job_crawls = job.add_crawl(self.crawl_id) if job is not None else []
        self.writer = WarcWriter(
            self.config.warc_dir,
            prefix=self.config.warc_prefix,
            max_size=self.config.warc_max_size,
            warcinfo=self.config.warcinfo(f"newsvault crawl {self.crawl_id} ({spider_name})"),
        )
        self.recovered = recover_archive(factory, self.config.warc_dir, self.crawl_id, self.policy)
        with factory() as session:
            self.known_payloads = {hash(d) for d in queries.source_payload_digests(session)}
        if job_crawls:
            with factory() as session:
                self.archived_pages = archived_pages(session, job_crawls)
                self.failed_earlier = queries.failure_uris_of_crawls(session, job_crawls)
            logger.info("archive: resuming a job: %d pages archived", len(self.archived_pages))
        self.index_writer = IndexWriterProcess(
            self.config.db_url, crawl_id=self.crawl_id, policy=self.policy
        )
        self.session_factory = factory
        logger.info("archive: crawl %s writing to %s", self.crawl_id, self.config.archive_dir)

    def session(self) -> Session:
        if self.session_factory is None:
            raise RuntimeError("archive runtime is not open")
        return self.session_factory()

    def original_for_payload(self, digest: str) -> RecordRef | None:
        """The first capture of this payload, in this crawl or any earlier one (any worker)."""
        known = self.payloads_this_crawl.get(digest)
        if known is not None:
            return known
        if hash(digest) not in self.known_payloads:
            # Only this process's view: a payload another worker archived meanwhile is written
            # in full once more (a document link still finds its text), never lost.
            return None
        with self.session() as session:
            capture = queries.original_capture_by_payload_digest(session, digest)
            return capture_record_ref(session, capture) if capture is not None else None

    def remember_payload(self, ref: RecordRef) -> None:
        """A new payload this crawl archived: later copies become revisits of it."""
        digest = ref.payload_digest or ""
        self.payloads_this_crawl.setdefault(digest, ref)
        self.known_payloads.add(hash(digest))
        self.stored_events[ref.record_id] = asyncio.Event()

    def mark_stored(self, ref: RecordRef) -> None:
        # Once its row is committed the database answers for this payload; keep memory flat.
        known = self.payloads_this_crawl.get(ref.payload_digest or "")
        if known is not None and known.record_id == ref.record_id:
            del self.payloads_this_crawl[ref.payload_digest or ""]
        event = self.stored_events.pop(ref.record_id, None)
        if event is not None:
            event.set()

    async def store(self, item: ArchiveItem, stats: Stats | None) -> None:
        """Write the item's derived WARC records, then hand it to the index writer and wait for
        its rows to commit."""
        if self.index_writer is None or self.writer is None:
            raise RuntimeError("archive runtime is not open")
        try:
            item.derived = write_derived_records(self.writer, item)
            indexed = await asyncio.wrap_future(self.index_writer.submit(item))
            if indexed.error is not None:
                raise IndexWriteError(indexed.error)
        except Exception as error:
            # Whatever reached the WARC file is indexed by recovery (at close, or next start).
            self.index_errors += 1
            self.stop_if_disk_full(error)
            logger.error("index: %s not indexed: %s", item.url, error)
            if stats is not None:
                stats.inc_value("archive/index_errors")
            if item.capture is not None:
                self.mark_stored(item.capture)  # revisits waiting on it go on, unlinked
            return
        indexed.apply_to(item)
        if item.capture is not None:
            self.mark_stored(item.capture)
        if item.story_id is not None and item.outcome in {"new", "near-duplicate"}:
            self.stories_touched.add(item.story_id)
        if stats is not None:
            count_item(stats, item)

    def stop_if_disk_full(self, error: BaseException) -> None:
        """A full disk fails every later item alike: stop the crawl once, with one line."""
        if is_disk_full(error):
            reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
            self.stop_crawl(
                f"the disk is full under {self.config.archive_dir} ({reason}): the crawl stopped; "
                "what it archived is kept: free some space and run it again"
            )
        elif isinstance(error, WarcWriteError):
            # The WARC files cannot be written (not the input's fault): every item would fail.
            self.stop_crawl(f"{error}: the crawl stopped; what it archived is kept")

    def stop_crawl(self, line: str) -> None:
        """Stop the crawl once; `scrapy crawl` prints ``line`` and exits 1."""
        if self.fatal_error is None:
            self.fatal_error = line
            logger.error("archive: %s", self.fatal_error)
        engine = self.crawler.engine if self.crawler is not None else None
        if engine is None or engine.spider is None or self.stop_task is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not on the reactor's loop: the next item stops it
            return
        self.stop_task = loop.create_task(engine.close_spider_async(reason="archive_disk_full"))

    def close(self, stats: dict[str, Any], reason: str = "finished") -> None:
        if self.index_writer is not None:
            self.index_writer.close()
        if self.writer is not None:
            self.writer.close()
        try:
            self._finish_despite_deadlocks(stats, reason)
        except SQLAlchemyError as error:
            # The database failed under the crawl: `scrapy crawl` prints this line, exit code 1.
            logger.debug("closing crawl %s failed", self.crawl_id, exc_info=True)
            reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
            self.close_error = (
                f"the database failed at the end of crawl {self.crawl_id}: {reason} (what the "
                "crawl archived is in its WARC files: the next crawl indexes what is missing)"
            )
            logger.error("archive: %s", self.close_error)
        finally:
            self.release()

    def _finish_despite_deadlocks(self, stats: dict[str, Any], reason: str) -> None:
        """Several workers on one PostgreSQL index (scale-out): a deadlock with another worker's
        batch is transient, so the end of the crawl is tried again before it gives up."""
        for attempt in range(1, CLOSE_ATTEMPTS + 1):
            try:
                self._index_failed_and_finish(stats, reason)
                return
            except OperationalError as error:
                transient = getattr(error.orig, "sqlstate", None) in TRANSIENT_SQLSTATES
                if not transient or attempt == CLOSE_ATTEMPTS:
                    raise
                logger.warning("archive: closing crawl %s: %s; again", self.crawl_id, error.orig)
                time.sleep(0.5 * attempt)

    def _index_failed_and_finish(self, stats: dict[str, Any], reason: str) -> None:
        if self.session_factory is not None and self.index_errors:
            # Items the index writer failed are in this crawl's WARC files: index them now.
            own = [self.config.warc_dir / name for name in self.writer.files] if self.writer else []
            self.recovered += recover_own_files(
                self.session_factory, own, self.crawl_id, self.policy
            )
        if self.session_factory is not None:
            with self.session() as session, session.begin():
                for name in self.writer.files if self.writer else []:
                    path = self.config.warc_dir / name
                    size = path.stat().st_size if path.exists() else 0
                    queries.upsert_warc_file(session, name, size, closed=True)
                if self.crawl_id is not None:
                    queries.finish_crawl(session, self.crawl_id, stats, reason)


def count_item(stats: Stats, item: ArchiveItem) -> None:
    for ref in item.derived:
        stats.inc_value(f"archive/records/{ref.record_type}")
        stats.inc_value("archive/warc/bytes", ref.length)
    stats.inc_value(f"archive/outcome/{item.outcome}")
    if item.failure is not None:
        stats.inc_value(f"archive/failures/{item.failure_stage}")


# Every component of a crawl that asks for it gets the same one.
_RUNTIMES = PerCrawler(ArchiveRuntime._made_for)
