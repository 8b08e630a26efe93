"""What an analysed item is against the index: new, the same text, or a near-duplicate of which.

No Scrapy imports: shared by the crawl and by reindex.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from pipeline.analysis import Analysis
from pipeline.db import queries
from pipeline.dedup.minhash import (
    DEFAULT_THRESHOLD,
    Signature,
    estimated_jaccard,
    signature_from_bytes,
)
from pipeline.dedup.stories import STORY_THRESHOLD


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


@dataclass(frozen=True)
class Decision:
    outcome: str  # new, same-text, near-duplicate
    document_id: int | None = None  # the existing document, for same-text
    duplicate_of: int | None = None
    similarity: float | None = None


def decide(session: Session, analysis: Analysis, policy: IndexPolicy) -> Decision:
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
    canonical, similarity = _canonical_of(session, own, *best)
    return Decision("near-duplicate", duplicate_of=canonical, similarity=round(similarity, 4))


def _canonical_of(
    session: Session, own: Signature, match_id: int, similarity: float
) -> tuple[int, float]:
    """The group's canonical for a best match, and the similarity to that canonical.

    Copies of copies point at the first document, so every group has one canonical; the
    similarity stored (and shown by `dupes`) is then the one to the canonical, not to the copy.
    """
    match = queries.duplicate_link(session, match_id)
    if match is None or match[0] is None:
        return match_id, similarity
    canonical_id = match[0]
    canonical = queries.duplicate_link(session, canonical_id)
    if canonical is not None and canonical[1]:
        similarity = estimated_jaccard(own, signature_from_bytes(canonical[1]))
    return canonical_id, similarity
