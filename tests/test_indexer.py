"""index_item() against a migrated database on each engine: every outcome and the rows it writes."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from scrapy.settings import Settings
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker, undefer

from bench.corpus import ARTICLES_DIR, SEEDS_DIR
from pipeline.analysis import analyse
from pipeline.db import queries
from pipeline.db.models import Capture, Document, Failure, LshBand, Story
from pipeline.dedup.minhash import BANDS, DEFAULT_THRESHOLD, estimated_jaccard, signature
from pipeline.extract.model import ExtractedDocument
from pipeline.index.deciding import IndexPolicy, policy_from_settings
from pipeline.index.storing import index_item
from pipeline.items import ArchiveItem
from pipeline.warc.ref import RecordRef

DAY0 = datetime(2023, 7, 27, 9, 0, tzinfo=UTC)
POLICY = IndexPolicy()
_serial = itertools.count(1)


def article(path_name: str, directory: str = "seeds") -> tuple[str, list[str]]:
    """Headline and paragraphs of a plain-text article file (headline first, blank-line breaks)."""
    folder = SEEDS_DIR if directory == "seeds" else ARTICLES_DIR
    path = next(folder.glob(f"{path_name}*.txt"))
    lines = [line.strip() for line in path.read_text("utf-8").splitlines()]
    paragraphs = [line for line in lines if len(line.split()) >= 12]
    return paragraphs[0], paragraphs[1:]


def make_ref(url: str, when: datetime, record_type: str = "resource") -> RecordRef:
    serial = next(_serial)
    return RecordRef(
        record_id=f"<urn:uuid:00000000-0000-4000-8000-{serial:012d}>",
        record_type=record_type,
        warc_file="test-00001.warc.gz",
        offset=serial * 1000,
        length=900,
        target_uri=url,
        date=when,
        payload_digest=f"sha1:DIGEST{serial}",
    )


def make_item(
    title: str, paragraphs: list[str], *, when: datetime = DAY0, published: str | None = None
) -> ArchiveItem:
    url = f"https://news{next(_serial)}.example/article"
    document = ExtractedDocument(
        source_kind="text", text="\n".join(paragraphs), title=title, published=published
    )
    return ArchiveItem(url=url, fetched_at=when, capture=make_ref(url, when), document=document)


def index(
    factory: sessionmaker[Session], item: ArchiveItem, policy: IndexPolicy = POLICY
) -> ArchiveItem:
    analysis = analyse(item.document) if item.document is not None else None
    with factory() as session, session.begin():
        index_item(session, item, analysis, None, policy)
    return item


def doc(factory: sessionmaker[Session], document_id: int | None) -> Document:
    assert document_id is not None
    with factory() as session:
        # The dedup columns are deferred (models.py); these tests read them after the session.
        found = session.get(Document, document_id, options=[undefer("*")])
        assert found is not None
        session.expunge(found)
        return found


def count(factory: sessionmaker[Session], model: type) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def edited(paragraphs: list[str], every: int = 30) -> list[str]:
    """Small word edits: every ``every``-th word of each paragraph replaced."""
    out = []
    for paragraph in paragraphs:
        words = paragraph.split()
        for i in range(every // 2, len(words), every):
            words[i] = "reportedly"
        out.append(" ".join(words))
    return out


def test_new_document_rows(session_factory: sessionmaker[Session]) -> None:
    title, paragraphs = article("000")
    item = index(session_factory, make_item(title, paragraphs))
    assert item.outcome == "new" and item.duplicate_of is None and item.similarity is None
    stored = doc(session_factory, item.document_id)
    assert stored.title == title and stored.text == "\n".join(paragraphs)
    assert stored.minhash and stored.story_features and stored.story_id == item.story_id
    assert item.document is not None
    assert stored.story_vector == analyse(item.document).story_vector
    assert count(session_factory, LshBand) == BANDS
    with session_factory() as session:
        story = session.get(Story, item.story_id)
        assert story is not None and story.size == 1 and story.lead_document_id == item.document_id
        assert story.headline == title and story.first_seen == DAY0
        capture = session.scalar(select(Capture))
        assert capture is not None and capture.document_id == item.document_id


def test_same_text_links_capture_to_existing_document(
    session_factory: sessionmaker[Session],
) -> None:
    title, paragraphs = article("001")
    first = index(session_factory, make_item(title, paragraphs))
    again = index(session_factory, make_item("Another headline", paragraphs))
    assert again.outcome == "same-text" and again.document_id == first.document_id
    assert count(session_factory, Document) == 1
    with session_factory() as session:
        linked = session.scalars(select(Capture.document_id)).all()
    assert linked == [first.document_id, first.document_id]


def test_near_duplicate_points_at_original_and_joins_its_story(
    session_factory: sessionmaker[Session],
) -> None:
    title, paragraphs = article("002")
    original = index(session_factory, make_item(title, paragraphs))
    later = DAY0 + timedelta(hours=5)
    copy = make_item(f"{title} - Wire", edited(paragraphs[:-1], every=60), when=later)
    index(session_factory, copy)
    assert copy.outcome == "near-duplicate"
    assert copy.duplicate_of == original.document_id
    assert copy.similarity is not None and DEFAULT_THRESHOLD <= copy.similarity < 1.0
    stored = doc(session_factory, copy.document_id)
    assert stored.duplicate_of == original.document_id and stored.similarity == copy.similarity
    assert stored.story_id == original.story_id == copy.story_id
    with session_factory() as session:
        story = session.get(Story, original.story_id)
        assert story is not None and story.size == 2
        assert story.last_seen == DAY0 + timedelta(hours=5)
        group = queries.duplicate_group(session, original.document_id or 0)
        assert group is not None and [m.document.id for m in group.members] == [copy.document_id]


def test_copy_of_a_copy_points_at_the_first_canonical(
    session_factory: sessionmaker[Session],
) -> None:
    title, paragraphs = article("004")
    original = index(session_factory, make_item(title, paragraphs))
    first_copy = index(session_factory, make_item(title, paragraphs[:-1]))
    # Closer to the first copy (same trimmed ending) than to the original.
    second_copy = index(session_factory, make_item(title, edited(paragraphs[:-1], every=60)))
    assert first_copy.duplicate_of == original.document_id
    assert second_copy.outcome == "near-duplicate"
    assert second_copy.duplicate_of == original.document_id
    # The similarity shown is the one to the canonical, not to the copy it matched best.
    with session_factory() as session:
        group = queries.duplicate_group(session, second_copy.document_id or 0)
        assert group is not None and group.canonical.id == original.document_id
        assert {m.document.id for m in group.members} == {
            first_copy.document_id,
            second_copy.document_id,
        }
    assert second_copy.similarity is not None and first_copy.document is not None
    to_original = estimated_jaccard(
        signature("\n".join(paragraphs)), signature(first_copy.document.text)
    )
    assert first_copy.similarity == round(to_original, 4)
    second_text = "\n".join(edited(paragraphs[:-1], every=60))
    to_copy = estimated_jaccard(signature(first_copy.document.text), signature(second_text))
    to_canonical = estimated_jaccard(signature("\n".join(paragraphs)), signature(second_text))
    assert to_copy > to_canonical  # the premise: it matched the copy best
    assert second_copy.similarity == round(to_canonical, 4)


def test_distinct_articles_are_neither_duplicates_nor_one_story(
    session_factory: sessionmaker[Session],
) -> None:
    seed = index(session_factory, make_item(*article("003")))
    other = index(session_factory, make_item(*article("shoigu-iran", "articles")))
    assert other.outcome == "new" and other.duplicate_of is None
    assert other.story_id != seed.story_id
    assert count(session_factory, Story) == 2


def test_revisit_links_to_the_original_document(session_factory: sessionmaker[Session]) -> None:
    title, paragraphs = article("000")
    first = index(session_factory, make_item(title, paragraphs))
    assert first.capture is not None
    url = first.url
    revisit = ArchiveItem(
        url=url,
        fetched_at=DAY0 + timedelta(days=1),
        capture=make_ref(url, DAY0 + timedelta(days=1), "revisit"),
        revisit_of=first.capture,
    )
    index(session_factory, revisit)
    assert revisit.outcome == "revisit" and revisit.document_id == first.document_id
    assert count(session_factory, Document) == 1
    with session_factory() as session:
        assert session.scalars(select(Capture.document_id)).all() == [first.document_id] * 2


def test_revisit_of_an_unindexed_capture_keeps_the_capture(
    session_factory: sessionmaker[Session],
) -> None:
    url = "https://elsewhere.example/a"
    revisit = ArchiveItem(
        url=url, fetched_at=DAY0, capture=make_ref(url, DAY0, "revisit"),
        revisit_of=make_ref(url, DAY0 - timedelta(days=3)),
    )  # fmt: skip
    index(session_factory, revisit)
    assert revisit.outcome == "revisit" and revisit.document_id is None
    assert count(session_factory, Capture) == 1 and count(session_factory, Document) == 0


def test_failure_row_keeps_reason_and_capture(session_factory: sessionmaker[Session]) -> None:
    url = "https://broken.example/page"
    item = ArchiveItem(url=url, fetched_at=DAY0, capture=make_ref(url, DAY0))
    item.fail("extract", "no article text found")
    index(session_factory, item)
    assert item.outcome == "failed" and item.document_id is None
    with session_factory() as session:
        failure = session.scalar(select(Failure))
        capture = session.scalar(select(Capture))
        assert failure is not None and capture is not None
        assert (failure.uri, failure.stage, failure.reason) == (url, "extract", item.failure)
        assert failure.capture_id == capture.id and capture.document_id is None
    assert count(session_factory, Document) == 0


def test_captured_only_pages_get_no_document(session_factory: sessionmaker[Session]) -> None:
    title, paragraphs = article("001")
    item = make_item(title, paragraphs)
    item.index_as_article = False
    index(session_factory, item)
    assert item.outcome == "captured" and item.document_id is None
    assert count(session_factory, Capture) == 1 and count(session_factory, Document) == 0
    assert count(session_factory, LshBand) == 0


def test_story_join_inside_the_window_and_new_story_outside(
    session_factory: sessionmaker[Session],
) -> None:
    first = index(session_factory, make_item(*article("000")))
    inside = index(session_factory, make_item(*article("001"), when=DAY0 + timedelta(days=3)))
    outside = index(session_factory, make_item(*article("002"), when=DAY0 + timedelta(days=30)))
    assert inside.outcome == outside.outcome == "new"
    assert inside.story_id == first.story_id
    assert outside.story_id not in (None, first.story_id)
    with session_factory() as session:
        story = session.get(Story, first.story_id)
        assert story is not None and story.size == 2
        assert (story.first_seen, story.last_seen) == (DAY0, DAY0 + timedelta(days=3))


def test_members_indexed_before_story_vectors_are_compared_by_their_features(
    session_factory: sessionmaker[Session],
) -> None:
    first = index(session_factory, make_item(*article("000")))
    with session_factory() as session, session.begin():
        session.execute(update(Document).values(story_vector=None))  # as migrated from 0008
    old = doc(session_factory, first.document_id)
    assert old.story_vector is None and old.story_features
    inside = index(session_factory, make_item(*article("001"), when=DAY0 + timedelta(days=1)))
    assert inside.story_id == first.story_id
    assert doc(session_factory, inside.document_id).story_vector


def _outlet_copy(site: str, last_line: str, published: str, when: datetime = DAY0) -> ArchiveItem:
    """A copy of one article on an outlet's site, its own last line making its text distinct."""
    title, paragraphs = article("002")
    url = f"https://news{next(_serial)}.example/article"
    document = ExtractedDocument(
        source_kind="text",
        text="\n".join([*paragraphs, last_line]),
        title=title,
        published=published,
        site=site,
    )
    return ArchiveItem(url=url, fetched_at=when, capture=make_ref(url, when), document=document)


def _crediting_partner(factory: sessionmaker[Session]) -> int:
    """A partner's copy, published first, whose last line credits The Harbour Times: its id."""
    partner = index(
        factory,
        _outlet_copy(
            "Coastal Daily",
            "This article originally appeared on The Harbour Times.",
            "2024-08-01T08:00:00Z",
        ),
    )
    assert partner.document_id is not None
    return partner.document_id


@pytest.mark.parametrize("stored", [True, False], ids=["credits stored", "row older than 0013"])
def test_a_members_credit_line_counts_whether_stored_or_read_from_its_text(
    session_factory: sessionmaker[Session], stored: bool
) -> None:
    partner = _crediting_partner(session_factory)
    assert doc(session_factory, partner).credits == "harbourtimes"
    if not stored:
        with session_factory() as session, session.begin():
            session.execute(update(Document).values(credits=None))  # as migrated from 0012
    original = index(
        session_factory,
        _outlet_copy(
            "The Harbour Times",
            "Our correspondent in Athens contributed to this report.",
            "2024-08-01T10:00:00Z",
            when=DAY0 + timedelta(hours=1),
        ),
    )
    assert original.outcome == "near-duplicate" and original.duplicate_of is None
    assert doc(session_factory, partner).duplicate_of == original.document_id
    canonical = doc(session_factory, original.document_id)
    assert canonical.canonical_reason == "credited as first published by 1 member"
    assert canonical.credits == ""  # its own text credits no one


def test_a_changed_text_has_its_credits_read_again(session_factory: sessionmaker[Session]) -> None:
    partner = _crediting_partner(session_factory)
    with session_factory() as session, session.begin():
        queries.update_document(session, partner, text="A text of its own now.")
    assert doc(session_factory, partner).credits is None


def test_story_window_comes_from_settings(session_factory: sessionmaker[Session]) -> None:
    policy = policy_from_settings(Settings({"ARCHIVE_STORY_WINDOW_DAYS": 1}))
    assert policy.story_window_days == 1
    first = index(session_factory, make_item(*article("000")), policy)
    later = index(
        session_factory, make_item(*article("003"), when=DAY0 + timedelta(days=3)), policy
    )
    assert later.story_id != first.story_id


def test_published_date_places_the_story_not_the_fetch_time(
    session_factory: sessionmaker[Session],
) -> None:
    fetched = DAY0 + timedelta(days=400)
    old = index(session_factory, make_item(*article("000"), when=fetched, published="2023-07-27"))
    same_week = index(session_factory, make_item(*article("004"), when=DAY0))
    assert same_week.story_id == old.story_id
    with session_factory() as session:
        story = session.get(Story, old.story_id)
        assert story is not None and story.first_seen.date() == DAY0.date()


def test_threshold_from_policy_turns_copies_into_new_documents(
    session_factory: sessionmaker[Session],
) -> None:
    title, paragraphs = article("002")
    policy = IndexPolicy(near_dup_threshold=0.999)
    index(session_factory, make_item(title, paragraphs), policy)
    copy = index(session_factory, make_item(title, paragraphs[:-1]), policy)
    assert copy.outcome == "new" and copy.duplicate_of is None
