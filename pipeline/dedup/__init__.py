"""Duplicate detection without Scrapy or a database: exact-text digests, MinHash/LSH
near-duplicate signatures and story grouping features. The pipeline stores what these
functions return (digests, signature bytes, band hashes, story keys and features)."""

from __future__ import annotations

from pipeline.dedup.digests import normalise_text, text_digest
from pipeline.dedup.minhash import (
    BANDS,
    DEFAULT_THRESHOLD,
    NUM_PERM,
    ROWS,
    SHINGLE_SIZE,
    EmptyTextError,
    Signature,
    estimated_jaccard,
    lsh_bands,
    signature,
    signature_from_bytes,
    signature_to_bytes,
)
from pipeline.dedup.stories import (
    STORY_THRESHOLD,
    StoryFeatures,
    choose_story,
    story_features,
    story_keys,
    story_similarity,
)
from pipeline.dedup.story_vectors import StoryVector, vector_similarity

__all__ = [
    "BANDS",
    "DEFAULT_THRESHOLD",
    "NUM_PERM",
    "ROWS",
    "SHINGLE_SIZE",
    "STORY_THRESHOLD",
    "EmptyTextError",
    "Signature",
    "StoryFeatures",
    "StoryVector",
    "choose_story",
    "estimated_jaccard",
    "lsh_bands",
    "normalise_text",
    "signature",
    "signature_from_bytes",
    "signature_to_bytes",
    "story_features",
    "story_keys",
    "story_similarity",
    "text_digest",
    "vector_similarity",
]
