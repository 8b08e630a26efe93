"""A killed crawl's WARC files: torn last records, recovery of `.open` files, and the commands
that read the archive (reindex, verify, export --wacz) on what such a crawl leaves behind."""

from __future__ import annotations

import html
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from pipeline.db import queries
from pipeline.db.migrate import upgrade_to_head
from pipeline.db.models import Capture, Failure
from pipeline.db.session import default_db_url, make_engine, make_session_factory
from pipeline.index.deciding import IndexPolicy
from pipeline.index.export import document_row
from pipeline.index.reindex import (
    ReplayState,
    index_missing_records,
    rebuild,
    unfinished_warc_files,
)
from pipeline.index.verify import verify_archive
from pipeline.warc.reading import TornTailError, WarcReadError, iter_records
from pipeline.warc.recovery import (
    RecoveryError,
    file_name_host,
    recover_open_file,
    recover_stale_files,
    stale_open_files,
    writer_state,
)
from pipeline.warc.ref import RecordRef
from pipeline.warc.writer import WarcWriter
from tests.cli import PROJECT_DIR, archive_env, assert_clean_error, scrapy
from tests.pgdb import fresh_postgres_database

BIN = Path(sys.executable).parent
ARTICLES = sorted((PROJECT_DIR / "tests" / "data" / "articles").glob("*.txt"))
HOST = "test-host.local"  # with a '-' and a '.', as real host names have
OLD = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(child.stdout)


def article_html(number: int) -> bytes:
    title, _, body = ARTICLES[number % len(ARTICLES)].read_text("utf-8").partition("\n")
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in body.splitlines() if p.strip())
    lead = f"<p>Dispatch {number}: our correspondent filed this report on day {number % 28}.</p>"
    return (
        f"<html><head><title>{html.escape(title)} ({number})</title></head><body><article>"
        f"<h1>{html.escape(title)}</h1>{lead}{paragraphs}</article></body></html>"
    ).encode()


def write_pages(writer: WarcWriter, numbers: range) -> list[RecordRef]:
    """Response + request per page, as the crawl archives them; every ref, in write order."""
    refs = []
    for number in numbers:
        uri = f"http://127.0.0.1:9/news/{number}"
        response = writer.write_response(
            uri,
            status=200,
            reason="OK",
            headers=[("Content-Type", "text/html; charset=utf-8")],
            body=article_html(number),
        )
        request = writer.write_request(
            uri,
            method="GET",
            target=f"/news/{number}",
            headers=[("Host", "127.0.0.1:9")],
            concurrent_to=response.record_id,
        )
        refs += [response, request]
    return refs


def killed_writer(warc_dir: Path, **options: object) -> WarcWriter:
    """A writer named as if by a process that is gone; never closed, like a killed crawl's."""
    settings: dict = {"prefix": "test", "host": HOST, "pid": dead_pid(), "clock": lambda: OLD}
    settings.update(options)
    return WarcWriter(warc_dir, **settings)


@pytest.fixture
def open_file(tmp_path: Path) -> tuple[Path, list[RecordRef]]:
    writer = killed_writer(tmp_path)
    refs = write_pages(writer, range(6))
    path = tmp_path / f"{writer.current_name}.open"
    assert path.is_file()
    return path, refs


def cut_points(last: RecordRef) -> list[int]:
    # Inside the gzip magic, the header, the deflate data and the 8-byte trailer.
    return [1, 2, 9, 10, 11, 40, last.length // 2, last.length - 8, last.length - 1]


# -- reading -------------------------------------------------------------------------------


def test_torn_last_record_ends_iteration_with_its_offset(
    open_file: tuple[Path, list[RecordRef]],
) -> None:
    path, refs = open_file
    whole = path.read_bytes()
    last = refs[-1]
    for cut in cut_points(last):
        path.write_bytes(whole[: last.offset + cut])
        seen: list[str] = []
        with pytest.raises(TornTailError) as torn:
            seen.extend(stored.ref.record_id for stored in iter_records(path))
        assert seen[1:] == [ref.record_id for ref in refs[:-1]], cut  # warcinfo first
        assert (torn.value.offset, torn.value.tail_bytes) == (last.offset, cut)
        assert f"at offset {last.offset}: truncated gzip member" in str(torn.value)
    # Cut exactly between two members: nothing torn, just fewer records.
    path.write_bytes(whole[: last.offset])
    assert [s.ref.record_id for s in iter_records(path)][1:] == [r.record_id for r in refs[:-1]]


def damage_two_thirds_in(path: Path, refs: list[RecordRef]) -> RecordRef:
    data = bytearray(path.read_bytes())
    hit = next(ref for ref in refs if ref.offset > len(data) * 2 // 3)
    start = hit.offset + hit.length // 2
    data[start : start + 40] = bytes(byte ^ 0x5A for byte in data[start : start + 40])
    path.write_bytes(bytes(data))
    return hit


def test_damage_in_the_middle_stays_an_error(open_file: tuple[Path, list[RecordRef]]) -> None:
    path, refs = open_file
    hit = damage_two_thirds_in(path, refs)
    assert hit is not refs[-1]
    with pytest.raises(WarcReadError) as error:
        list(iter_records(path))
    assert not isinstance(error.value, TornTailError)
    assert error.value.offset == hit.offset


def test_member_that_swallows_the_rest_is_not_a_torn_tail(
    open_file: tuple[Path, list[RecordRef]],
) -> None:
    # A member that opens a stored deflate block of 65,535 bytes runs over everything after it
    # to the end of the file without a zlib error: the complete records it swallowed show that
    # the damage is in the middle, not a torn last record.
    path, refs = open_file
    data = path.read_bytes()
    victim = refs[2]
    assert len(data) - victim.offset < 0xFFFF
    stored_block = data[victim.offset : victim.offset + 10] + b"\x00\xff\xff\x00\x00"
    path.write_bytes(data[: victim.offset] + stored_block + data[victim.offset + victim.length :])
    with pytest.raises(WarcReadError) as error:
        list(iter_records(path))
    assert not isinstance(error.value, TornTailError)
    assert "runs over a complete record" in str(error.value)


# -- recovering an .open file ----------------------------------------------------------------


def test_recover_moves_torn_tail_aside_and_closes_file(
    open_file: tuple[Path, list[RecordRef]],
) -> None:
    path, refs = open_file
    last = refs[-1]
    cut = path.read_bytes()[: last.offset + last.length // 2]
    path.write_bytes(cut)
    result = recover_open_file(path)
    final = path.with_name(path.name.removesuffix(".open"))
    assert not path.exists() and result.final_path == final
    assert result.complete_records == len(refs)  # warcinfo + every record but the torn one
    assert result.torn_offset == last.offset and result.partial_bytes == last.length // 2
    assert result.partial_path == final.with_name(final.name + ".partial")
    assert final.read_bytes() + result.partial_path.read_bytes() == cut  # no byte lost
    kept = [(s.ref.record_id, s.ref.offset) for s in iter_records(final)][1:]
    assert kept == [(r.record_id, r.offset) for r in refs[:-1]]
    check = subprocess.run([BIN / "warcio", "check", str(final)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_recovery_killed_after_saving_the_tail_finishes_the_job(
    open_file: tuple[Path, list[RecordRef]],
) -> None:
    path, refs = open_file
    last = refs[-1]
    data = path.read_bytes()[: last.offset + 100]
    path.write_bytes(data)
    final = path.with_name(path.name.removesuffix(".open"))
    # Killed between saving the tail and cutting the file: the same tail is already there.
    saved = final.with_name(final.name + ".partial")
    saved.write_bytes(data[last.offset :])
    result = recover_open_file(path)
    assert result.partial_path == saved and saved.read_bytes() == data[last.offset :]
    assert final.stat().st_size == last.offset
    assert sorted(p.name for p in path.parent.iterdir()) == [final.name, saved.name]


def test_recovery_never_overwrites_another_partial_file(
    open_file: tuple[Path, list[RecordRef]],
) -> None:
    path, refs = open_file
    last = refs[-1]
    path.write_bytes(path.read_bytes()[: last.offset + 50])
    final = path.with_name(path.name.removesuffix(".open"))
    other = final.with_name(final.name + ".partial")
    other.write_bytes(b"someone else's torn bytes")
    result = recover_open_file(path)
    assert result.partial_path == final.with_name(final.name + ".1.partial")
    assert other.read_bytes() == b"someone else's torn bytes"
    assert result.partial_path.stat().st_size == 50


def test_file_with_nothing_complete_becomes_partial_whole(tmp_path: Path) -> None:
    writer = killed_writer(tmp_path)
    writer.write_resource("file:///a", b"x", content_type=None)
    path = tmp_path / f"{writer.current_name}.open"
    warcinfo = next(iter_records(path)).ref
    data = path.read_bytes()[: warcinfo.length - 3]
    path.write_bytes(data)
    result = recover_open_file(path)
    assert result.complete_records == 0 and not result.salvaged
    assert result.partial_path is not None and result.partial_path.read_bytes() == data
    assert list(tmp_path.iterdir()) == [result.partial_path]
    empty = tmp_path / f"test-20240102030405678-00009-{HOST}-{dead_pid()}.warc.gz.open"
    empty.write_bytes(b"")
    assert recover_open_file(empty).partial_path == tmp_path / (empty.stem + ".partial")


def test_whole_file_is_renamed_and_damaged_one_left_alone(
    open_file: tuple[Path, list[RecordRef]],
) -> None:
    path, refs = open_file
    result = recover_open_file(path)
    assert result.partial_path is None and result.complete_records == len(refs) + 1
    assert result.final_path.is_file() and not path.exists()
    damaged = killed_writer(path.parent, prefix="other")
    other_refs = write_pages(damaged, range(6))
    damaged_path = path.parent / f"{damaged.current_name}.open"
    damage_two_thirds_in(damaged_path, other_refs)
    before = damaged_path.read_bytes()
    with pytest.raises(RecoveryError, match="corrupt gzip data"):
        recover_open_file(damaged_path)
    assert damaged_path.read_bytes() == before
    assert not list(path.parent.glob("other*.partial"))


# -- which .open files are stale ---------------------------------------------------------------


def test_stale_open_files_by_host_pid_and_start_time(tmp_path: Path) -> None:
    def open_file_of(
        pid: int, *, host: str = HOST, clock: Callable[[], datetime] | None = None
    ) -> Path:
        options: dict = {"prefix": "test", "host": host, "pid": pid}
        if clock is not None:
            options["clock"] = clock
        writer = WarcWriter(tmp_path, **options)
        writer.write_resource("file:///a", b"x", content_type=None)
        return tmp_path / f"{writer.current_name}.open"

    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    sleeper = subprocess.Popen(["sleep", "60"])  # alive, but not a Python process
    try:
        time.sleep(0.2)
        dead = open_file_of(dead_pid())
        written_live = open_file_of(live.pid)  # opened after the process started
        reused = open_file_of(live.pid, clock=lambda: OLD)  # opened before it started: reused pid
        not_python = open_file_of(sleeper.pid)
        ours_earlier = open_file_of(os.getpid(), clock=lambda: OLD)
        other_host = open_file_of(dead_pid(), host="other-host")
        suffix_host = open_file_of(dead_pid(), host="x-" + HOST)  # ends like ours, is not
        stale = stale_open_files(tmp_path, host=HOST)
        assert stale == sorted([dead, reused, not_python, ours_earlier])
        assert writer_state(written_live, host=HOST) == "alive"
        assert writer_state(other_host, host=HOST) == "other host"
        assert writer_state(suffix_host, host=HOST) == "other host"
        assert writer_state(tmp_path / "import.warc.gz", host=HOST) == "not ours"
        recovered, failed = recover_stale_files(tmp_path, host=HOST)
        assert failed == [] and {r.open_path for r in recovered} == set(stale)
        assert written_live.exists() and other_host.exists() and suffix_host.exists()
    finally:
        for process in (live, sleeper):
            process.kill()
            process.wait()


def test_default_host_is_the_writers(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path, prefix="test", pid=dead_pid())
    writer.write_resource("file:///a", b"x", content_type=None)
    assert f"-{file_name_host()}-" in str(writer.current_name)
    assert file_name_host(socket.gethostname()) == file_name_host()
    assert stale_open_files(tmp_path) == [tmp_path / f"{writer.current_name}.open"]
    assert file_name_host("evil/../host name") == "evil_.._host_name"


# -- the commands on a killed crawl's archive -------------------------------------------------


def make_archive(archive: Path, pages: int = 8) -> tuple[Path, list[RecordRef]]:
    """A closed WARC file of ``pages`` pages, and an index built from it by `scrapy reindex`."""
    with WarcWriter(archive / "warc", prefix="test", host=HOST, pid=1) as writer:
        refs = write_pages(writer, range(pages))
    result = scrapy("reindex", env=archive_env(archive))
    assert result.code == 0, result.err
    return archive / "warc" / writer.files[0], refs


def torn_open_file(archive: Path, numbers: range) -> tuple[Path, list[RecordRef]]:
    """A killed crawl's file: its last page's request cut in half."""
    writer = killed_writer(archive / "warc", prefix="later")
    refs = write_pages(writer, numbers)
    path = archive / "warc" / f"{writer.current_name}.open"
    path.write_bytes(path.read_bytes()[: refs[-1].offset + refs[-1].length // 2])
    return path, refs


def export_rows(archive: Path, env: dict[str, str]) -> list[dict[str, object]]:
    out = archive / "export.jsonl"
    assert scrapy("export", "-o", str(out), env=env).code == 0
    return [json.loads(line) for line in out.read_text("utf-8").splitlines()]


def test_reindex_indexes_every_complete_record_of_a_torn_open_file(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    make_archive(archive, pages=4)
    path, refs = torn_open_file(archive, range(4, 9))
    env = archive_env(archive)
    result = scrapy("reindex", env=env)
    assert result.code == 0, result.err
    warnings = [line for line in result.out.splitlines() if line.startswith("warning:")]
    assert warnings == [
        f"warning: {path} ends inside a record at offset {refs[-1].offset} "
        f"({refs[-1].length // 2} bytes, a crawl killed mid-write): "
        "indexed the complete records before it"
    ]
    # All nine pages: the torn record is the last page's request, its response is complete.
    assert sorted(str(row["url"]) for row in export_rows(archive, env)) == sorted(
        f"http://127.0.0.1:9/news/{n}" for n in range(9)
    )
    verify = scrapy("verify", env=env)
    assert verify.code == 0, verify.out
    assert f"note: {path.name} ends inside a record at offset {refs[-1].offset}" in verify.out


def test_reindex_refuses_damage_in_the_middle_and_keeps_the_index(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    closed, refs = make_archive(archive)
    index = archive / "index.sqlite"
    before = index.read_bytes()
    damage_two_thirds_in(closed, refs)
    env = archive_env(archive)
    assert_clean_error(scrapy("reindex", env=env), closed.name, "corrupt gzip data")
    assert index.read_bytes() == before
    assert not list(archive.glob("index.sqlite.reindex*"))


def test_torn_closed_file_needs_accept_torn(tmp_path: Path) -> None:
    # A crash cannot tear a closed file (it is renamed once complete): a cut copy is damage.
    archive = tmp_path / "archive"
    closed, refs = make_archive(archive)
    closed.write_bytes(closed.read_bytes()[: refs[-1].offset + 20])
    env = archive_env(archive)
    assert_clean_error(scrapy("reindex", env=env), closed.name, "--accept-torn")
    accepted = scrapy("reindex", "--accept-torn", env=env)
    assert accepted.code == 0, accepted.err
    assert f"warning: {closed} ends inside a record at offset {refs[-1].offset}" in accepted.out
    verify = scrapy("verify", env=env)
    assert verify.code == 1 and f"PROBLEM {closed.name}:" in verify.out


def test_verify_fails_while_records_are_not_indexed(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    make_archive(archive, pages=3)
    env = archive_env(archive)
    ok = scrapy("verify", env=env)
    assert ok.code == 0 and ok.out.splitlines()[-1].endswith(": OK"), ok.out
    _, refs = torn_open_file(archive, range(3, 7))
    verify = scrapy("verify", env=env)
    assert verify.code == 1
    missing = len(refs) - 1  # the torn request is not a record yet; warcinfo never counts
    assert (
        f"{missing} records in the WARC files are not in the index: "
        "run a crawl to recover them or `scrapy reindex`"
    ) in verify.out.splitlines()
    # Recovered and caught up: nothing missing; the torn bytes are only mentioned.
    (result,) = recover_stale_files(archive / "warc", host=HOST)[0]
    engine = make_engine(default_db_url(archive))
    try:
        factory = make_session_factory(engine)
        with factory() as session, session.begin():
            crawl_id = queries.start_crawl(session, "urls", {})
            files = unfinished_warc_files(session, archive / "warc", host=HOST)
        assert files == [result.final_path]
        index_missing_records(factory, files, IndexPolicy(), crawl_id)
    finally:
        engine.dispose()
    clean = scrapy("verify", env=env)
    assert clean.code == 0, clean.out
    assert result.partial_path is not None
    assert f"note: {result.partial_path.name}: {refs[-1].length // 2} bytes" in clean.out


def test_export_wacz_packages_open_files_up_to_their_last_complete_record(
    tmp_path: Path,
) -> None:
    archive = tmp_path / "archive"
    make_archive(archive, pages=3)
    path, refs = torn_open_file(archive, range(3, 6))
    env = archive_env(archive)
    assert scrapy("reindex", env=env).code == 0
    out = tmp_path / "out.wacz"
    result = scrapy("export", "-o", str(out), env=env)
    assert result.code == 0, result.err
    assert "2 WARC file(s), 6 page(s)" in result.out
    final = path.name.removesuffix(".open")
    with zipfile.ZipFile(out) as wacz:
        packaged = wacz.read(f"archive/{final}")
    assert packaged == path.read_bytes()[: refs[-1].offset]
    assert path.exists()  # exporting changes nothing in the archive
    assert not list(tmp_path.glob(".wacz-*"))
    valid = subprocess.run(
        [BIN / "wacz", "validate", "-f", str(out)], capture_output=True, text=True
    )
    assert valid.returncode == 0, valid.stdout + valid.stderr


# -- catching an index up, and reindex killed halfway -------------------------------------------


def document_rows(factory: sessionmaker[Session]) -> list[tuple[object, ...]]:
    keys = ("url", "title", "text_digest", "text", "first_seen")
    with factory() as session:
        rows = [document_row(d) for d in queries.iter_documents(session)]
    return sorted(tuple(row[k] for k in keys) for row in rows)


def test_index_missing_records_equals_a_full_rebuild(tmp_path: Path, db_url: str) -> None:
    warc_dir = tmp_path / "warc"
    with WarcWriter(warc_dir, prefix="test", host=HOST, pid=1) as writer:
        write_pages(writer, range(5))
    upgrade_to_head(db_url)
    engine = make_engine(db_url)
    try:
        factory = make_session_factory(engine)
        rebuild(factory, sorted(warc_dir.glob("*.warc.gz")), IndexPolicy())
        killed = killed_writer(warc_dir, prefix="later")
        write_pages(killed, range(5, 10))
        recovered, failed = recover_stale_files(warc_dir, host=HOST)
        assert failed == [] and len(recovered) == 1
        with factory() as session, session.begin():
            crawl_id = queries.start_crawl(session, "urls", {})
            files = unfinished_warc_files(session, warc_dir, host=HOST)
        assert files == [recovered[0].final_path]
        state = index_missing_records(factory, files, IndexPolicy(), crawl_id)
        assert state.skipped == 0 and sum(state.outcomes.values()) == 5
        caught_up = document_rows(factory)
        with factory() as session:
            counts = queries.count_rows(session)
            files_after = unfinished_warc_files(session, warc_dir, host=HOST)
        assert files_after == []  # marked closed once caught up
        again = index_missing_records(factory, files, IndexPolicy(), crawl_id)
        assert again.skipped == again.records - 1 and not again.outcomes  # warcinfo aside
        with factory() as session:
            assert queries.count_rows(session) == counts
    finally:
        engine.dispose()
    fresh = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    upgrade_to_head(fresh)
    engine = make_engine(fresh)
    try:
        rebuild(make_session_factory(engine), sorted(warc_dir.glob("*.warc.gz")), IndexPolicy())
        assert document_rows(make_session_factory(engine)) == caught_up
    finally:
        engine.dispose()


@contextmanager
def caught_up_index(
    warc_dir: Path, db_url: str
) -> Iterator[tuple[sessionmaker[Session], ReplayState]]:
    """The one file a killed writer left in ``warc_dir``, recovered and caught up into a new
    index at ``db_url`` as a crawl's start-up does: the index and the catch-up's state."""
    recovered, failed = recover_stale_files(warc_dir, host=HOST)
    assert failed == [] and len(recovered) == 1
    upgrade_to_head(db_url)
    engine = make_engine(db_url)
    try:
        factory = make_session_factory(engine)
        with factory() as session, session.begin():
            crawl_id = queries.start_crawl(session, "urls", {})
        files = [recovered[0].final_path]
        yield factory, index_missing_records(factory, files, IndexPolicy(), crawl_id)
    finally:
        engine.dispose()


def test_error_pages_and_redirects_a_killed_crawl_left_are_not_documents(
    tmp_path: Path, db_url: str
) -> None:
    """A 404 and a 301 the killed crawl archived but never indexed: caught up as the crawl
    would have indexed them (a failure row, a captured redirect), never as documents."""
    warc_dir = tmp_path / "warc"
    killed = killed_writer(warc_dir)
    write_pages(killed, range(2))
    error_page = f"<html><body><h1>Not found</h1><p>{'No such page here. ' * 40}</p></body></html>"
    not_found = killed.write_response(
        "http://127.0.0.1:9/info/page-1.html",
        status=404,
        reason="Not Found",
        headers=[("Content-Type", "text/html; charset=utf-8")],
        body=error_page.encode(),
    )
    moved = killed.write_response(
        "http://127.0.0.1:9/old",
        status=301,
        reason="Moved Permanently",
        headers=[("Location", "/news/0"), ("Content-Type", "text/html")],
        body=article_html(7),  # a body that would extract as an article
    )
    with caught_up_index(warc_dir, db_url) as (factory, state), factory() as session:
        documents = sorted(row.url for row in queries.iter_documents(session))
        failures = session.execute(select(Failure.uri, Failure.stage, Failure.reason)).all()
        captured = dict(session.execute(select(Capture.uri, Capture.document_id)).all())
    assert documents == ["http://127.0.0.1:9/news/0", "http://127.0.0.1:9/news/1"]
    assert [tuple(row) for row in failures] == [(not_found.target_uri, "fetch", "HTTP 404")]
    assert captured[not_found.target_uri] is None and captured[moved.target_uri] is None
    assert sum(state.outcomes.values()) == 4, state.outcomes


def test_a_text_record_whose_metadata_record_failed_is_indexed_with_its_page(
    tmp_path: Path, db_url: str
) -> None:
    """The disk filled up between a page's conversion record and its metadata record: the
    catch-up extracts the page again and indexes the conversion record with it, so that
    verify finds every record of the file in the index."""
    warc_dir = tmp_path / "warc"
    killed = killed_writer(warc_dir)
    response, _request = write_pages(killed, range(1))
    conversion = killed.write_conversion(
        response.target_uri, "The text the crawl extracted.", refers_to=response.record_id
    )
    with caught_up_index(warc_dir, db_url) as (factory, state), factory() as session:
        captured = dict(session.execute(select(Capture.record_id, Capture.document_id)).all())
        documents = [row.url for row in queries.iter_documents(session)]
        report = verify_archive(session, warc_dir)
    assert state.outcomes == {"new": 1}
    assert documents == [response.target_uri]
    assert captured[conversion.record_id] == captured[response.record_id] is not None
    assert report.ok and report.unindexed == 0, report


PAGES = 150  # 300 records plus a warcinfo per file


def big_archive(archive: Path) -> None:
    # Several files: the rebuild commits one per file, so a kill lands between commits.
    with WarcWriter(archive / "warc", prefix="test", host=HOST, pid=1, max_size=60_000) as w:
        write_pages(w, range(PAGES))


def kill_reindex_midway(env: dict[str, str], started: Callable[[], bool]) -> None:
    """Start `scrapy reindex`, SIGKILL it about a second after ``started()`` turns true."""
    process = subprocess.Popen(
        [str(BIN / "scrapy"), "reindex"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not started() and time.monotonic() < deadline:
            assert process.poll() is None, "reindex ended before it could be killed"
            time.sleep(0.05)
        time.sleep(1.0)
        assert process.poll() is None, "reindex ended before it could be killed"
    finally:
        process.kill()
        process.wait()


def test_reindex_killed_halfway_then_rerun_sqlite(tmp_path: Path) -> None:
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    big_archive(whole)
    shutil.copytree(whole / "warc", killed / "warc")
    assert scrapy("reindex", env=archive_env(whole)).code == 0
    scratch = killed / "index.sqlite.reindex"
    kill_reindex_midway(archive_env(killed), scratch.exists)
    assert scratch.exists() and not (killed / "index.sqlite").exists()  # the kill's leftovers
    assert scrapy("reindex", env=archive_env(killed)).code == 0
    assert not list(killed.glob("index.sqlite.reindex*"))
    expected = export_rows(whole, archive_env(whole))
    assert len(expected) == PAGES
    assert export_rows(killed, archive_env(killed)) == expected


@pytest.mark.postgres
def test_reindex_killed_halfway_then_rerun_postgresql(tmp_path: Path) -> None:
    big_archive(tmp_path / "archive")
    with fresh_postgres_database() as whole_url, fresh_postgres_database() as killed_url:
        whole_env = archive_env(tmp_path / "archive", whole_url)
        assert scrapy("reindex", env=whole_env).code == 0
        killed_env = archive_env(tmp_path / "archive", killed_url)

        plain = make_url(killed_url).set(drivername="postgresql")
        conninfo = plain.render_as_string(hide_password=False)

        def documents_committed() -> bool:
            try:
                with psycopg.connect(conninfo) as connection:
                    row = connection.execute("SELECT count(*) FROM documents").fetchone()
            except psycopg.Error:
                return False
            return bool(row and row[0])

        def rebuild_under_way() -> bool:
            # The rebuild is one transaction, under way once it has written something.
            with psycopg.connect(conninfo) as connection:
                row = connection.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
                ).fetchone()
            return bool(row and row[0])

        kill_reindex_midway(killed_env, rebuild_under_way)
        assert not documents_committed()  # the killed rebuild's transaction was rolled back
        rerun = scrapy("reindex", env=killed_env)
        assert rerun.code == 0, rerun.err
        expected = export_rows(tmp_path / "archive", whole_env)
        assert len(expected) == PAGES
        assert export_rows(tmp_path / "archive", killed_env) == expected
