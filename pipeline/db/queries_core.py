"""Crawls, WARC files, captures, documents and failures: writes and lookups."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.db.base import Base, utcnow
from pipeline.db.models import (
    CAPTURE_RECORD_TYPES,
    SOURCE_KINDS,
    SOURCE_RECORD_TYPES,
    Capture,
    Crawl,
    Document,
    Failure,
    WarcFile,
)
from pipeline.warc.ref import RecordRef

MAX_STAGE_LENGTH = 32


def start_crawl(session: Session, spider: str, args: Mapping[str, str]) -> int:
    crawl = Crawl(spider=spider, args=json.dumps(dict(args), sort_keys=True), started_at=utcnow())
    session.add(crawl)
    session.flush()
    return crawl.id


def finish_crawl(session: Session, crawl_id: int, stats: Mapping[str, Any]) -> None:
    crawl = session.get(Crawl, crawl_id)
    if crawl is None:
        raise LookupError(f"no crawl with id {crawl_id}")
    # Scrapy stats hold datetimes; str() keeps them readable instead of failing the dump.
    crawl.stats = json.dumps(dict(stats), sort_keys=True, default=str)
    crawl.finished_at = utcnow()
    session.flush()


def warc_file_name(name: str) -> str:
    """The indexed name of a WARC file: no directory, no ".open" suffix.

    Imported files are indexed where they lie: an absolute path, or ``/x.wacz#member`` for a
    WARC inside a WACZ package, is kept whole.
    """
    if name.startswith("/") and "\0" not in name:
        return name.removesuffix(".open")
    path = name.replace("\\", "/")
    base = PurePosixPath(path).name.removesuffix(".open")
    if not base or path.endswith("/"):
        raise ValueError(f"not a WARC file name: {name!r}")
    return base


def upsert_warc_file(session: Session, name: str, size: int, *, closed: bool) -> int:
    name = warc_file_name(name)
    warc = session.scalar(select(WarcFile).where(WarcFile.name == name))
    if warc is None:
        warc = WarcFile(name=name, size=size, created_at=utcnow(), closed=closed)
        session.add(warc)
    else:
        warc.size = size
        warc.closed = closed
    session.flush()
    return warc.id


def _warc_file_for(session: Session, name: str, end: int) -> int:
    """Id of the file holding a record that ends at byte ``end``, created while still open."""
    warc = session.scalar(select(WarcFile).where(WarcFile.name == name))
    if warc is None:
        warc = WarcFile(name=name, size=end, created_at=utcnow(), closed=False)
        session.add(warc)
        session.flush()
    elif warc.size < end:
        warc.size = end
    return warc.id


def add_capture(
    session: Session, ref: RecordRef, *, crawl_id: int | None, document_id: int | None = None
) -> int:
    """Index one WARC record. Indexing the same record (id, file, offset) again is a no-op."""
    if ref.record_type not in CAPTURE_RECORD_TYPES:
        raise ValueError(f"record type {ref.record_type!r} is not indexed as a capture")
    name = warc_file_name(ref.warc_file)
    existing = capture_by_record_id(session, ref.record_id)
    warc_file_id = _warc_file_for(session, name, ref.offset + ref.length)
    if existing is not None:
        if existing.warc_file_id != warc_file_id or existing.offset != ref.offset:
            raise ValueError(
                f"record {ref.record_id} is already indexed at another place "
                f"(capture {existing.id}, offset {existing.offset})"
            )
        if document_id is not None and existing.document_id is None:
            existing.document_id = document_id
        return existing.id
    capture = Capture(
        record_id=ref.record_id,
        record_type=ref.record_type,
        warc_file_id=warc_file_id,
        offset=ref.offset,
        length=ref.length,
        uri=ref.target_uri,
        date=ref.date,
        payload_digest=ref.payload_digest,
        block_digest=ref.block_digest,
        content_type=ref.content_type,
        http_status=ref.http_status,
        refers_to=ref.refers_to,
        crawl_id=crawl_id,
        document_id=document_id,
    )
    session.add(capture)
    session.flush()
    return capture.id


def capture_by_record_id(session: Session, record_id: str) -> Capture | None:
    return session.scalar(select(Capture).where(Capture.record_id == record_id))


def original_capture_by_payload_digest(session: Session, digest: str) -> Capture | None:
    return session.scalar(
        select(Capture)
        .where(Capture.payload_digest == digest, Capture.record_type.in_(SOURCE_RECORD_TYPES))
        .order_by(Capture.date, Capture.id)
        .limit(1)
    )


def document_by_text_digest(session: Session, digest: str) -> Document | None:
    return session.scalar(select(Document).where(Document.text_digest == digest))


def add_document(session: Session, **fields: Any) -> int:
    """Insert a document; ``fields`` are Document columns. The text digest must be new."""
    kind = fields.get("source_kind")
    if kind not in SOURCE_KINDS:
        raise ValueError(f"source_kind must be one of {SOURCE_KINDS}, got {kind!r}")
    if "word_count" not in fields and isinstance(fields.get("text"), str):
        fields["word_count"] = len(fields["text"].split())
    fields.setdefault("first_seen", utcnow())
    document = Document(**fields)
    session.add(document)
    session.flush()
    return document.id


def set_capture_document(session: Session, capture_id: int, document_id: int) -> None:
    capture = session.get(Capture, capture_id)
    if capture is None:
        raise LookupError(f"no capture with id {capture_id}")
    capture.document_id = document_id
    session.flush()


def add_failure(
    session: Session,
    *,
    crawl_id: int | None,
    uri: str,
    stage: str,
    reason: str,
    capture_id: int | None = None,
) -> int:
    if not stage or len(stage) > MAX_STAGE_LENGTH:
        raise ValueError(f"failure stage must be 1 to {MAX_STAGE_LENGTH} characters: {stage!r}")
    failure = Failure(
        crawl_id=crawl_id,
        uri=uri,
        stage=stage,
        reason=reason,
        capture_id=capture_id,
        created_at=utcnow(),
    )
    session.add(failure)
    session.flush()
    return failure.id


def get_document(session: Session, ident: str) -> Document | None:
    """A document by numeric id, or by exact URL, canonical URL or capture URI.

    A URL can name several versions of a page (its text changed); the latest one is returned.
    """
    ident = ident.strip()
    if not ident:
        return None
    if ident.isdecimal():
        return session.get(Document, int(ident))
    latest = (Document.first_seen.desc(), Document.id.desc())
    for column in (Document.url, Document.canonical_url):
        found = session.scalar(select(Document).where(column == ident).order_by(*latest).limit(1))
        if found is not None:
            return found
    return session.scalar(
        select(Document)
        .join(Capture, Capture.document_id == Document.id)
        .where(Capture.uri == ident)
        .order_by(*latest)
        .limit(1)
    )


def document_captures(session: Session, document_id: int) -> list[Capture]:
    statement = (
        select(Capture).where(Capture.document_id == document_id).order_by(Capture.date, Capture.id)
    )
    return list(session.scalars(statement))


def source_capture(session: Session, document_id: int) -> Capture | None:
    return session.scalar(
        select(Capture)
        .where(Capture.document_id == document_id, Capture.record_type.in_(SOURCE_RECORD_TYPES))
        .order_by(Capture.date, Capture.id)
        .limit(1)
    )


def all_captures(session: Session, *, batch: int = 1000) -> Iterator[tuple[Capture, str]]:
    statement = (
        select(Capture, WarcFile.name)
        .join(WarcFile, WarcFile.id == Capture.warc_file_id)
        .order_by(Capture.id)
        .execution_options(yield_per=batch)
    )
    yield from ((capture, name) for capture, name in session.execute(statement))


def iter_documents(session: Session, *, batch: int = 500) -> Iterator[Document]:
    statement = select(Document).order_by(Document.id).execution_options(yield_per=batch)
    yield from session.scalars(statement)


def list_failures(session: Session, *, crawl_id: int | None = None) -> list[Failure]:
    statement = select(Failure).order_by(Failure.id)
    if crawl_id is not None:
        statement = statement.where(Failure.crawl_id == crawl_id)
    return list(session.scalars(statement))


def count_rows(session: Session) -> dict[str, int]:
    return {
        name: session.scalar(select(func.count()).select_from(table)) or 0
        for name, table in sorted(Base.metadata.tables.items())
    }
