"""Near-duplicate (LSH bands) and story index: candidate lookups and group views."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    Select,
    Table,
    and_,
    bindparam,
    case,
    func,
    insert,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from pipeline.db.models import Document, LshBand, Story, StoryKey
from pipeline.db.queries_stats import outlet_of

MAX_KEY_LENGTH = 64
# Bound on duplicate_of hops followed to the canonical document (chains should not exist).
MAX_CHAIN = 16

# Statements of the per-document writes and lookups, built once on the tables and run on the
# session's connection (see the note in queries_core: building them cost more than running them).
_DOCUMENTS = cast(Table, Document.__table__)
_STORIES = cast(Table, Story.__table__)
_NEW_BANDS = insert(cast(Table, LshBand.__table__))
_STORY_KEYS = cast(Table, StoryKey.__table__)
_NEW_STORY_KEYS = insert(_STORY_KEYS)
_NEW_STORY = insert(_STORIES).returning(_STORIES.c.id)
_SET_DOCUMENT_STORY = (
    update(_DOCUMENTS)
    .where(_DOCUMENTS.c.id == bindparam("document"))
    .values(story_id=bindparam("story"))
)
_STORY_WINDOW = select(_STORIES.c.first_seen, _STORIES.c.last_seen).where(
    _STORIES.c.id == bindparam("story")
)
_DOCUMENT_STORY = select(_DOCUMENTS.c.story_id).where(_DOCUMENTS.c.id == bindparam("document"))
_LEAVE_STORY = (
    update(_STORIES)
    .where(_STORIES.c.id == bindparam("story"), _STORIES.c.size > 0)
    .values(size=_STORIES.c.size - 1)
)
_JOIN_STORY = (
    update(_STORIES)
    .where(_STORIES.c.id == bindparam("story"))
    .values(
        size=_STORIES.c.size + 1,
        first_seen=bindparam("window_start"),
        last_seen=bindparam("window_end"),
    )
)
_DUPLICATE_LINK = select(_DOCUMENTS.c.duplicate_of, _DOCUMENTS.c.minhash).where(
    _DOCUMENTS.c.id == bindparam("document")
)
# The group's canonical row is locked before its members are read: two workers adding copies of
# one story take turns, and the second sees the first one's new canonical (PostgreSQL; SQLite
# has one writer at a time anyway and ignores FOR UPDATE).
_LOCK_DOCUMENT = (
    select(_DOCUMENTS.c.duplicate_of)
    .where(_DOCUMENTS.c.id == bindparam("document"))
    .with_for_update()
)
_GROUP_MEMBERS = (
    select(
        _DOCUMENTS.c.id,
        _DOCUMENTS.c.url,
        _DOCUMENTS.c.canonical_url,
        _DOCUMENTS.c.published,
        _DOCUMENTS.c.first_seen,
        _DOCUMENTS.c.minhash,
        _DOCUMENTS.c.site,
        _DOCUMENTS.c.credits,
        # The text only for rows indexed before 0013, whose credits were never stored.
        case((_DOCUMENTS.c.credits.is_(None), _DOCUMENTS.c.text)),
    )
    .where(
        or_(
            _DOCUMENTS.c.id == bindparam("canonical"),
            _DOCUMENTS.c.duplicate_of == bindparam("canonical"),
        )
    )
    .order_by(_DOCUMENTS.c.id)
)
_MAKE_CANONICAL = (
    update(_DOCUMENTS)
    .where(_DOCUMENTS.c.id == bindparam("document"))
    .values(duplicate_of=None, similarity=None, canonical_reason=bindparam("reason"))
)
_REPOINT_MEMBER = (
    update(_DOCUMENTS)
    .where(_DOCUMENTS.c.id == bindparam("document"))
    .values(
        duplicate_of=bindparam("canonical"),
        similarity=bindparam("similarity"),
        canonical_reason=None,
    )
)
# The vector where there is one: the JSON is read only for rows indexed before 0009.
_STORY_VECTORS = select(
    _DOCUMENTS.c.id,
    _DOCUMENTS.c.story_vector,
    case((_DOCUMENTS.c.story_vector.is_(None), _DOCUMENTS.c.story_features)),
).where(_DOCUMENTS.c.id.in_(bindparam("documents", expanding=True)))
# Members read per story key: the newest this many within the window. A key held by more
# members than that in one window (a head of state's name in a busy week, or every undated page
# of a large crawl, which all fall on the day they were fetched) says little about which story a
# report belongs to, and reading all its rows made the lookup grow with the window's size: in a
# 100,000-page crawl with some 20,000 undated pages, 5 -> 22 % of the index writer's time
# (bench/README.md). Pairs of names, the selective keys, stay far below it.
STORY_KEY_MEMBERS = 200


@lru_cache(maxsize=32)
def _story_candidates_statement(key_count: int) -> Select[Any]:
    """One index range per key, newest first, cut at ``per_key`` rows; then counted by member."""
    branches = [
        select(_STORY_KEYS.c.story_id, _STORY_KEYS.c.document_id)
        .where(
            _STORY_KEYS.c.key == bindparam(f"key{number}"),
            _STORY_KEYS.c.seen >= bindparam("since"),
            _STORY_KEYS.c.seen <= bindparam("until"),
        )
        # The (key, seen) index's own order, so that the scan stops after ``per_key`` rows
        # (a second sort column would sort every row of the range first).
        .order_by(_STORY_KEYS.c.seen.desc())
        .limit(bindparam("per_key"))
        # A subquery each: SQLite allows no ORDER BY or LIMIT on a compound's own members.
        .subquery()
        for number in range(key_count)
    ]
    rows = union_all(
        *(select(branch.c.story_id, branch.c.document_id) for branch in branches)
    ).subquery()
    shared = func.count().label("shared")
    return (
        select(rows.c.story_id, rows.c.document_id, shared)
        .group_by(rows.c.story_id, rows.c.document_id)
        .order_by(shared.desc(), rows.c.story_id, rows.c.document_id)
        .limit(bindparam("limit"))
    )


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
        session.connection().execute(_NEW_BANDS, rows)


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
    rows = session.connection().execute(_lsh_candidates_statement(len(bands)), params)
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
    connection = session.connection()
    story = {
        "headline": headline,
        "first_seen": min(first_seen, last_seen),
        "last_seen": max(first_seen, last_seen),
        "size": 1,
        "lead_document_id": lead_document_id,
    }
    story_id = cast(int, connection.execute(_NEW_STORY, story).scalar_one())
    lead = connection.execute(
        _SET_DOCUMENT_STORY, {"document": lead_document_id, "story": story_id}
    )
    if lead.rowcount != 1:
        raise LookupError(f"no document with id {lead_document_id}")
    return story_id


def add_to_story(session: Session, story_id: int, document_id: int, seen: datetime) -> None:
    """Add a member: size + 1 and the window widened to ``seen``. Re-adding is a no-op."""
    connection = session.connection()
    story = connection.execute(_STORY_WINDOW, {"story": story_id}).one_or_none()
    if story is None:
        raise LookupError(f"no story with id {story_id}")
    member = connection.execute(_DOCUMENT_STORY, {"document": document_id}).one_or_none()
    if member is None:
        raise LookupError(f"no document with id {document_id}")
    previous = member.story_id
    if previous == story_id:
        return
    if previous is not None:
        connection.execute(_LEAVE_STORY, {"story": previous})
    connection.execute(_SET_DOCUMENT_STORY, {"document": document_id, "story": story_id})
    window = {
        "story": story_id,
        "window_start": min(story.first_seen, seen),
        "window_end": max(story.last_seen, seen),
    }
    connection.execute(_JOIN_STORY, window)


def story_of(session: Session, document_id: int) -> int | None:
    found = session.connection().execute(_DOCUMENT_STORY, {"document": document_id})
    return cast(int | None, found.scalar())


def duplicate_link(session: Session, document_id: int) -> tuple[int | None, bytes | None] | None:
    """(duplicate_of, minhash) of a document, without loading its text; None if there is none."""
    row = session.connection().execute(_DUPLICATE_LINK, {"document": document_id}).one_or_none()
    if row is None:
        return None
    return row[0], bytes(row[1]) if row[1] is not None else None


@dataclass(frozen=True)
class GroupMember:
    document_id: int
    url: str
    canonical_url: str | None
    published: datetime | None
    first_seen: datetime
    minhash: bytes | None
    site: str | None
    credits: str | None  # as stored (index/credits.py); None in rows older than 0013
    text: str | None  # only where ``credits`` is None: its credit lines are read from it


def lock_group(session: Session, document_id: int) -> int:
    """The canonical of ``document_id``'s group, its row locked until the transaction ends."""
    connection = session.connection()
    current = document_id
    for _ in range(MAX_CHAIN):
        row = connection.execute(_LOCK_DOCUMENT, {"document": current}).one_or_none()
        if row is None:
            raise LookupError(f"no document with id {current}")
        if row[0] is None:
            return current
        current = row[0]
    raise LookupError(f"duplicate_of chain longer than {MAX_CHAIN} from document {document_id}")


def group_members(session: Session, canonical_id: int) -> list[GroupMember]:
    """The canonical and the documents pointing at it, in id order."""
    rows = session.connection().execute(_GROUP_MEMBERS, {"canonical": canonical_id})
    return [
        GroupMember(
            doc_id,
            url,
            canonical,
            published,
            first_seen,
            bytes(minhash) if minhash else None,
            site,
            credits,
            text,
        )
        for doc_id, url, canonical, published, first_seen, minhash, site, credits, text in rows
    ]


def set_group_canonical(
    session: Session,
    canonical_id: int,
    reason: str,
    members: Sequence[tuple[int, float | None]],
) -> None:
    """Make ``canonical_id`` the group's canonical and point ``members`` (id, similarity) at it."""
    connection = session.connection()
    connection.execute(_MAKE_CANONICAL, {"document": canonical_id, "reason": reason})
    if members:
        connection.execute(
            _REPOINT_MEMBER,
            [
                {"document": doc_id, "canonical": canonical_id, "similarity": similarity}
                for doc_id, similarity in members
            ],
        )


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
        session.connection().execute(_NEW_STORY_KEYS, rows)


def story_candidates(
    session: Session,
    keys: Sequence[str],
    *,
    since: datetime,
    until: datetime,
    limit: int = 20,
    per_key: int = STORY_KEY_MEMBERS,
) -> list[tuple[int, int, int]]:
    """(story_id, document_id, shared keys) of story members seen within [since, until].

    One range scan of the (key, seen) index per key, of at most ``per_key`` rows (the newest):
    the cost grows neither with the archive nor with the number of documents in the window.
    """
    unique = list(dict.fromkeys(keys))
    if not unique:
        return []
    params: dict[str, object] = {f"key{number}": key for number, key in enumerate(unique)}
    params.update(since=since, until=until, limit=limit, per_key=per_key)
    rows = session.connection().execute(_story_candidates_statement(len(unique)), params)
    return [(story_id, doc_id, count) for story_id, doc_id, count in rows]


def story_vectors_of(session: Session, document_ids: Sequence[int]) -> dict[int, bytes | str]:
    """Stored story vectors of documents, or their features as JSON where a row has no vector
    (indexed before migration 0009); documents with neither are left out."""
    if not document_ids:
        return {}
    rows = session.connection().execute(
        _STORY_VECTORS, {"documents": list(dict.fromkeys(document_ids))}
    )
    return {doc_id: vector or features for doc_id, vector, features in rows if vector or features}


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
