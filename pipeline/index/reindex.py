"""Rebuild the index from the WARC files alone, replaying them through the crawl's own indexing.

Every resource/response/revisit record is followed by a metadata record saying what became of it
(and a conversion record with its clean text); replaying those in file order yields the same
documents, links and failures as the crawl. Captures a crash left without metadata are extracted
again.

The same replay, skipping what is indexed already, catches an existing index up with the WARC
files a killed crawl left behind (``index_missing_records``).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pipeline.analysis import analyse, extract_and_analyse
from pipeline.dates import parse_iso_utc
from pipeline.db import queries
from pipeline.db.models import Capture, WarcFile
from pipeline.dedup.fingerprints import Analysis
from pipeline.index.deciding import IndexPolicy
from pipeline.index.derived import document_from_fields
from pipeline.index.storing import index_item
from pipeline.items import ArchiveItem
from pipeline.warc.reading import (
    OPEN_SUFFIX,
    StoredRecord,
    TornTailError,
    WarcReadError,
    decoded_http_payload,
    iter_records,
    read_record,
    warc_files,
)
from pipeline.warc.record_ids import is_duplicate_id_of
from pipeline.warc.recovery import writer_state
from pipeline.warc.ref import RecordRef

SOURCE_TYPES = frozenset({"resource", "response", "revisit"})
# Records that belong to the item of the record they refer to (not revisits: theirs is older).
ITEM_PART_TYPES = frozenset({"request", "conversion", "metadata"})


@dataclass
class ReplayState:
    crawl_id: int
    policy: IndexPolicy
    sources: dict[str, StoredRecord] = field(default_factory=dict)
    requests: dict[str, RecordRef] = field(default_factory=dict)
    conversions: dict[str, tuple[RecordRef, str]] = field(default_factory=dict)
    outcomes: Counter[str] = field(default_factory=Counter)
    records: int = 0
    torn: list[TornTailError] = field(default_factory=list)  # files indexed up to a torn record
    # Catching up an existing index: record ids already indexed are skipped, not replayed.
    indexed: set[str] | None = None
    skipped: int = 0


def replay_file(
    session: Session, path: Path, state: ReplayState, *, accept_torn: bool = False
) -> None:
    """Replay every complete record of ``path``.

    A torn last record (the file ends inside it) is what a crawl killed mid-write leaves in an
    ``.open`` file: the records before it are replayed and the tear is noted in ``state.torn``.
    A closed file is never torn by a crash, so there it is an error unless ``accept_torn``.
    """
    size = path.stat().st_size
    is_open = path.name.endswith(OPEN_SUFFIX)
    name = path.name.removesuffix(OPEN_SUFFIX)
    # Catching up, a file counts as closed only once its leftovers are indexed too (at the end).
    queries.upsert_warc_file(session, name, size, closed=not is_open and state.indexed is None)
    if state.indexed is not None:
        state.indexed |= indexed_record_ids(session, name)
    try:
        for stored in iter_records(path):
            state.records += 1
            if state.indexed is not None and is_indexed(session, stored, state.indexed):
                state.skipped += 1
                continue
            replay_record(session, stored, state)
    except TornTailError as torn:
        if not (is_open or accept_torn):
            raise WarcReadError(
                path,
                torn.offset,
                f"{torn.problem}; a closed WARC file is not torn by a crash (a damaged or "
                "partial copy?): `scrapy reindex --accept-torn` indexes the records before it",
            ) from None
        state.torn.append(torn)


def indexed_record_ids(session: Session, warc_file: str) -> set[str]:
    statement = (
        select(Capture.record_id)
        .join(WarcFile, WarcFile.id == Capture.warc_file_id)
        .where(WarcFile.name == warc_file)
    )
    return set(session.scalars(statement))


def is_indexed(session: Session, stored: StoredRecord, indexed: set[str]) -> bool:
    """Whether the index has this record, or the item it is part of (then it has it too)."""
    ref = stored.ref
    if ref.record_id in indexed:
        return True
    owner = ref.refers_to if ref.record_type in ITEM_PART_TYPES else None
    if not owner:
        return False
    if owner in indexed:
        return True
    # The item's source may lie in an earlier file than this one (the writer rotated between).
    found = session.scalar(select(Capture.id).where(Capture.record_id == owner)) is not None
    if found:
        indexed.add(owner)
    return found


def replay_record(session: Session, stored: StoredRecord, state: ReplayState) -> None:
    ref = stored.ref
    if ref.record_type in SOURCE_TYPES:
        state.sources[ref.record_id] = stored
    elif ref.record_type == "request" and ref.refers_to:
        state.requests[ref.refers_to] = ref
    elif ref.record_type == "conversion" and ref.refers_to:
        state.conversions[ref.refers_to] = (ref, stored.payload.decode("utf-8"))
    elif ref.record_type == "metadata":
        fields = json.loads(stored.payload.decode("utf-8"))
        item, analysis = item_from_metadata(ref, fields, state)
        index_item(session, item, analysis, state.crawl_id, state.policy)
        state.outcomes[item.outcome or "unknown"] += 1


def item_from_metadata(
    meta_ref: RecordRef, fields: dict[str, Any], state: ReplayState
) -> tuple[ArchiveItem, Analysis | None]:
    source_id = meta_ref.refers_to
    source = state.sources.pop(source_id, None) if source_id else None
    if source is None and isinstance(fields.get("source_record"), dict):
        source = imported_record(fields["source_record"], source_id)
    item = ArchiveItem(
        url=str(fields.get("url") or meta_ref.target_uri),
        fetched_at=parse_time(fields.get("fetched_at"), meta_ref.date),
        capture=source.ref if source else None,
        filename=str(fields["filename"]) if fields.get("filename") else None,
    )
    if source is not None:
        item.request_record = state.requests.pop(source.ref.record_id, None)
        if item.request_record is None and isinstance(fields.get("request_record"), dict):
            item.request_record = imported_record(fields["request_record"], None).ref
        item.http_status = source.http_status
    conversion = state.conversions.pop(source_id, None) if source_id else None
    item.derived = ([conversion[0]] if conversion else []) + [meta_ref]
    if fields.get("failure") is not None:
        item.fail(str(fields.get("stage") or "unknown"), str(fields["failure"]))
        return item, None
    # The original the crawl or import resolved (an imported revisit may name it by URI and
    # date, or by digest only), else the one the revisit names.
    original = fields.get("revisit_of") or (source.ref.refers_to if source else None)
    if source is not None and source.ref.record_type == "revisit" and original:
        item.revisit_of = replace(source.ref, record_id=str(original))
        return item, None
    if not fields.get("indexed") or conversion is None:
        item.index_as_article = False
        return item, None
    item.document = document_from_fields(fields, conversion[1])
    analysis = analyse(item.document)
    item.text_digest = analysis.text_digest
    return item, analysis


def imported_record(location: dict[str, Any], indexed_id: str | None) -> StoredRecord:
    """A record an import indexed where it lies, under the id the import gave it: its own, or
    one derived from it when an earlier record had the same id (pipeline.warc.record_ids)."""
    warc_file, offset = str(location["warc_file"]), int(location["offset"])
    stored = read_record(Path("/"), warc_file, offset)
    if (
        indexed_id
        and indexed_id != stored.ref.record_id
        and is_duplicate_id_of(indexed_id, stored.ref.record_id, warc_file, offset)
    ):
        stored = replace(stored, ref=replace(stored.ref, record_id=indexed_id))
    return stored


def replay_leftovers(session: Session, state: ReplayState) -> None:
    """Captures without a metadata record: the crawl stopped before indexing them."""
    for stored in list(state.sources.values()):
        item = ArchiveItem(
            url=stored.ref.target_uri, fetched_at=stored.ref.date, capture=stored.ref
        )
        item.request_record = state.requests.pop(stored.ref.record_id, None)
        # The crawl may have written the text's conversion record before its metadata record
        # failed (a full disk): it is part of this item, indexed with it though the text is
        # extracted again.
        conversion = state.conversions.pop(stored.ref.record_id, None)
        item.derived = [conversion[0]] if conversion else []
        item.http_status = stored.http_status
        if stored.ref.record_type == "revisit" and stored.ref.refers_to:
            item.revisit_of = replace(stored.ref, record_id=stored.ref.refers_to)
            index_item(session, item, None, state.crawl_id, state.policy)
        elif not_an_article_status(stored.http_status):
            # As the crawl treats them: an error page is a failure row, a redirect is captured
            # only; neither is extracted into a document.
            item.fail_on_http_error()
            item.index_as_article = False
            index_item(session, item, None, state.crawl_id, state.policy)
        else:
            body, content_type = decoded_body(stored)
            result = extract_and_analyse(body, item.url, None, content_type)
            if result.error is not None:
                item.fail("extract", result.error)
            item.document = result.document
            index_item(session, item, result.analysis, state.crawl_id, state.policy)
        state.outcomes[item.outcome or "unknown"] += 1
    state.sources.clear()


def not_an_article_status(status: int | None) -> bool:
    """An HTTP error or redirect, which the crawl never extracts (no status: a file's record)."""
    return status is not None and status >= 300


def decoded_body(stored: StoredRecord) -> tuple[bytes, str | None]:
    headers = stored.http_headers or []
    try:
        body = decoded_http_payload(headers, stored.payload)
    except Exception:  # a corrupt body: extraction then reports it as binary content
        body = stored.payload
    content_type = next((v for k, v in headers if k.lower() == "content-type"), None)
    return body, content_type or stored.ref.content_type


def parse_time(value: object, fallback: datetime) -> datetime:
    if isinstance(value, str):
        try:
            return parse_iso_utc(value)
        except ValueError:
            pass
    return fallback


def rebuild(
    factory: sessionmaker[Session],
    warc_paths: list[Path],
    policy: IndexPolicy,
    *,
    accept_torn: bool = False,
) -> ReplayState:
    with factory() as session, session.begin():
        crawl_id = queries.start_crawl(session, "reindex", {"files": str(len(warc_paths))})
    state = ReplayState(crawl_id=crawl_id, policy=policy)
    for path in warc_paths:
        with factory() as session, session.begin():
            replay_file(session, path, state, accept_torn=accept_torn)
    with factory() as session, session.begin():
        replay_leftovers(session, state)
        queries.finish_crawl(session, crawl_id, dict(state.outcomes))
    return state


def index_missing_records(
    factory: sessionmaker[Session], warc_paths: list[Path], policy: IndexPolicy, crawl_id: int
) -> ReplayState:
    """Index, as part of crawl ``crawl_id``, the records of ``warc_paths`` the index lacks.

    For the files a killed crawl left behind (see ``unfinished_warc_files``): items it archived
    but never indexed are replayed from their metadata records, captures without one are
    extracted again. What the index has is skipped, so running this twice changes nothing.
    Files are replayed in the order given (name order is write order), one transaction each.
    """
    state = ReplayState(crawl_id=crawl_id, policy=policy, indexed=set())
    for path in warc_paths:
        with factory() as session, session.begin():
            replay_file(session, path, state)
    with factory() as session, session.begin():
        replay_leftovers(session, state)
        for path in warc_paths:
            if not path.name.endswith(OPEN_SUFFIX):
                queries.upsert_warc_file(session, path.name, path.stat().st_size, closed=True)
    return state


def unfinished_warc_files(
    session: Session, warc_dir: Path, *, host: str | None = None
) -> list[Path]:
    """WARC files of ``warc_dir`` that may hold records the index lacks, and nobody will add.

    Those the index does not know or does not mark closed (a crawl marks its files closed when
    it ends cleanly, and ``index_missing_records`` once it caught them up), leaving out files a
    live writer or another host may still be indexing. Recover stale ``.open`` files first
    (pipeline.warc.recovery): an ``.open`` file is listed only if its writer is dead.
    """
    closed = set(session.scalars(select(WarcFile.name).where(WarcFile.closed.is_(True))))
    return [
        path
        for path in warc_files(warc_dir)
        if path.name.removesuffix(OPEN_SUFFIX) not in closed
        and writer_state(path, host=host) in ("dead", "not ours")
    ]
