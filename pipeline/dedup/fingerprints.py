"""What duplicate detection and story grouping compare of one document: its fingerprints.

Made by ``pipeline.analysis.analyse`` in an extraction worker, carried on the item
(``pipeline.items.ArchiveItem.analysis``) to the index writer, which compares them with the
index (``pipeline.index.deciding``, ``pipeline.index.storing``). A plain record with no imports
of its own, so that the item can name it without depending on the stages that make or read it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Analysis:
    text_digest: str  # of the normalised text: the same text is one document
    signature: bytes  # MinHash signature (pipeline.dedup.minhash.signature_to_bytes)
    bands: tuple[tuple[int, int], ...]  # its LSH bands: where near-duplicate candidates are
    story_features_json: str
    story_keys: tuple[str, ...]
    # StoryVector.to_bytes: hashed in the worker, for the index writer to compare as is.
    story_vector: bytes
    # The outlets its credit lines name as the first publisher (index/credits.py), folded:
    # read in the worker once, stored with the document, counted when a group's canonical is
    # chosen again.
    credits: tuple[str, ...]
