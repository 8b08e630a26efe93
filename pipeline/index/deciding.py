"""What an analysed item is against the index: new, the same text, or a near-duplicate of which.

No Scrapy imports: shared by the crawl and by reindex.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from pipeline.db import queries
from pipeline.dedup.fingerprints import Analysis
from pipeline.dedup.minhash import (
    DEFAULT_THRESHOLD,
    estimated_jaccard,
    signature_from_bytes,
)
from pipeline.dedup.stories import STORY_THRESHOLD
from pipeline.index.canonical import Claimant, choose_canonical
from pipeline.index.credits import read_credits
from pipeline.index.decision import Decision


@dataclass(frozen=True)
class IndexPolicy:
    near_dup_threshold: float = DEFAULT_THRESHOLD
    story_threshold: float = STORY_THRESHOLD
    story_window_days: int = 7


def policy_from_settings(settings: Any) -> IndexPolicy:
    """From Scrapy settings (or any object with getfloat/getint)."""
    return IndexPolicy(
        near_dup_threshold=settings.getfloat("ARCHIVE_NEAR_DUP_THRESHOLD", DEFAULT_THRESHOLD),
        story_threshold=settings.getfloat("ARCHIVE_STORY_THRESHOLD", STORY_THRESHOLD),
        story_window_days=settings.getint("ARCHIVE_STORY_WINDOW_DAYS", 7),
    )


def decide(
    session: Session, analysis: Analysis, policy: IndexPolicy, claimant: Claimant
) -> Decision:
    """``claimant`` is the item itself (no document id yet) as the canonical choice sees it."""
    existing = queries.document_id_by_text_digest(session, analysis.text_digest)
    if existing is not None:
        return Decision("same-text", document_id=existing)
    own = signature_from_bytes(analysis.signature)
    best: tuple[int, float] | None = None
    for document_id, signature_bytes in queries.lsh_candidates(session, list(analysis.bands)):
        similarity = estimated_jaccard(own, signature_from_bytes(signature_bytes))
        if similarity >= policy.near_dup_threshold and (best is None or similarity > best[1]):
            best = (document_id, similarity)
    if best is None:
        return Decision("new")
    return _join_group(session, claimant, *best)


def _join_group(
    session: Session, claimant: Claimant, match_id: int, match_similarity: float
) -> Decision:
    """The item joins its best match's group, whose canonical is chosen again with it.

    Copies of copies point at the canonical, so every group has one; the similarity stored (and
    shown by `dupes`) is the one to the canonical, from the stored MinHash signatures.
    """
    group = queries.lock_group(session, match_id)
    members = [
        Claimant(
            m.document_id,
            m.url,
            m.canonical_url,
            m.published,
            m.first_seen,
            m.minhash,
            site=m.site,
            credits=read_credits(m.credits, m.text),
        )
        for m in queries.group_members(session, group)
    ]
    choice = choose_canonical([*members, claimant])
    winner = choice.canonical
    if winner.document_id is None:
        repoint = tuple((m.document_id, _similarity(claimant, m)) for m in members)
        return Decision(
            "near-duplicate", group=group, canonical_reason=choice.reason, repoint=_known(repoint)
        )
    similarity = _similarity(winner, claimant)
    if similarity is None:  # a canonical without a stored signature: the best match's
        similarity = round(match_similarity, 4)
    repoint = ()
    if winner.document_id != group:
        repoint = tuple(
            (m.document_id, _similarity(winner, m))
            for m in members
            if m.document_id != winner.document_id
        )
    return Decision(
        "near-duplicate",
        duplicate_of=winner.document_id,
        similarity=similarity,
        group=group,
        canonical_reason=choice.reason,
        repoint=_known(repoint),
    )


def _known(
    repoint: tuple[tuple[int | None, float | None], ...],
) -> tuple[tuple[int, float | None], ...]:
    return tuple((doc_id, similarity) for doc_id, similarity in repoint if doc_id is not None)


def _similarity(one: Claimant, other: Claimant) -> float | None:
    if not one.signature or not other.signature:
        return None
    similarity = estimated_jaccard(
        signature_from_bytes(one.signature), signature_from_bytes(other.signature)
    )
    return round(similarity, 4)
