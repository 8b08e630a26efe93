"""Story features as stored for comparison: one binary vector per report.

The index writer compares every new report with some twenty members of the stories it may
belong to. Parsing a member's features from JSON builds ~700 Python objects and costs ~170 µs;
in a large archive the members are seldom among the recently parsed, so that parsing grew to
most of the writer's time per report. A vector is compared where it lies, with no objects built:

    b"SV1\\0" | terms (uint32) | names (uint32) | term hashes | term weights | name hashes

little-endian; term hashes (uint64, ascending) with their weights (float64, in the same order),
and the hashes of the report's single names (``StoryFeatures.single_entities``, uint64,
ascending). Hashes are XXH3-64 of the UTF-8 text: the same in every process and on every
machine. Two different terms sharing a hash would count as one word in a cosine; at 64 bits
that is not expected in the life of an archive.

The similarity is the one of ``stories.story_similarity``: the cosine of the term weights
(summed over the shared terms in hash order, so it is the same whichever side is first) scaled
down when the reports share fewer than three names.
"""

from __future__ import annotations

import struct
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
import xxhash

if TYPE_CHECKING:
    from numpy.typing import NDArray

_MAGIC = b"SV1\0"
_HEADER = struct.Struct("<4sII")
_HASH = np.dtype("<u8")
_WEIGHT = np.dtype("<f8")
MIN_SHARED_NAMES = 3  # fewer shared names than this scales the similarity down


class WeightedTerms(Protocol):
    """What a vector is made of: a report's weighted terms and its single names
    (``pipeline.dedup.stories.StoryFeatures``, which builds on this module)."""

    @property
    def terms(self) -> Mapping[str, float]: ...

    @property
    def single_entities(self) -> Collection[str]: ...


def _hashes(words: list[str]) -> NDArray[np.uint64]:
    digest = xxhash.xxh3_64_intdigest
    return np.fromiter((digest(word.encode()) for word in words), dtype=_HASH, count=len(words))


@dataclass(frozen=True, eq=False)
class StoryVector:
    """Sorted term hashes with their weights, and the sorted hashes of the single names."""

    terms: NDArray[np.uint64]
    weights: NDArray[np.float64]
    names: NDArray[np.uint64]

    @classmethod
    def of(cls, features: WeightedTerms) -> StoryVector:
        hashes = _hashes(list(features.terms))
        weights = np.fromiter(features.terms.values(), dtype=_WEIGHT, count=len(hashes))
        order = np.argsort(hashes, kind="stable")
        names = np.sort(_hashes(list(features.single_entities)))
        return cls(terms=hashes[order], weights=weights[order], names=names)

    def to_bytes(self) -> bytes:
        header = _HEADER.pack(_MAGIC, len(self.terms), len(self.names))
        return b"".join(
            (
                header,
                self.terms.astype(_HASH, copy=False).tobytes(),
                self.weights.astype(_WEIGHT, copy=False).tobytes(),
                self.names.astype(_HASH, copy=False).tobytes(),
            )
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> StoryVector:
        """Inverse of :meth:`to_bytes` (arrays read in place); ValueError for anything else."""
        if len(data) < _HEADER.size:
            raise ValueError(f"story vector of {len(data)} bytes is shorter than its header")
        magic, terms, names = _HEADER.unpack_from(data)
        if magic != _MAGIC:
            raise ValueError(f"not a story vector (starts with {magic!r})")
        expected = _HEADER.size + 16 * terms + 8 * names
        if len(data) != expected:
            raise ValueError(
                f"story vector of {terms} terms and {names} names should be {expected} bytes, "
                f"not {len(data)}"
            )
        weights_at = _HEADER.size + 8 * terms
        hashes = np.frombuffer(data, dtype=_HASH, count=terms, offset=_HEADER.size)
        name_hashes = np.frombuffer(data, dtype=_HASH, count=names, offset=weights_at + 8 * terms)
        if not (_ascending(hashes) and _ascending(name_hashes)):
            raise ValueError("story vector's hashes are not in ascending order")
        return cls(
            terms=hashes,
            weights=np.frombuffer(data, dtype=_WEIGHT, count=terms, offset=weights_at),
            names=name_hashes,
        )


def _ascending(hashes: NDArray[np.uint64]) -> bool:
    return len(hashes) < 2 or bool(np.all(hashes[1:] >= hashes[:-1]))


def _matches(
    needles: NDArray[np.uint64], haystack: NDArray[np.uint64]
) -> tuple[NDArray[np.intp], NDArray[np.bool_]]:
    """Where each of ``needles`` is in the sorted ``haystack``, and whether it is there."""
    at = np.searchsorted(haystack, needles)
    at[at == len(haystack)] = 0
    return at, haystack[at] == needles


def vector_similarity(a: StoryVector, b: StoryVector) -> float:
    """Cosine of the term vectors, scaled down when the reports share few distinct names."""
    if not len(a.terms) or not len(b.terms) or not len(a.names) or not len(b.names):
        return 0.0
    if len(a.terms) > len(b.terms):
        a, b = b, a
    at, found = _matches(a.terms, b.terms)
    # a's terms are in hash order, so the shared pairs are summed in the same order either way.
    cosine = float(np.dot(a.weights[found], b.weights[at[found]]))
    shared = int(np.count_nonzero(_matches(a.names, b.names)[1]))
    return cosine * min(1.0, shared / MIN_SHARED_NAMES)
