"""Write an item's derived WARC records, then its rows: the write-ahead order in one place.

Used by StorePipeline for spider items and by the capture extension for captures no spider sees
(robots.txt).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from sqlalchemy.exc import IntegrityError

from pipeline.index.deciding import IndexPolicy
from pipeline.index.derived import write_derived_records
from pipeline.index.storing import index_item
from pipeline.items import ArchiveItem
from pipeline.runtime import ArchiveRuntime

logger = logging.getLogger(__name__)
# How long a revisit waits for the row of its original, captured moments before in this crawl.
ORIGINAL_WAIT_SECONDS = 60.0


class Stats(Protocol):
    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None: ...


async def wait_for_original(runtime: ArchiveRuntime, item: ArchiveItem) -> None:
    """A revisit links to its original's document, so the original's rows must exist first."""
    if item.revisit_of is None:
        return
    event = runtime.stored_events.get(item.revisit_of.record_id)
    if event is None:
        return
    try:
        await asyncio.wait_for(event.wait(), ORIGINAL_WAIT_SECONDS)
    except TimeoutError:
        logger.warning("revisit %s: original not indexed in time; link left to reindex", item.url)


def store_item(
    runtime: ArchiveRuntime, item: ArchiveItem, policy: IndexPolicy, stats: Stats | None
) -> None:
    writer = runtime.writer
    if writer is None:
        raise RuntimeError("archive runtime is not open")
    item.derived = write_derived_records(writer, item)
    for attempt in (1, 2):
        try:
            with runtime.session() as session, session.begin():
                index_item(session, item, item.analysis, runtime.crawl_id, policy)
            break
        except IntegrityError:
            # Another worker indexed the same text meanwhile: decide again against its row.
            item.decision = None
            if attempt == 2:
                raise
    if item.capture is not None:
        runtime.mark_stored(item.capture)
    if item.story_id is not None and item.outcome in {"new", "near-duplicate"}:
        runtime.stories_touched.add(item.story_id)
    if stats is not None:
        count_item(stats, item)


def count_item(stats: Stats, item: ArchiveItem) -> None:
    for ref in item.derived:
        stats.inc_value(f"archive/records/{ref.record_type}")
        stats.inc_value("archive/warc/bytes", ref.length)
    stats.inc_value(f"archive/outcome/{item.outcome}")
    if item.failure is not None:
        stats.inc_value(f"archive/failures/{item.failure_stage}")
