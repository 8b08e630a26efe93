"""The rows an item becomes in the index: captures, then its document, link or failure.

Shared by the crawl (StorePipeline) and by reindex, so that rebuilding from the WARC files yields
the same documents as the crawl did. No Scrapy imports.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from pipeline.dates import parse_iso_utc
from pipeline.db import queries
from pipeline.dedup.fingerprints import Analysis
from pipeline.dedup.stories import choose_story, stored_features_vector
from pipeline.dedup.story_vectors import StoryVector
from pipeline.index.canonical import Claimant
from pipeline.index.credits import stored_credits
from pipeline.index.deciding import IndexPolicy, decide
from pipeline.index.decision import Decision
from pipeline.items import ArchiveItem


def item_capture_ids(session: Session, item: ArchiveItem, crawl_id: int | None) -> dict[str, int]:
    refs = [ref for ref in (item.capture, item.request_record) if ref is not None] + item.derived
    return queries.add_captures(session, refs, crawl_id=crawl_id)


def index_item(
    session: Session,
    item: ArchiveItem,
    analysis: Analysis | None,
    crawl_id: int | None,
    policy: IndexPolicy,
) -> None:
    """Write the item's capture rows and its document, link or failure; sets item.outcome."""
    capture_ids = item_capture_ids(session, item, crawl_id)
    source_id = capture_ids.get(item.capture.record_id) if item.capture else None
    if item.failure is not None:
        queries.add_failure(
            session,
            crawl_id=crawl_id,
            uri=item.url,
            stage=item.failure_stage or "unknown",
            reason=item.failure,
            capture_id=source_id,
        )
        item.outcome = "failed"
        return
    if item.revisit_of is not None:
        _link_revisit(session, item, capture_ids)
        return
    if not item.index_as_article or item.document is None or analysis is None:
        item.outcome = "captured"
        return
    # The Dedup stage's decision, taken moments before; re-taken when absent or found stale.
    decision = item.decision or decide(session, analysis, policy, _claimant(item, analysis))
    document_id = decision.document_id
    if document_id is None:
        document_id = _add_document(session, item, analysis, decision, policy)
    queries.set_captures_document(session, list(capture_ids.values()), document_id)
    item.document_id = document_id
    item.outcome = decision.outcome
    item.duplicate_of = decision.duplicate_of
    item.similarity = decision.similarity


def _claimant(item: ArchiveItem, analysis: Analysis) -> Claimant:
    document = item.document
    assert document is not None
    return Claimant(
        document_id=None,
        url=item.url,
        canonical_url=document.canonical_url,
        published=_parse_date(document.published),
        first_seen=item.fetched_at,
        signature=analysis.signature,
        site=document.site,
        credits=analysis.credits,
    )


def _link_revisit(session: Session, item: ArchiveItem, capture_ids: dict[str, int]) -> None:
    assert item.revisit_of is not None
    original = queries.capture_by_record_id(session, item.revisit_of.record_id)
    item.outcome = "revisit"
    if original is None or original.document_id is None:
        return
    queries.set_captures_document(session, list(capture_ids.values()), original.document_id)
    item.document_id = original.document_id


def _add_document(
    session: Session,
    item: ArchiveItem,
    analysis: Analysis,
    decision: Decision,
    policy: IndexPolicy,
) -> int:
    document = item.document
    assert document is not None
    published = _parse_date(document.published)
    document_id = queries.add_document(
        session,
        url=item.url,
        title=document.title,
        author=document.author,
        published=published,
        site=document.site,
        description=document.description,
        language=document.language,
        canonical_url=document.canonical_url,
        source_kind=document.source_kind,
        text=document.text,
        text_digest=analysis.text_digest,
        word_count=document.word_count,
        first_seen=item.fetched_at,
        duplicate_of=decision.duplicate_of,
        similarity=decision.similarity,
        minhash=analysis.signature,
        story_features=analysis.story_features_json,
        story_vector=analysis.story_vector,
        credits=stored_credits(analysis.credits),
    )
    queries.add_lsh_bands(session, document_id, list(analysis.bands))
    if decision.group is not None and decision.canonical_reason is not None:
        canonical = document_id if decision.is_group_canonical else decision.duplicate_of
        assert canonical is not None
        queries.set_group_canonical(
            session, canonical, decision.canonical_reason, list(decision.repoint)
        )
    seen = published or item.fetched_at
    if decision.group is not None:
        canonical_story = queries.story_of(session, decision.group)
        if canonical_story is not None:
            queries.add_to_story(session, canonical_story, document_id, seen)
            item.story_id = canonical_story
            return document_id
    item.story_id = _assign_story(session, document_id, document.title, analysis, seen, policy)
    return document_id


def _assign_story(
    session: Session,
    document_id: int,
    title: str | None,
    analysis: Analysis,
    seen: datetime,
    policy: IndexPolicy,
) -> int:
    window = timedelta(days=policy.story_window_days)
    keys = list(analysis.story_keys)
    candidates = queries.story_candidates(session, keys, since=seen - window, until=seen + window)
    stored = queries.story_vectors_of(session, [member_id for _, member_id, _ in candidates])
    members = [
        (story_id, _stored_vector(stored[member_id]))
        for story_id, member_id, _shared in candidates
        if member_id in stored
    ]
    vector = StoryVector.from_bytes(analysis.story_vector)
    chosen = choose_story(members, vector, threshold=policy.story_threshold)
    if chosen is None:
        story_id = queries.add_story(
            session,
            headline=title or "(untitled)",
            first_seen=seen,
            last_seen=seen,
            lead_document_id=document_id,
        )
    else:
        story_id = chosen[0]
        queries.add_to_story(session, story_id, document_id, seen)
    queries.add_story_keys(session, story_id, document_id, keys, seen)
    return story_id


def _stored_vector(stored: bytes | str) -> StoryVector:
    if isinstance(stored, str):  # features of a row indexed before its vector was stored
        return stored_features_vector(stored)
    return StoryVector.from_bytes(stored)


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parse_iso_utc(value)
    except ValueError:
        return None
