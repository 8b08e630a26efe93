"""Rebuild the index from the WARC files alone, replaying them through the crawl's own indexing.

Every resource/response/revisit record is followed by a metadata record saying what became of it
(and a conversion record with its clean text); replaying those in file order yields the same
documents, links and failures as the crawl. Captures a crash left without metadata are extracted
again.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from pipeline.analysis import Analysis, analyse, extract_and_analyse
from pipeline.dates import parse_iso_utc
from pipeline.db import queries
from pipeline.index.deciding import IndexPolicy
from pipeline.index.derived import document_from_fields
from pipeline.index.storing import index_item
from pipeline.items import ArchiveItem
from pipeline.warc.reading import StoredRecord, decoded_http_payload, iter_records, read_record
from pipeline.warc.ref import RecordRef

SOURCE_TYPES = frozenset({"resource", "response", "revisit"})


@dataclass
class ReplayState:
    crawl_id: int
    policy: IndexPolicy
    sources: dict[str, StoredRecord] = field(default_factory=dict)
    requests: dict[str, RecordRef] = field(default_factory=dict)
    conversions: dict[str, tuple[RecordRef, str]] = field(default_factory=dict)
    outcomes: Counter[str] = field(default_factory=Counter)
    records: int = 0


def replay_file(session: Session, path: Path, state: ReplayState) -> None:
    size = path.stat().st_size
    name = path.name.removesuffix(".open")
    queries.upsert_warc_file(session, name, size, closed=not path.name.endswith(".open"))
    for stored in iter_records(path):
        state.records += 1
        replay_record(session, stored, state)


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
        location = fields["source_record"]
        source = read_record(Path("/"), str(location["warc_file"]), int(location["offset"]))
    item = ArchiveItem(
        url=str(fields.get("url") or meta_ref.target_uri),
        fetched_at=parse_time(fields.get("fetched_at"), meta_ref.date),
        capture=source.ref if source else None,
        filename=str(fields["filename"]) if fields.get("filename") else None,
    )
    if source is not None:
        item.request_record = state.requests.pop(source.ref.record_id, None)
        item.http_status = source.http_status
    conversion = state.conversions.pop(source_id, None) if source_id else None
    item.derived = ([conversion[0]] if conversion else []) + [meta_ref]
    if fields.get("failure") is not None:
        item.fail(str(fields.get("stage") or "unknown"), str(fields["failure"]))
        return item, None
    if source is not None and source.ref.record_type == "revisit" and source.ref.refers_to:
        item.revisit_of = replace(source.ref, record_id=source.ref.refers_to)
        return item, None
    if not fields.get("indexed") or conversion is None:
        item.index_as_article = False
        return item, None
    item.document = document_from_fields(fields, conversion[1])
    analysis = analyse(item.document)
    item.text_digest = analysis.text_digest
    return item, analysis


def replay_leftovers(session: Session, state: ReplayState) -> None:
    """Captures without a metadata record: the crawl stopped before indexing them."""
    for stored in list(state.sources.values()):
        item = ArchiveItem(
            url=stored.ref.target_uri, fetched_at=stored.ref.date, capture=stored.ref
        )
        item.request_record = state.requests.pop(stored.ref.record_id, None)
        if stored.ref.record_type == "revisit" and stored.ref.refers_to:
            item.revisit_of = replace(stored.ref, record_id=stored.ref.refers_to)
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
    factory: sessionmaker[Session], warc_paths: list[Path], policy: IndexPolicy
) -> ReplayState:
    with factory() as session, session.begin():
        crawl_id = queries.start_crawl(session, "reindex", {"files": str(len(warc_paths))})
    state = ReplayState(crawl_id=crawl_id, policy=policy)
    for path in warc_paths:
        with factory() as session, session.begin():
            replay_file(session, path, state)
    with factory() as session, session.begin():
        replay_leftovers(session, state)
        queries.finish_crawl(session, crawl_id, dict(state.outcomes))
    return state
