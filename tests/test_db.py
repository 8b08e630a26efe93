"""Query functions of pipeline.db.queries on both engines, and opening existing databases."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import exc, text
from sqlalchemy.orm import Session, sessionmaker

from pipeline.db import queries as q
from pipeline.db.existing import open_existing
from pipeline.db.migrate import downgrade_to
from pipeline.db.models import Document
from pipeline.db.session import DatabaseError, default_db_url, make_engine
from pipeline.warc.ref import RecordRef

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
Factory = sessionmaker[Session]


def ref(n: int, kind: str = "response", **overrides: object) -> RecordRef:
    fields: dict[str, object] = {
        "record_id": f"<urn:uuid:00000000-0000-0000-0000-{n:012d}>",
        "record_type": kind,
        "warc_file": "nv-20240301120000000-00000-host-1.warc.gz",
        "offset": 1000 * n,
        "length": 500,
        "target_uri": f"https://news.example.com/a/{n}",
        "date": T0 + timedelta(minutes=n),
        "payload_digest": f"sha1:P{n}",
        "block_digest": f"sha1:B{n}",
        "content_type": "text/html",
        "http_status": 200,
    }
    fields.update(overrides)
    return RecordRef(**fields)  # type: ignore[arg-type]


def doc(session: Session, n: int, **overrides: object) -> int:
    fields: dict[str, object] = {
        "url": f"https://news.example.com/a/{n}",
        "title": f"Title {n}",
        "source_kind": "html",
        "text": f"Body of article number {n}.",
        "text_digest": f"sha256:{n:064d}",
        "first_seen": T0 + timedelta(days=n),
    }
    fields.update(overrides)
    return q.add_document(session, **fields)


def test_crawl_lifecycle(session_factory: Factory) -> None:
    with session_factory() as s, s.begin():
        crawl_id = q.start_crawl(s, "files", {"path": "seeds"})
    with session_factory() as s, s.begin():
        q.finish_crawl(s, crawl_id, {"item_scraped_count": 3, "finish_time": T0})
    with session_factory() as s:
        stats = q.archive_stats(s)
    assert stats.last_crawl is not None
    assert stats.last_crawl.id == crawl_id
    assert stats.last_crawl.finished is not None
    assert stats.last_crawl.started.tzinfo is not None
    with session_factory() as s, s.begin(), pytest.raises(LookupError, match="no crawl"):
        q.finish_crawl(s, crawl_id + 99, {})


def test_scaled_out_crawl_is_one_crawl_with_per_worker_counts(session_factory: Factory) -> None:
    with session_factory() as s, s.begin():
        q.start_crawl(s, "files", {})  # an earlier crawl of one process: not part of it
        first = q.start_crawl(s, "site", {"url": "http://127.0.0.1:9/"})
        second = q.start_crawl(s, "site", {"url": "http://127.0.0.1:9/"})
        for crawl_id in (first, second):
            q.join_shared_crawl(s, crawl_id, first)
        a, b, c = doc(s, 1), doc(s, 2), doc(s, 3)
        q.add_capture(s, ref(1), crawl_id=first, document_id=a)
        q.add_capture(s, ref(2), crawl_id=second, document_id=b)
        q.add_capture(s, ref(3), crawl_id=second, document_id=a)  # same text, after first's
        q.add_capture(s, ref(4, "revisit"), crawl_id=first, document_id=b)
        q.add_capture(s, ref(5), crawl_id=first, document_id=c)
        q.add_capture(s, ref(6, "conversion"), crawl_id=first, document_id=c)  # not a page
        q.add_failure(s, crawl_id=second, uri="http://127.0.0.1:9/x", stage="fetch", reason="404")
    with session_factory() as s:
        crawl = q.last_crawl(s)
    assert crawl is not None and crawl.id == first and crawl.scaled_out
    assert crawl.finished is None  # no worker has ended
    counts = [(w.crawl_id, w.pages, w.documents, w.revisits, w.failures) for w in crawl.workers]
    assert counts == [(first, 3, 2, 1, 0), (second, 2, 1, 0, 1)]
    assert [w.outcome for w in crawl.workers] == [None, None]
    assert all(w.pid is not None and w.host for w in crawl.workers)

    with session_factory() as s, s.begin():
        q.finish_crawl(s, second, {}, "finished")
        assert q.mark_crawl_died(s, first)
        assert not q.mark_crawl_died(s, second)  # it ended by itself
    with session_factory() as s:
        crawl = q.last_crawl(s)
    assert crawl is not None
    assert [w.outcome for w in crawl.workers] == ["died", "finished"]
    assert crawl.workers[0].finished is None
    assert crawl.finished == crawl.workers[1].finished is not None


def test_captures_and_warc_files(session_factory: Factory) -> None:
    with session_factory() as s, s.begin():
        crawl_id = q.start_crawl(s, "files", {})
        first = q.add_capture(s, ref(1), crawl_id=crawl_id)
        again = q.add_capture(s, ref(1), crawl_id=crawl_id)
        q.add_capture(s, ref(2, "request", warc_file="dir/nv-2.warc.gz.open"), crawl_id=None)
    assert first == again
    with session_factory() as s:
        capture = q.capture_by_record_id(s, ref(1).record_id)
        assert capture is not None
        assert capture.date == T0 + timedelta(minutes=1)
        assert capture.date.tzinfo is not None
        assert q.capture_by_record_id(s, "<urn:uuid:nope>") is None
        names = [name for _capture, name in q.all_captures(s)]
        assert names == ["nv-20240301120000000-00000-host-1.warc.gz", "nv-2.warc.gz"]
        # The file row grows with the records indexed in it while it is open.
        assert dict(q.archive_stats(s).warc_files)["nv-2.warc.gz"] == 2500


def test_capture_conflicts_and_bad_types(session_factory: Factory) -> None:
    with session_factory() as s, s.begin():
        q.add_capture(s, ref(1), crawl_id=None)
        with pytest.raises(ValueError, match="already indexed"):
            q.add_capture(s, ref(1, offset=5), crawl_id=None)
        with pytest.raises(ValueError, match="warcinfo"):
            q.add_capture(s, ref(3, "warcinfo"), crawl_id=None)


def test_upsert_warc_file(session_factory: Factory) -> None:
    with session_factory() as s, s.begin():
        a = q.upsert_warc_file(s, "warc/nv-1.warc.gz.open", 10, closed=False)
        b = q.upsert_warc_file(s, "nv-1.warc.gz", 99, closed=True)
        # Imported files are indexed where they lie: their absolute location stays whole.
        external = q.upsert_warc_file(s, "/data/old/crawl.warc.gz", 5, closed=True)
        packaged = q.upsert_warc_file(s, "/data/a.wacz#archive/b.warc.gz", 7, closed=True)
    assert a == b and len({a, external, packaged}) == 3
    with session_factory() as s:
        stats = q.archive_stats(s)
    assert ("nv-1.warc.gz", 99) in stats.warc_files
    assert ("/data/old/crawl.warc.gz", 5) in stats.warc_files
    assert ("/data/a.wacz#archive/b.warc.gz", 7) in stats.warc_files
    with session_factory() as s, s.begin(), pytest.raises(ValueError, match="WARC file name"):
        q.upsert_warc_file(s, "dir/", 1, closed=True)


def test_original_capture_by_payload_digest(session_factory: Factory) -> None:
    with session_factory() as s, s.begin():
        q.add_capture(s, ref(5, payload_digest="sha1:SAME"), crawl_id=None)
        q.add_capture(s, ref(2, "revisit", payload_digest="sha1:SAME"), crawl_id=None)
        q.add_capture(s, ref(3, "resource", payload_digest="sha1:SAME"), crawl_id=None)
    with session_factory() as s:
        original = q.original_capture_by_payload_digest(s, "sha1:SAME")
        assert original is not None
        assert original.record_id == ref(3).record_id  # earliest non-revisit
        assert q.original_capture_by_payload_digest(s, "sha1:OTHER") is None


def test_documents_and_lookup(session_factory: Factory) -> None:
    with session_factory() as s, s.begin():
        d1 = doc(s, 1, canonical_url="https://example.com/canonical")
        d2 = doc(s, 2, url="https://news.example.com/a/1")  # same URL, later version
        capture = q.add_capture(s, ref(7, target_uri="https://m.example.com/x"), crawl_id=None)
        q.set_capture_document(s, capture, d1)
    with session_factory() as s:
        found = q.document_by_text_digest(s, f"sha256:{1:064d}")
        assert found is not None
        assert found.id == d1
        assert found.word_count == 5
        assert q.document_by_text_digest(s, "sha256:none") is None
        assert _id(q.get_document(s, str(d1))) == d1
        assert _id(q.get_document(s, "https://news.example.com/a/1")) == d2
        assert _id(q.get_document(s, "https://example.com/canonical")) == d1
        assert _id(q.get_document(s, "https://m.example.com/x")) == d1
        assert q.get_document(s, "https://nowhere.example/") is None
        assert q.get_document(s, "999999") is None
        assert q.get_document(s, "   ") is None


def _id(document: Document | None) -> int | None:
    return None if document is None else document.id


def test_add_document_validation(session_factory: Factory) -> None:
    with session_factory() as s, s.begin():
        with pytest.raises(ValueError, match="source_kind"):
            doc(s, 1, source_kind="pdf")
        with pytest.raises(TypeError, match="invalid keyword"):
            doc(s, 1, colour="red")


def test_set_capture_document_missing(session_factory: Factory) -> None:
    with session_factory() as s, s.begin(), pytest.raises(LookupError, match="no capture"):
        q.set_capture_document(s, 12345, 1)


def test_document_captures_and_source(session_factory: Factory) -> None:
    with session_factory() as s, s.begin():
        d = doc(s, 1)
        q.add_capture(s, ref(3, "conversion"), crawl_id=None, document_id=d)
        q.add_capture(s, ref(2, "response"), crawl_id=None, document_id=d)
        q.add_capture(s, ref(1, "request"), crawl_id=None, document_id=d)
        q.add_capture(s, ref(4, "response"), crawl_id=None, document_id=d)
    with session_factory() as s:
        kinds = [c.record_type for c in q.document_captures(s, d)]
        assert kinds == ["request", "response", "conversion", "response"]
        source = q.source_capture(s, d)
        assert source is not None
        assert source.record_id == ref(2).record_id
        assert q.source_capture(s, d + 1) is None
        assert q.document_captures(s, d + 1) == []


def test_iter_documents_streams_in_id_order(session_factory: Factory) -> None:
    with session_factory() as s, s.begin():
        ids = [doc(s, n) for n in range(7)]
    with session_factory() as s:
        assert [d.id for d in q.iter_documents(s, batch=2)] == ids


def test_failures(session_factory: Factory) -> None:
    with session_factory() as s, s.begin():
        crawl_id = q.start_crawl(s, "files", {})
        capture = q.add_capture(s, ref(1), crawl_id=crawl_id)
        q.add_failure(s, crawl_id=crawl_id, uri="file:///a", stage="extract", reason="empty")
        q.add_failure(
            s, crawl_id=None, uri="https://x/", stage="fetch", reason="404", capture_id=capture
        )
        with pytest.raises(ValueError, match="stage"):
            q.add_failure(s, crawl_id=None, uri="u", stage="x" * 33, reason="r")
    with session_factory() as s:
        assert [f.stage for f in q.list_failures(s)] == ["extract", "fetch"]
        assert [f.uri for f in q.list_failures(s, crawl_id=crawl_id)] == ["file:///a"]
        stats = q.archive_stats(s)
    assert stats.failures == 2
    assert stats.failures_by_stage == {"extract": 1, "fetch": 1}


def test_unique_text_digest(session_factory: Factory) -> None:
    with session_factory() as s, s.begin():
        doc(s, 1)
    with session_factory() as s, s.begin(), pytest.raises(exc.IntegrityError):
        doc(s, 2, text_digest=f"sha256:{1:064d}")


def test_unique_record_id_and_warc_name(session_factory: Factory) -> None:
    with session_factory() as s, s.begin():
        q.add_capture(s, ref(1), crawl_id=None)
    statements = [
        "INSERT INTO warc_files (name, size, created_at, closed) "
        "VALUES ('nv-20240301120000000-00000-host-1.warc.gz', 1, '2024-01-01', false)",
        'INSERT INTO captures (record_id, record_type, warc_file_id, "offset", length, uri, date) '
        f"VALUES ('{ref(1).record_id}', 'response', 1, 0, 1, 'u', '2024-01-01')",
    ]
    for statement in statements:
        with session_factory() as s, s.begin(), pytest.raises(exc.IntegrityError):
            s.execute(text(statement))


def test_lsh_bands_and_candidates(session_factory: Factory) -> None:
    with session_factory() as s, s.begin():
        a = doc(s, 1, minhash=b"\x01" * 8)
        b = doc(s, 2, minhash=b"\x02" * 8)
        c = doc(s, 3)  # no signature: never a candidate
        q.add_lsh_bands(s, a, [(0, 11), (1, 2**64 - 1), (2, 33)])
        q.add_lsh_bands(s, b, [(0, 11), (1, 99), (2, 98)])
        q.add_lsh_bands(s, c, [(0, 11)])
    with session_factory() as s:
        # Stored as given, an unsigned 64-bit hash as its signed counterpart.
        stored = s.execute(
            text("SELECT band, hash FROM lsh_bands WHERE document_id = :a ORDER BY band"), {"a": a}
        ).all()
        assert [tuple(row) for row in stored] == [(0, 11), (1, -1), (2, 33)]
        found = q.lsh_candidates(s, [(0, 11), (1, -1), (2, 33)])
        assert found == [(a, b"\x01" * 8), (b, b"\x02" * 8)]
        assert q.lsh_candidates(s, [(0, 11)], limit=1) == [(a, b"\x01" * 8)]
        assert q.lsh_candidates(s, [(5, 11)]) == []
        assert q.lsh_candidates(s, []) == []
    with session_factory() as s, s.begin(), pytest.raises(ValueError, match="64-bit"):
        q.add_lsh_bands(s, a, [(9, 2**64)])
    with session_factory() as s, s.begin(), pytest.raises(exc.IntegrityError):
        q.add_lsh_bands(s, c + 1000, [(0, 11), (1, 12)])  # no such document


def test_stories(session_factory: Factory) -> None:
    with session_factory() as s, s.begin():
        a = doc(s, 1, site="Daily One")
        b = doc(s, 2, url="https://www.other.example/x")
        c = doc(s, 3)
        story = q.add_story(s, headline="Flood", first_seen=T0, last_seen=T0, lead_document_id=a)
        q.add_to_story(s, story, b, T0 + timedelta(days=2))
        q.add_to_story(s, story, b, T0 + timedelta(days=2))  # no double count
        q.add_story_keys(s, story, a, ["flood", "river", "flood"], T0)
        q.add_story_keys(s, story, b, ["flood"], T0 + timedelta(days=2))
        lone = q.add_story(s, headline="Other", first_seen=T0, last_seen=T0, lead_document_id=c)
        q.add_story_keys(s, lone, c, ["river"], T0)
    with session_factory() as s:
        rows = q.list_stories(s)
        assert [(r.story_id, r.size) for r in rows] == [(story, 2), (lone, 1)]
        assert rows[0].outlets == ["Daily One", "other.example"]
        assert rows[0].last_seen == T0 + timedelta(days=2)
        assert [d.id for d in q.story_members(s, story)] == [a, b]
        since, until = T0 - timedelta(days=1), T0 + timedelta(days=1)
        late_window = T0 + timedelta(days=2, hours=1)
        found = q.story_candidates(s, ["flood", "river"], since=since, until=until)
        assert found == [(story, a, 2), (lone, c, 1)]  # b was seen outside the window
        later = q.story_candidates(s, ["flood"], since=T0 + timedelta(days=1), until=late_window)
        assert later == [(story, b, 1)]
        late = T0 + timedelta(days=3)
        assert q.story_candidates(s, ["flood"], since=late, until=late) == []
        assert q.story_candidates(s, [], since=since, until=until) == []
    with session_factory() as s, s.begin(), pytest.raises(ValueError, match="story keys"):
        q.add_story_keys(s, story, c, ["k" * 65], T0)


def test_story_candidates_read_only_the_newest_members_of_a_crowded_key(
    session_factory: Factory,
) -> None:
    """A key held by more members than ``per_key`` in the window contributes its newest only;
    a member it leaves out is still found through a key of its own."""
    with session_factory() as s, s.begin():
        crowd = [doc(s, n, first_seen=T0) for n in range(8)]
        oldest = crowd[0]
        story = q.add_story(
            s, headline="Summit", first_seen=T0, last_seen=T0, lead_document_id=oldest
        )
        for n, member in enumerate(crowd):
            q.add_story_keys(s, story, member, ["summit"], T0 + timedelta(minutes=n))
        q.add_story_keys(s, story, oldest, ["geneva+summit"], T0)
    since, until = T0 - timedelta(days=1), T0 + timedelta(days=1)
    with session_factory() as s:
        everyone = q.story_candidates(s, ["summit"], since=since, until=until)
        assert sorted(member for _, member, _ in everyone) == sorted(crowd)
        newest = q.story_candidates(s, ["summit"], since=since, until=until, per_key=3)
        assert [member for _, member, _ in newest] == sorted(crowd[-3:])
        both = q.story_candidates(
            s, ["summit", "geneva+summit"], since=since, until=until, per_key=3
        )
        # The oldest member is past the crowded key's three, but its own key finds it.
        assert both == [(story, member, 1) for member in sorted([oldest, *crowd[-3:]])]
        assert q.story_candidates(s, ["summit"] * 3, since=since, until=until, per_key=2) == [
            (story, crowd[-2], 1),
            (story, crowd[-1], 1),
        ]


def test_duplicate_groups(session_factory: Factory) -> None:
    with session_factory() as s, s.begin():
        canon = doc(s, 1)
        near = doc(s, 2, duplicate_of=canon, similarity=0.9)
        nearer = doc(s, 3, duplicate_of=canon, similarity=0.95)
        alone = doc(s, 4)
    with session_factory() as s:
        groups = q.duplicate_groups(s)
        assert len(groups) == 1
        assert groups[0].canonical.id == canon
        assert [(m.document.id, m.similarity) for m in groups[0].members] == [
            (nearer, 0.95),
            (near, 0.9),
        ]
        by_member = q.duplicate_group(s, near)
        assert by_member is not None
        assert by_member.canonical.id == canon
        assert q.duplicate_group(s, alone) is None
        assert q.duplicate_group(s, 999) is None


def test_archive_stats(session_factory: Factory) -> None:
    with session_factory() as s, s.begin():
        a = doc(s, 1, site="Daily One", published=datetime(2024, 1, 5, 23, 30, tzinfo=UTC))
        b = doc(s, 2, url="file:///seeds/b.txt")
        doc(s, 3, duplicate_of=a, similarity=0.9)
        q.add_capture(s, ref(1), crawl_id=None, document_id=a)
        q.add_capture(s, ref(2), crawl_id=None, document_id=a)  # same text, other URL
        q.add_capture(s, ref(3, "revisit"), crawl_id=None, document_id=b)
        q.add_capture(s, ref(4, "resource"), crawl_id=None, document_id=b)
        q.add_capture(s, ref(5, "conversion"), crawl_id=None, document_id=b)
    with session_factory() as s:
        stats = q.archive_stats(s)
    assert stats.documents == 3
    assert stats.captures == {"conversion": 1, "resource": 1, "response": 2, "revisit": 1}
    assert stats.revisits == 1
    assert stats.same_text_links == 1
    assert stats.second_sightings == 2
    assert stats.near_duplicates == 1
    assert stats.stories == 0
    assert dict(stats.by_source) == {"Daily One": 1, "local": 1, "news.example.com": 1}
    assert stats.by_day == [(date(2024, 1, 5), 1), (date(2024, 3, 3), 1), (date(2024, 3, 4), 1)]
    assert stats.last_crawl is None


def test_archive_stats_counts_each_source_and_day_over_the_other(
    session_factory: Factory,
) -> None:
    """Sources and days come from one grouping by both: each sums over the other."""
    day = datetime(2024, 6, 1, 8, tzinfo=UTC)
    with session_factory() as s, s.begin():
        doc(s, 1, site="Daily One", published=day)
        doc(s, 2, site="Daily One", published=day + timedelta(days=1))
        doc(s, 3, site="Daily One", published=day + timedelta(hours=3))
        doc(s, 4, url="https://www.wire.example/x", published=day)
        doc(s, 5, url="https://wire.example/y", published=day + timedelta(days=1))
        doc(s, 6, site="", url="file:///texts/a.txt", published=day)
    with session_factory() as s:
        stats = q.archive_stats(s)
    assert stats.by_source == [("Daily One", 3), ("wire.example", 2), ("local", 1)]
    assert stats.by_day == [(date(2024, 6, 1), 4), (date(2024, 6, 2), 2)]


def test_count_rows(session_factory: Factory) -> None:
    with session_factory() as s, s.begin():
        doc(s, 1)
        q.add_capture(s, ref(1), crawl_id=None)
    with session_factory() as s:
        counts = q.count_rows(s)
    assert counts["documents"] == 1
    assert counts["captures"] == 1
    assert counts["warc_files"] == 1
    assert counts["failures"] == 0
    assert set(counts) >= {"crawls", "stories", "lsh_bands", "story_keys"}


def test_timestamps_round_trip_as_utc(session_factory: Factory) -> None:
    plus_two = datetime(2024, 5, 1, 14, 0, tzinfo=UTC).astimezone(
        __import__("datetime").timezone(timedelta(hours=2))
    )
    with session_factory() as s, s.begin():
        d = doc(s, 1, published=plus_two, first_seen=datetime(2024, 5, 1, 9, 0))
    with session_factory() as s:
        stored = s.get(Document, d)
        assert stored is not None
        assert stored.published == datetime(2024, 5, 1, 14, 0, tzinfo=UTC)
        assert stored.published.utcoffset() == timedelta(0)
        assert stored.first_seen == datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


# open_existing and friends (SQLite files; PostgreSQL where noted)


def test_default_db_url(tmp_path: Path) -> None:
    assert default_db_url(tmp_path) == f"sqlite:///{tmp_path.resolve()}/index.sqlite"


def test_make_engine_maps_postgresql_to_psycopg() -> None:
    engine = make_engine("postgresql://user@127.0.0.1:1/db")
    assert engine.dialect.driver == "psycopg"


def test_open_existing_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "none.sqlite"
    with pytest.raises(DatabaseError, match=f"^database not found: {re.escape(str(path))}$"):
        open_existing(f"sqlite:///{path}")
    assert not path.exists()


def test_open_existing_text_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_text("this is not a database\n" * 20)
    with pytest.raises(DatabaseError, match=f"^database file is corrupt: {re.escape(str(path))}$"):
        open_existing(f"sqlite:///{path}")


@pytest.mark.parametrize("make", ["empty-file", "empty-database"])
def test_open_existing_without_schema(tmp_path: Path, make: str) -> None:
    path = tmp_path / "index.sqlite"
    if make == "empty-file":
        path.touch()
    else:
        sqlite3.connect(path).execute("CREATE TABLE unrelated (x)").connection.close()
    with pytest.raises(DatabaseError, match=r"^not a newsvault database \(no schema\)"):
        open_existing(f"sqlite:///{path}")


def test_open_existing_old_revision(db_url: str) -> None:
    from pipeline.db.migrate import upgrade_to_head

    upgrade_to_head(db_url)
    downgrade_to(db_url, "0001")
    with pytest.raises(DatabaseError, match=r"revision 0001.*run a crawl"):
        open_existing(db_url)


def test_open_existing_at_head(migrated_url: str) -> None:
    engine = open_existing(migrated_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM documents")).scalar() == 0
    finally:
        engine.dispose()


def test_open_existing_unreachable_postgresql() -> None:
    with pytest.raises(DatabaseError, match="cannot connect to database"):
        open_existing("postgresql://postgres@127.0.0.1:1/none?connect_timeout=2")


def test_crawl_args_are_json(session_factory: Factory) -> None:
    with session_factory() as s, s.begin():
        crawl_id = q.start_crawl(s, "urls", {"b": "2", "a": "1"})
    with session_factory() as s:
        from pipeline.db.models import Crawl

        crawl = s.get(Crawl, crawl_id)
        assert crawl is not None
        assert json.loads(crawl.args) == {"a": "1", "b": "2"}
