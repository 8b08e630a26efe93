"""Capture rows as WARC record locations."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.db.models import Capture, WarcFile
from pipeline.warc.ref import RecordRef


def capture_warc_name(session: Session, capture: Capture) -> str:
    name = session.scalar(select(WarcFile.name).where(WarcFile.id == capture.warc_file_id))
    if name is None:
        raise LookupError(f"capture {capture.record_id} points at a missing warc_files row")
    return name


def capture_record_ref(session: Session, capture: Capture) -> RecordRef:
    return RecordRef(
        record_id=capture.record_id,
        record_type=capture.record_type,
        warc_file=capture_warc_name(session, capture),
        offset=capture.offset,
        length=capture.length,
        target_uri=capture.uri,
        date=capture.date,
        payload_digest=capture.payload_digest,
        block_digest=capture.block_digest,
        content_type=capture.content_type,
        refers_to=capture.refers_to,
        http_status=capture.http_status,
    )
