"""Near-duplicate (LSH bands) and story index: candidate lookups and group views."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Select, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from pipeline.db.models import Document, LshBand, Story, StoryKey
from pipeline.db.queries_stats import outlet_of

MAX_KEY_LENGTH = 64
# Bound on duplicate_of hops followed to the canonical document (chains should not exist).
MAX_CHAIN = 16


@dataclass(frozen=True)
class StoryRow:
    story_id: int
    headline: str
    outlets: list[str]  # distinct sites (or URL hosts) of the members, sorted
    first_seen: datetime
    last_seen: datetime
    size: int


@dataclass(frozen=True)
class DupMember:
    document: Document
    similarity: float | None


@dataclass(frozen=True)
class DupGroup:
    canonical: Document
    members: list[DupMember]  # documents whose duplicate_of is the canonical, most similar first


def signed64(value: int) -> int:
    """Store band hashes as signed 64-bit; unsigned 64-bit input is mapped, not rejected."""
    if -(2**63) <= value < 2**63:
        return value
    if 2**63 <= value < 2**64:
        return value - 2**64
    raise ValueError(f"band hash out of 64-bit range: {value}")


def add_lsh_bands(session: Session, document_id: int, bands: Sequence[tuple[int, int]]) -> None:
    rows = [
        {"document_id": document_id, "band": band, "hash": signed64(value)} for band, value in bands
    ]
    if rows:
        session.execute(insert(LshBand), rows)


def lsh_candidates(
    session: Session, bands: Sequence[tuple[int, int]], *, limit: int = 50
) -> list[tuple[int, bytes]]:
    """Documents sharing a (band, hash) with ``bands``, most shared bands first."""
    if not bands:
        return []
    params: dict[str, int] = {"limit": limit}
    for number, (band, value) in enumerate(bands):
        params[f"band_{number}"] = band
        params[f"hash_{number}"] = signed64(value)
    rows = session.execute(_lsh_candidates_statement(len(bands)), params)
    return [(doc_id, bytes(minhash or b"")) for doc_id, minhash in rows]


@lru_cache(maxsize=8)
def _lsh_candidates_statement(band_count: int) -> Select[int, bytes | None]:
    """Built once per number of bands (every document has the same): building the 32-term
    expression took longer than running it."""
    # One OR term per band: each is an equality lookup on the (band, hash) index.
    match = or_(
        *(
            and_(
                LshBand.band == bindparam(f"band_{number}"),
                LshBand.hash == bindparam(f"hash_{number}"),
            )
            for number in range(band_count)
        )
    )
    shared = func.count().label("shared")
    matches = (
        select(LshBand.document_id, shared).where(match).group_by(LshBand.document_id).subquery()
    )
    return (
        select(Document.id, Document.minhash)
        .join(matches, matches.c.document_id == Document.id)
        .where(Document.minhash.is_not(None))
        .order_by(matches.c.shared.desc(), Document.id)
        .limit(bindparam("limit"))
    )


def add_story(
    session: Session,
    *,
    headline: str,
    first_seen: datetime,
    last_seen: datetime,
    lead_document_id: int,
) -> int:
    """A new story whose first member is its lead document (size 1, lead's story_id set)."""
    story_id = session.execute(
        insert(Story)
        .values(
            headline=headline,
            first_seen=min(first_seen, last_seen),
            last_seen=max(first_seen, last_seen),
            size=1,
            lead_document_id=lead_document_id,
        )
        .returning(Story.id)
    ).scalar_one()
    lead = cast(
        CursorResult[Any],
        session.execute(
            update(Document).where(Document.id == lead_document_id).values(story_id=story_id)
        ),
    )
    if lead.rowcount != 1:
        raise LookupError(f"no document with id {lead_document_id}")
    return story_id


def add_to_story(session: Session, story_id: int, document_id: int, seen: datetime) -> None:
    """Add a member: size + 1 and the window widened to ``seen``. Re-adding is a no-op."""
    story = session.execute(
        select(Story.first_seen, Story.last_seen).where(Story.id == story_id)
    ).one_or_none()
    if story is None:
        raise LookupError(f"no story with id {story_id}")
    previous = session.scalar(select(Document.story_id).where(Document.id == document_id))
    if previous is None and not session.scalar(
        select(func.count()).select_from(Document).where(Document.id == document_id)
    ):
        raise LookupError(f"no document with id {document_id}")
    if previous == story_id:
        return
    if previous is not None:
        session.execute(
            update(Story).where(Story.id == previous, Story.size > 0).values(size=Story.size - 1)
        )
    session.execute(update(Document).where(Document.id == document_id).values(story_id=story_id))
    session.execute(
        update(Story)
        .where(Story.id == story_id)
        .values(
            size=Story.size + 1,
            first_seen=min(story.first_seen, seen),
            last_seen=max(story.last_seen, seen),
        )
    )


def story_of(session: Session, document_id: int) -> int | None:
    return session.scalar(select(Document.story_id).where(Document.id == document_id))


def duplicate_link(session: Session, document_id: int) -> tuple[int | None, bytes | None] | None:
    """(duplicate_of, minhash) of a document, without loading its text; None if there is none."""
    row = session.execute(
        select(Document.duplicate_of, Document.minhash).where(Document.id == document_id)
    ).one_or_none()
    if row is None:
        return None
    return row[0], bytes(row[1]) if row[1] is not None else None


def add_story_keys(
    session: Session, story_id: int, document_id: int, keys: Sequence[str], seen: datetime
) -> None:
    unique = list(dict.fromkeys(keys))
    too_long = [key for key in unique if not key or len(key) > MAX_KEY_LENGTH]
    if too_long:
        raise ValueError(f"story keys must be 1 to {MAX_KEY_LENGTH} characters: {too_long[0]!r}")
    rows = [
        {"story_id": story_id, "document_id": document_id, "key": key, "seen": seen}
        for key in unique
    ]
    if rows:
        session.execute(insert(StoryKey), rows)


def story_candidates(
    session: Session, keys: Sequence[str], *, since: datetime, until: datetime, limit: int = 20
) -> list[tuple[int, int, int]]:
    """(story_id, document_id, shared keys) of story members seen within [since, until].

    One range scan of the (key, seen) index per key: the cost does not grow with the archive.
    """
    if not keys:
        return []
    shared = func.count().label("shared")
    statement = (
        select(StoryKey.story_id, StoryKey.document_id, shared)
        .where(
            StoryKey.key.in_(list(dict.fromkeys(keys))),
            StoryKey.seen >= since,
            StoryKey.seen <= until,
        )
        .group_by(StoryKey.story_id, StoryKey.document_id)
        .order_by(shared.desc(), StoryKey.story_id, StoryKey.document_id)
        .limit(limit)
    )
    return [(story_id, doc_id, count) for story_id, doc_id, count in session.execute(statement)]


def story_features_of(session: Session, document_ids: Sequence[int]) -> dict[int, str]:
    """Stored story features (JSON) of documents, without loading their text."""
    if not document_ids:
        return {}
    statement = select(Document.id, Document.story_features).where(
        Document.id.in_(list(dict.fromkeys(document_ids)))
    )
    return {doc_id: features for doc_id, features in session.execute(statement) if features}


def story_members(session: Session, story_id: int) -> list[Document]:
    when = func.coalesce(Document.published, Document.first_seen)
    statement = select(Document).where(Document.story_id == story_id).order_by(when, Document.id)
    return list(session.scalars(statement))


def list_stories(session: Session, *, limit: int = 50) -> list[StoryRow]:
    """Stories, largest first (then most recent)."""
    stories = list(
        session.scalars(
            select(Story).order_by(Story.size.desc(), Story.last_seen.desc(), Story.id).limit(limit)
        )
    )
    outlets: dict[int, set[str]] = {story.id: set() for story in stories}
    if stories:
        members = select(Document.story_id, Document.site, Document.url).where(
            Document.story_id.in_(list(outlets))
        )
        for story_id, site, url in session.execute(members):
            if story_id is not None:
                outlets[story_id].add(outlet_of(site, url))
    return [
        StoryRow(
            story_id=story.id,
            headline=story.headline,
            outlets=sorted(outlets[story.id]),
            first_seen=story.first_seen,
            last_seen=story.last_seen,
            size=story.size,
        )
        for story in stories
    ]


def _members(session: Session, canonical_id: int) -> list[DupMember]:
    statement = (
        select(Document)
        .where(Document.duplicate_of == canonical_id)
        .order_by(Document.similarity.desc().nulls_last(), Document.id)
    )
    return [DupMember(doc, doc.similarity) for doc in session.scalars(statement)]


def duplicate_groups(session: Session, *, limit: int = 50) -> list[DupGroup]:
    """Canonical documents with near-duplicates, largest groups first."""
    size = func.count().label("size")
    statement = (
        select(Document.duplicate_of, size)
        .where(Document.duplicate_of.is_not(None))
        .group_by(Document.duplicate_of)
        .order_by(size.desc(), Document.duplicate_of)
        .limit(limit)
    )
    groups = []
    for canonical_id, _size in session.execute(statement).all():
        canonical = None if canonical_id is None else session.get(Document, canonical_id)
        if canonical is not None:
            groups.append(DupGroup(canonical, _members(session, canonical.id)))
    return groups


def duplicate_group(session: Session, document_id: int) -> DupGroup | None:
    """The group holding ``document_id`` (as canonical or member); None if it has none."""
    document = session.get(Document, document_id)
    for _ in range(MAX_CHAIN):
        if document is None or document.duplicate_of is None:
            break
        document = session.get(Document, document.duplicate_of)
    if document is None:
        return None
    members = _members(session, document.id)
    return DupGroup(document, members) if members else None
