"""What an item is against the index, as decided (``pipeline.index.deciding``) and then stored
(``pipeline.index.storing``). A plain record, carried on the item between the two."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    outcome: str  # new, same-text, near-duplicate
    document_id: int | None = None  # the existing document, for same-text
    duplicate_of: int | None = None  # None for a near-duplicate that is its group's new canonical
    similarity: float | None = None
    # For a near-duplicate: the group's canonical before this item (its story is the item's),
    # why the canonical is the one it is, and the members to point at a new canonical (with
    # their similarity to it) when the canonical changes.
    group: int | None = None
    canonical_reason: str | None = None
    repoint: tuple[tuple[int, float | None], ...] = ()

    @property
    def is_group_canonical(self) -> bool:
        return self.outcome == "near-duplicate" and self.duplicate_of is None
