"""The state one crawl shares between its components: WARC writer, database, crawl row, counters.

Scrapy builds extensions and pipelines separately; they meet here (``ArchiveRuntime.for_crawler``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections import Counter
from typing import TYPE_CHECKING, Any

from pipeline.config import ArchiveConfig, archive_config
from pipeline.db import queries
from pipeline.db.migrate import upgrade_to_head
from pipeline.db.queries_refs import capture_record_ref
from pipeline.db.session import make_engine, make_session_factory
from pipeline.warc.ref import RecordRef
from pipeline.warc.writer import WarcWriter

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

logger = logging.getLogger(__name__)

_RUNTIMES: weakref.WeakKeyDictionary[Crawler, ArchiveRuntime] = weakref.WeakKeyDictionary()
_RUNTIMES_LOCK = threading.Lock()


class ArchiveRuntime:
    def __init__(self, config: ArchiveConfig) -> None:
        self.config = config
        self.counts: Counter[str] = Counter()
        self.crawl_id: int | None = None
        self.writer: WarcWriter | None = None
        self.engine: Engine | None = None
        self.session_factory: sessionmaker[Session] | None = None
        # Payloads archived by this crawl but possibly not yet committed to the index.
        self.payloads_this_crawl: dict[str, RecordRef] = {}
        self.stories_touched: set[int] = set()
        # Originals captured but not yet indexed: their revisits wait on these.
        self.stored_events: dict[str, asyncio.Event] = {}

    @classmethod
    def for_crawler(cls, crawler: Crawler) -> ArchiveRuntime:
        with _RUNTIMES_LOCK:
            runtime = _RUNTIMES.get(crawler)
            if runtime is None:
                runtime = cls(archive_config(crawler.settings))
                _RUNTIMES[crawler] = runtime
            return runtime

    def open(self, spider: Spider | None) -> None:
        if self.session_factory is not None:
            return
        spider_name = spider.name if spider is not None else "unknown"
        spider_args = dict(getattr(spider, "archive_args", {}) or {})
        self.config.archive_dir.mkdir(parents=True, exist_ok=True)
        upgrade_to_head(self.config.db_url)
        self.engine = make_engine(self.config.db_url)
        self.session_factory = make_session_factory(self.engine)
        with self.session_factory() as session, session.begin():
            self.crawl_id = queries.start_crawl(session, spider_name, spider_args)
        self.writer = WarcWriter(
            self.config.warc_dir,
            prefix=self.config.warc_prefix,
            max_size=self.config.warc_max_size,
            warcinfo=self.config.warcinfo(f"newsvault crawl {self.crawl_id} ({spider_name})"),
        )
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
        with self.session() as session:
            capture = queries.original_capture_by_payload_digest(session, digest)
            return capture_record_ref(session, capture) if capture is not None else None

    def expect_store(self, record_id: str) -> None:
        self.stored_events[record_id] = asyncio.Event()

    def mark_stored(self, ref: RecordRef) -> None:
        # Once its row is committed the database answers for this payload; keep memory flat.
        known = self.payloads_this_crawl.get(ref.payload_digest or "")
        if known is not None and known.record_id == ref.record_id:
            del self.payloads_this_crawl[ref.payload_digest or ""]
        event = self.stored_events.pop(ref.record_id, None)
        if event is not None:
            event.set()

    def close(self, stats: dict[str, Any]) -> None:
        if self.writer is not None:
            self.writer.close()
        if self.session_factory is None:
            return
        with self.session() as session, session.begin():
            for name in self.writer.files if self.writer else []:
                path = self.config.warc_dir / name
                size = path.stat().st_size if path.exists() else 0
                queries.upsert_warc_file(session, name, size, closed=True)
            if self.crawl_id is not None:
                queries.finish_crawl(session, self.crawl_id, stats)
        if self.engine is not None:
            self.engine.dispose()
