"""Crawls, WARC files, captures, documents and failures: writes and lookups."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any, cast

from sqlalchemy import (
    Column,
    ColumnElement,
    MetaData,
    Table,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import TSVECTOR
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
from pipeline.db.search_filters import search_filters
from pipeline.db.search_words import pg_search_vector
from pipeline.warc.ref import RecordRef

MAX_STAGE_LENGTH = 32

# The statements an item's indexing runs, built once on the tables and run on the session's
# connection: building them per call, and the ORM's bulk-insert path, cost several times more
# than the SQL itself (the index writer's main cost per document).
_FILES = cast(Table, WarcFile.__table__)
_CAPTURES = cast(Table, Capture.__table__)
_DOCUMENTS = cast(Table, Document.__table__)
_FAILURES = cast(Table, Failure.__table__)
_FILES_NAMED = select(_FILES.c.id, _FILES.c.name, _FILES.c.size).where(
    _FILES.c.name.in_(bindparam("names", expanding=True))
)
_GROW_FILE = update(_FILES).where(_FILES.c.id == bindparam("file_id")).values(size=bindparam("end"))
_NEW_FILE = insert(_FILES).returning(_FILES.c.id)
_CAPTURES_BY_RECORD_ID = select(
    _CAPTURES.c.record_id, _CAPTURES.c.id, _CAPTURES.c.warc_file_id, _CAPTURES.c.offset
).where(_CAPTURES.c.record_id.in_(bindparam("record_ids", expanding=True)))
_LINK_UNLINKED_CAPTURES = (
    update(_CAPTURES)
    .where(
        _CAPTURES.c.id.in_(bindparam("capture_ids", expanding=True)),
        _CAPTURES.c.document_id.is_(None),
    )
    .values(document_id=bindparam("linked_document_id"))
)
_LINK_CAPTURES = (
    update(_CAPTURES)
    .where(_CAPTURES.c.id.in_(bindparam("capture_ids", expanding=True)))
    .values(document_id=bindparam("linked_document_id"))
)
_NEW_CAPTURES = insert(_CAPTURES).returning(
    _CAPTURES.c.record_id, _CAPTURES.c.id, sort_by_parameter_order=True
)
_DOCUMENT_ID_BY_TEXT_DIGEST = select(_DOCUMENTS.c.id).where(
    _DOCUMENTS.c.text_digest == bindparam("digest")
)
_NEW_DOCUMENT = insert(_DOCUMENTS).returning(_DOCUMENTS.c.id)
# On PostgreSQL a document is written with its search words (migration 0012), a column of the
# table the models leave out: SQLite keeps them in documents_fts.
_PG_DOCUMENTS = Table(
    "documents",
    MetaData(),
    *(
        Column(column.name, column.type, primary_key=column.primary_key)
        for column in _DOCUMENTS.columns
    ),
    Column("search_vector", TSVECTOR),
)
_SEARCHED_FIELDS = frozenset({"title", "text", "language"})
_NEW_PG_DOCUMENT = (
    insert(_PG_DOCUMENTS)
    .values(search_vector=sql_cast(bindparam("search_vector"), TSVECTOR))
    .returning(_PG_DOCUMENTS.c.id)
)
_NEW_FAILURE = insert(_FAILURES).returning(_FAILURES.c.id)


def start_crawl(session: Session, spider: str, args: Mapping[str, str]) -> int:
    crawl = Crawl(
        spider=spider,
        args=json.dumps(dict(args), sort_keys=True),
        started_at=utcnow(),
        host=socket.gethostname(),
        pid=os.getpid(),
    )
    session.add(crawl)
    session.flush()
    return crawl.id


def finish_crawl(
    session: Session, crawl_id: int, stats: Mapping[str, Any], outcome: str = "finished"
) -> None:
    crawl = session.get(Crawl, crawl_id)
    if crawl is None:
        raise LookupError(f"no crawl with id {crawl_id}")
    # Scrapy stats hold datetimes; str() keeps them readable instead of failing the dump.
    crawl.stats = json.dumps(dict(stats), sort_keys=True, default=str)
    crawl.finished_at = utcnow()
    crawl.outcome = outcome[:32]
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


def warc_file_ids(session: Session, ends: Mapping[str, int]) -> dict[str, int]:
    """Ids of the files (indexed names) holding records that end at the given bytes.

    A file not indexed yet gets its row (still open); a row whose size is below the end is
    grown. Two statements when every file is known, whatever the number of records.
    """
    connection = session.connection()
    rows = connection.execute(_FILES_NAMED, {"names": list(ends)}).all()
    ids: dict[str, int] = {}
    for file_id, name, size in rows:
        ids[name] = file_id
        if size < ends[name]:
            connection.execute(_GROW_FILE, {"file_id": file_id, "end": ends[name]})
    for name, end in ends.items():
        if name not in ids:
            new_file = {"name": name, "size": end, "created_at": utcnow(), "closed": False}
            ids[name] = connection.execute(_NEW_FILE, new_file).scalar_one()
    return ids


def add_captures(
    session: Session,
    refs: Sequence[RecordRef],
    *,
    crawl_id: int | None,
    document_id: int | None = None,
) -> dict[str, int]:
    """Index WARC records; capture ids by record id. Indexing the same record (id, file,
    offset) again is a no-op; a record id already indexed at another place is an error."""
    for ref in refs:
        if ref.record_type not in CAPTURE_RECORD_TYPES:
            raise ValueError(f"record type {ref.record_type!r} is not indexed as a capture")
    if not refs:
        return {}
    names = {ref.record_id: warc_file_name(ref.warc_file) for ref in refs}
    ends: dict[str, int] = {}
    for ref in refs:
        name = names[ref.record_id]
        ends[name] = max(ends.get(name, 0), ref.offset + ref.length)
    file_ids = warc_file_ids(session, ends)
    ids: dict[str, int] = {}
    connection = session.connection()
    existing = connection.execute(_CAPTURES_BY_RECORD_ID, {"record_ids": list(names)}).all()
    for record_id, capture_id, file_id, offset in existing:
        ref = next(r for r in refs if r.record_id == record_id)
        if file_id != file_ids[names[record_id]] or offset != ref.offset:
            raise ValueError(
                f"record {record_id} is already indexed at another place "
                f"(capture {capture_id}, offset {offset})"
            )
        ids[record_id] = capture_id
    if document_id is not None and ids:
        connection.execute(
            _LINK_UNLINKED_CAPTURES,
            {"capture_ids": list(ids.values()), "linked_document_id": document_id},
        )
    rows = [
        {
            "record_id": ref.record_id,
            "record_type": ref.record_type,
            "warc_file_id": file_ids[names[ref.record_id]],
            "offset": ref.offset,
            "length": ref.length,
            "uri": ref.target_uri,
            "date": ref.date,
            "payload_digest": ref.payload_digest,
            "block_digest": ref.block_digest,
            "content_type": ref.content_type,
            "http_status": ref.http_status,
            "refers_to": ref.refers_to,
            "crawl_id": crawl_id,
            "document_id": document_id,
        }
        for ref in dict((ref.record_id, ref) for ref in refs).values()
        if ref.record_id not in ids
    ]
    if rows:
        inserted = connection.execute(_NEW_CAPTURES, rows)
        ids.update({record_id: capture_id for record_id, capture_id in inserted})
    return ids


def add_capture(
    session: Session, ref: RecordRef, *, crawl_id: int | None, document_id: int | None = None
) -> int:
    """Index one WARC record (see add_captures)."""
    return add_captures(session, [ref], crawl_id=crawl_id, document_id=document_id)[ref.record_id]


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


def document_id_by_text_digest(session: Session, digest: str) -> int | None:
    found = session.connection().execute(_DOCUMENT_ID_BY_TEXT_DIGEST, {"digest": digest})
    return cast(int | None, found.scalar())


def add_document(session: Session, **fields: Any) -> int:
    """Insert a document; ``fields`` are Document columns. The text digest must be new."""
    kind = fields.get("source_kind")
    if kind not in SOURCE_KINDS:
        raise ValueError(f"source_kind must be one of {SOURCE_KINDS}, got {kind!r}")
    unknown = sorted(set(fields) - set(Document.__table__.columns.keys()))
    if unknown:
        raise TypeError(f"{unknown[0]!r} is an invalid keyword argument for Document")
    if "word_count" not in fields and isinstance(fields.get("text"), str):
        fields["word_count"] = len(fields["text"].split())
    fields.setdefault("first_seen", utcnow())
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return cast(int, connection.execute(_NEW_DOCUMENT, fields).scalar_one())
    vector = pg_search_vector(fields.get("title"), fields.get("text"), fields.get("language"))
    written = connection.execute(_NEW_PG_DOCUMENT, {**fields, "search_vector": vector})
    return cast(int, written.scalar_one())


def update_document(session: Session, document_id: int, **fields: Any) -> None:
    """Change a document's columns; its search words follow a new title, text or language.

    SQLite's triggers re-index the row; on PostgreSQL the words are written here, as by
    add_document.
    """
    if "text" in fields:
        # Its credit lines are read from the new text when next compared (index/credits.py).
        fields.setdefault("credits", None)
    connection = session.connection()
    statement = update(_DOCUMENTS).where(_DOCUMENTS.c.id == document_id).values(**fields)
    if connection.execute(statement).rowcount != 1:
        raise LookupError(f"no document with id {document_id}")
    if connection.dialect.name != "postgresql" or not _SEARCHED_FIELDS.intersection(fields):
        return
    row = connection.execute(
        select(_DOCUMENTS.c.title, _DOCUMENTS.c.text, _DOCUMENTS.c.language).where(
            _DOCUMENTS.c.id == document_id
        )
    ).one()
    connection.execute(
        update(_PG_DOCUMENTS)
        .where(_PG_DOCUMENTS.c.id == document_id)
        .values(search_vector=sql_cast(pg_search_vector(*row), TSVECTOR))
    )


def set_capture_document(session: Session, capture_id: int, document_id: int) -> None:
    set_captures_document(session, [capture_id], document_id)


def set_captures_document(session: Session, capture_ids: Sequence[int], document_id: int) -> None:
    if not capture_ids:
        return
    done = session.connection().execute(
        _LINK_CAPTURES, {"capture_ids": list(capture_ids), "linked_document_id": document_id}
    )
    if done.rowcount != len(set(capture_ids)):
        raise LookupError(f"no capture with id among {sorted(capture_ids)}")


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
    failure = {
        "crawl_id": crawl_id,
        "uri": uri,
        "stage": stage,
        "reason": reason,
        "capture_id": capture_id,
        "created_at": utcnow(),
    }
    return cast(int, session.connection().execute(_NEW_FAILURE, failure).scalar_one())


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


@dataclass(frozen=True)
class DocumentSelection:
    """Which documents an export takes: days inclusive on coalesce(published, first_seen)
    (as search), a site name or host (as search), one story."""

    since: datetime | None = None
    until: datetime | None = None
    site: str | None = None
    story_id: int | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        row = list(search_filters(self.site, self.since, self.until, collapse=False).row)
        if self.story_id is not None:
            row.append(Document.story_id == self.story_id)
        return row


def iter_documents(
    session: Session, *, batch: int = 500, selection: DocumentSelection | None = None
) -> Iterator[Document]:
    statement = select(Document).order_by(Document.id).execution_options(yield_per=batch)
    if selection is not None:
        statement = statement.where(*selection.conditions())
    yield from session.scalars(statement)


def list_failures(session: Session, *, crawl_id: int | None = None) -> list[Failure]:
    statement = select(Failure).order_by(Failure.id)
    if crawl_id is not None:
        statement = statement.where(Failure.crawl_id == crawl_id)
    return list(session.scalars(statement))


def failures_matching(
    session: Session,
    *,
    stage: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> list[Failure]:
    """Failure rows, newest first; ``since`` and ``until`` bound ``created_at``, inclusive."""
    statement = select(Failure).order_by(Failure.created_at.desc(), Failure.id.desc())
    if stage is not None:
        statement = statement.where(Failure.stage == stage)
    if since is not None:
        statement = statement.where(Failure.created_at >= since)
    if until is not None:
        statement = statement.where(Failure.created_at <= until)
    return list(session.scalars(statement.limit(limit)))


def failure_stages(session: Session) -> list[str]:
    return list(session.scalars(select(Failure.stage).distinct().order_by(Failure.stage)))


def count_rows(session: Session) -> dict[str, int]:
    return {
        name: session.scalar(select(func.count()).select_from(table)) or 0
        for name, table in sorted(Base.metadata.tables.items())
    }


def source_captures_of_crawls(
    session: Session, crawl_ids: Sequence[int]
) -> Iterator[tuple[str, str, str, int, str | None]]:
    """(uri, record type, WARC file name, offset, refers_to) of every source or revisit record
    the given crawls captured, oldest first (a later capture of a URI replaces an earlier one)."""
    if not crawl_ids:
        return
    statement = (
        select(Capture.uri, Capture.record_type, WarcFile.name, Capture.offset, Capture.refers_to)
        .join(WarcFile, WarcFile.id == Capture.warc_file_id)
        .where(
            Capture.crawl_id.in_(list(crawl_ids)),
            Capture.record_type.in_((*SOURCE_RECORD_TYPES, "revisit")),
        )
        .order_by(Capture.id)
        .execution_options(yield_per=5000)
    )
    rows = session.execute(statement)
    yield from ((uri, kind, name, offset, refers_to) for uri, kind, name, offset, refers_to in rows)


def source_payload_digests(session: Session) -> Iterator[str]:
    """The payload digest of every source record in the index (revisit candidates)."""
    statement = (
        select(Capture.payload_digest)
        .where(Capture.payload_digest.is_not(None), Capture.record_type.in_(SOURCE_RECORD_TYPES))
        .execution_options(yield_per=10_000)
    )
    yield from (digest for digest in session.scalars(statement) if digest)


def failure_uris_of_crawls(session: Session, crawl_ids: Sequence[int]) -> set[str]:
    """URIs of the inputs the given crawls ended as failure rows."""
    if not crawl_ids:
        return set()
    statement = select(Failure.uri).where(Failure.crawl_id.in_(list(crawl_ids))).distinct()
    return set(session.scalars(statement))
