"""Which copy of a near-duplicate group is its original, and the reason `dupes` shows."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from pipeline.index.canonical import Claimant, choose_canonical
from pipeline.index.credits import credited_outlets

FETCHED = datetime(2024, 5, 14, 12, 0, 5, tzinfo=UTC)


def copy(
    document_id: int | None,
    path: str,
    *,
    day: str | None = None,
    moment: str | None = None,
    canonical: str | None = None,
    fetched: datetime = FETCHED,
) -> Claimant:
    return Claimant(
        document_id=document_id,
        url=f"https://news.example{path}",
        canonical_url=f"https://news.example{canonical}" if canonical else None,
        published=stated(day, moment),
        first_seen=fetched,
    )


def stated(day: str | None, moment: str | None) -> datetime | None:
    """``published`` as extraction stores it: the moment, else midnight UTC of the day."""
    if moment:
        return datetime.fromisoformat(moment)
    return datetime.fromisoformat(day).replace(tzinfo=UTC) if day else None


def chosen(*claimants: Claimant) -> tuple[int | None, str]:
    choice = choose_canonical(claimants)
    return choice.canonical.document_id, choice.reason


def test_earliest_stated_moment_wins_over_the_copy_fetched_first() -> None:
    wire = copy(1, "/wire", day="2024-05-14", moment="2024-05-14T11:00:00+00:00")
    own = copy(None, "/own", day="2024-05-14", moment="2024-05-14T09:30:00+00:00")
    assert chosen(wire, own) == (None, "published earliest (2024-05-14T09:30Z)")


def test_a_moment_with_seconds_is_shown_with_them() -> None:
    wire = copy(1, "/wire", day="2024-05-14", moment="2024-05-14T11:00:00+00:00")
    own = copy(2, "/own", day="2024-05-14", moment="2024-05-14T09:30:15+00:00")
    assert chosen(wire, own) == (2, "published earliest (2024-05-14T09:30:15Z)")


def test_a_stated_day_ranks_at_its_end_after_a_moment_of_that_day() -> None:
    day_only = copy(1, "/a", day="2024-05-14")
    timed = copy(2, "/b", day="2024-05-14", moment="2024-05-14T23:00:00+00:00")
    assert chosen(day_only, timed) == (2, "published earliest (2024-05-14T23:00Z)")
    earlier_day = copy(3, "/c", day="2024-05-13")
    assert chosen(day_only, timed, earlier_day) == (3, "published earliest (2024-05-13)")


def test_an_undated_copy_fetched_before_the_others_were_published_is_the_original() -> None:
    undated = copy(1, "/a", fetched=datetime(2024, 5, 14, 8, 0, tzinfo=UTC))
    dated = copy(2, "/b", day="2024-05-14", moment="2024-05-14T09:00:00+00:00")
    assert chosen(dated, undated) == (
        1,
        "fetched (2024-05-14T08:00:00Z) before the others were published",
    )
    # Fetched after the other copy's stated publication: nothing says it was earlier.
    late = copy(3, "/c", fetched=datetime(2024, 5, 14, 10, 0, tzinfo=UTC))
    assert chosen(dated, late) == (2, "published earliest (2024-05-14T09:00Z)")


def test_rel_canonical_of_the_members_beats_publication_times() -> None:
    first = copy(1, "/wire", day="2024-05-14", canonical="/own")
    second = copy(2, "/partner", day="2024-05-13", canonical="/own")
    own = copy(None, "/own", canonical="/own")  # declaring itself canonical counts for nothing
    assert chosen(first, second, own) == (None, "rel=canonical of 2 members")
    assert chosen(copy(1, "/wire", canonical="/own"), copy(2, "/own")) == (
        2,
        "rel=canonical of 1 member",
    )


def test_only_self_declarations_fall_back_to_publication_times() -> None:
    first = copy(1, "/a", day="2024-05-15", canonical="/a")
    second = copy(2, "/b", day="2024-05-14", canonical="/b")
    assert chosen(first, second) == (2, "published earliest (2024-05-14)")


def test_fetch_time_breaks_a_tie_then_the_index_order() -> None:
    moment = "2024-05-14T09:30:00+00:00"
    later = copy(1, "/a", moment=moment, fetched=datetime(2024, 6, 1, 10, 0, 7, tzinfo=UTC))
    sooner = copy(2, "/b", moment=moment, fetched=datetime(2024, 6, 1, 10, 0, 3, tzinfo=UTC))
    assert chosen(later, sooner) == (2, "fetched first (2024-06-01T10:00:03Z)")
    assert chosen(copy(4, "/a"), copy(3, "/b")) == (3, "indexed first")
    assert chosen(copy(None, "/a"), copy(5, "/b")) == (5, "indexed first")


def test_the_choice_does_not_depend_on_the_order_of_the_members() -> None:
    members = [
        copy(1, "/a", day="2024-05-14"),
        copy(2, "/b", moment="2024-05-14T07:00:00+00:00", day="2024-05-14"),
        copy(3, "/c", fetched=datetime(2024, 5, 14, 6, 0, tzinfo=UTC)),
    ]
    assert (
        chosen(*members)
        == chosen(*reversed(members))
        == (
            3,
            "fetched (2024-05-14T06:00:00Z) before the others were published",
        )
    )


def test_a_group_needs_two_members() -> None:
    with pytest.raises(ValueError, match="at least two members"):
        choose_canonical([copy(1, "/a")])


def credited(claimant: Claimant, text: str, site: str | None = None) -> Claimant:
    return replace(claimant, credits=credited_outlets(text), site=site)


@pytest.mark.parametrize(
    ("line", "outlets"),
    [
        ("This article was originally published on The Conversation.", ("conversation",)),
        ("This story first appeared in the Harbour Times, a weekly.", ("harbourtimes",)),
        ("Republished with permission from www.harbour-times.example.", ("harbourtimesexample",)),
        ("Originally published by The Harbour Times (London) - all rights", ("harbourtimes",)),
        ("Dieser Text ist zuerst bei der Hafenzeitung erschienen.", ("hafenzeitung",)),
        ("Dieser Artikel erschien zuerst auf ZEIT ONLINE.", ("zeitonline",)),
        ("Cet article a été publié initialement dans Le Courrier.", ("courrier",)),
        ("Article publié d\u2019abord sur le site de La Gazette.", ("gazette",)),
        ("Publicado originalmente en El Faro.", ("faro",)),
        ("Articolo pubblicato originariamente su Il Porto.", ("porto",)),
        # Prose with the same words is no credit.
        ("The minister first published her plans in May.", ()),
        ("Er war zuerst in Berlin und fuhr dann weiter.", ()),
    ],
)
def test_credit_lines_name_the_first_publisher(line: str, outlets: tuple[str, ...]) -> None:
    assert credited_outlets(f"A first paragraph of the article.\n{line}\nA last one.") == outlets


def test_a_credit_naming_a_members_outlet_beats_publication_times() -> None:
    partner = copy(1, "/partner", moment="2024-05-14T08:00:00+00:00")
    own = copy(None, "/own", moment="2024-05-14T10:00:00+00:00")
    assert chosen(partner, own) == (1, "published earliest (2024-05-14T08:00Z)")
    partner = credited(partner, "Text.\nThis article originally appeared on The Harbour Times.")
    assert chosen(partner, replace(own, site="Harbour Times")) == (
        None,
        "credited as first published by 1 member",
    )
    # A credit that names no member's outlet changes nothing.
    assert chosen(partner, replace(own, site="Other Gazette")) == (
        1,
        "published earliest (2024-05-14T08:00Z)",
    )


def test_a_credit_matches_the_outlets_host_and_rel_canonical_comes_first() -> None:
    partner = credited(
        copy(1, "/partner", day="2024-05-13"),
        "Republished with permission from news.example, our partner.",
    )
    own = copy(2, "/own", day="2024-05-14")
    # Both on news.example: the credit names the other member's host, not its own.
    assert chosen(partner, own) == (2, "credited as first published by 1 member")
    declared = copy(3, "/third", day="2024-05-15")
    pointing = replace(copy(4, "/fourth", day="2024-05-16"), canonical_url=declared.url)
    assert chosen(partner, own, declared, pointing) == (3, "rel=canonical of 1 member")


def test_a_member_url_that_does_not_parse_is_matched_by_its_site_name_only() -> None:
    # Imported archives may hold such URIs; the choice must still be made.
    partner = credited(copy(1, "/partner", day="2024-05-13"), "Originally published by Harbour.")
    broken = replace(copy(2, "/own", day="2024-05-14"), url="http://[::1/broken", site="Harbour")
    assert chosen(partner, broken) == (2, "credited as first published by 1 member")
