"""Which document of a near-duplicate group is its canonical (the original), and why.

The original is the copy the others declare with ``rel=canonical`` (most such members first),
then the copy the others credit as the first publisher ("originally published by ...", see
index/credits.py), then the earliest published, with the fetch time only breaking ties.
Copies are compared by the latest moment they can have been published: the stated time; for a
stated day without a time, the end of that day; for a copy stating no date, its fetch time (it
existed by then). On an equal moment the more precise statement wins (time, then day, then
nothing). The rule depends on the group's members only, never on the order they arrived in, so
the canonical is the same whichever copy a crawl (or reindex) meets first. No Scrapy imports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache

from w3lib.url import canonicalize_url

from pipeline.index.credits import credits_outlet, outlet_names


@dataclass(frozen=True)
class Claimant:
    """A group member as the choice sees it; ``document_id`` None is the item being indexed."""

    document_id: int | None
    url: str
    canonical_url: str | None
    # As extraction stores it: the stated moment in UTC, or midnight UTC when only the day is
    # stated (so a stated 00:00:00 UTC counts as a day: the safe reading).
    published: datetime | None
    first_seen: datetime
    signature: bytes | None = None
    site: str | None = None
    # The outlets its credit lines name as the first publisher (index/credits.py), folded.
    credits: tuple[str, ...] = ()


@dataclass(frozen=True)
class Choice:
    canonical: Claimant
    reason: str


def choose_canonical(claimants: Sequence[Claimant]) -> Choice:
    """The group's canonical among ``claimants`` (at least two) and the reason it won."""
    if len(claimants) < 2:
        raise ValueError("a near-duplicate group has at least two members")
    declared = _declared_counts(claimants)
    credited = _credited_counts(claimants)
    ranked = sorted(claimants, key=lambda c: _rank(c, declared, credited))
    winner, runner_up = ranked[0], ranked[1]
    return Choice(winner, _reason(winner, runner_up, declared, credited))


# Why cached: a copy joining a group has every member's URLs compared again, and w3lib's
# canonicalisation is most of the choice's cost in a large group; the key is a pure function.
@lru_cache(maxsize=8192)
def _url_key(url: str) -> str:
    try:
        return canonicalize_url(url.strip())
    except ValueError:
        return url.strip()


def _declared_counts(claimants: Sequence[Claimant]) -> dict[int, int]:
    """Per claimant (by position): how many other members' rel=canonical point at its URL.

    A page declaring itself canonical (most do) says nothing about the others, so it counts not.
    """
    by_url: dict[str, list[int]] = {}
    for position, claimant in enumerate(claimants):
        by_url.setdefault(_url_key(claimant.url), []).append(position)
    counts = dict.fromkeys(range(len(claimants)), 0)
    for position, claimant in enumerate(claimants):
        if not claimant.canonical_url:
            continue
        for target in by_url.get(_url_key(claimant.canonical_url), []):
            if target != position:
                counts[target] += 1
    return {id(claimant): counts[p] for p, claimant in enumerate(claimants)}


def _credited_counts(claimants: Sequence[Claimant]) -> dict[int, int]:
    """Per claimant: how many other members' credit lines name its outlet as the first one.

    A member naming its own outlet (a print edition, say) and a credit naming the outlet of
    several members (one site's two URLs) count for every member it names but the crediting one.
    """
    counts = {id(claimant): 0 for claimant in claimants}
    if not any(claimant.credits for claimant in claimants):
        return counts  # most groups: no member credits anyone
    names = [outlet_names(claimant.site, claimant.url) for claimant in claimants]
    for position, claimant in enumerate(claimants):
        if not claimant.credits:
            continue
        for target, other in enumerate(claimants):
            if target != position and credits_outlet(claimant.credits, names[target]):
                counts[id(other)] += 1
    return counts


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _is_day_only(published: datetime) -> bool:
    return _utc(published).time() == time(0)


def _precision(claimant: Claimant) -> int:
    """0 a stated moment, 1 a stated day, 2 no stated date."""
    if claimant.published is None:
        return 2
    return 1 if _is_day_only(claimant.published) else 0


def _when(claimant: Claimant) -> datetime:
    """The latest moment the copy can have been published."""
    if claimant.published is None:
        return _utc(claimant.first_seen)
    if _is_day_only(claimant.published):
        return _utc(claimant.published) + timedelta(days=1) - timedelta(microseconds=1)
    return _utc(claimant.published)


def _rank(
    claimant: Claimant, declared: dict[int, int], credited: dict[int, int]
) -> tuple[object, ...]:
    indexed = (1, 0) if claimant.document_id is None else (0, claimant.document_id)
    return (
        -declared[id(claimant)],
        -credited[id(claimant)],
        _when(claimant),
        _precision(claimant),
        _utc(claimant.first_seen),
        indexed,
    )


def _stated(claimant: Claimant) -> str:
    assert claimant.published is not None
    if _is_day_only(claimant.published):
        return _utc(claimant.published).date().isoformat()
    return stamp(claimant.published)


def _reason(
    winner: Claimant, runner_up: Claimant, declared: dict[int, int], credited: dict[int, int]
) -> str:
    count = declared[id(winner)]
    if count > declared[id(runner_up)]:
        return f"rel=canonical of {count} member{'' if count == 1 else 's'}"
    count = credited[id(winner)]
    if count > credited[id(runner_up)]:
        return f"credited as first published by {count} member{'' if count == 1 else 's'}"
    earlier = _when(winner) < _when(runner_up)
    if _precision(winner) < 2 and (earlier or _precision(winner) < _precision(runner_up)):
        return f"published earliest ({_stated(winner)})"
    if earlier and _precision(runner_up) < 2:
        return f"fetched ({fetch_stamp(winner.first_seen)}) before the others were published"
    if _utc(winner.first_seen) < _utc(runner_up.first_seen):
        return f"fetched first ({fetch_stamp(winner.first_seen)})"
    return "indexed first"


def fetch_stamp(moment: datetime) -> str:
    """2026-12-02T01:50:07Z: fetch times to the second (as `show` prints them)."""
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def stamp(moment: datetime) -> str:
    """2024-05-14T09:30Z, with seconds when there are any."""
    utc = _utc(moment)
    if utc.second or utc.microsecond:
        return utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    return utc.strftime("%Y-%m-%dT%H:%MZ")
