"""`scrapy crawl warc`: existing WARC/WACZ files imported where they lie, or copied; broken ones
become failure rows."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import pytest
from warcio.archiveiterator import ArchiveIterator

from pipeline.warc.wacz import WaczPage, write_wacz
from pipeline.warc.wacz_reading import open_location
from spiders.warc_source import (
    ScannedRecord,
    ScanProblem,
    check_record,
    decoded_payload,
    import_inputs,
    scan,
)
from tests.newsite import (
    CHUNKED_PATH,
    GZIP_PATH,
    NewsSite,
    crawl,
    db_rows,
    module_news_site,
    warc_records,
)

__all__ = ["module_news_site"]  # fixture, imported for pytest
WARCIO = str(Path(sys.executable).with_name("warcio"))


@pytest.fixture(scope="module")
def source(module_news_site: NewsSite, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished site crawl: its warc/ folder is what the tests import."""
    archive = tmp_path_factory.mktemp("source")
    crawl("site", archive, "-a", f"url={module_news_site.url('/')}")
    return archive


def source_warc(source: Path) -> Path:
    (path,) = sorted((source / "warc").glob("*.warc.gz"))
    return path


def document_urls(archive: Path) -> set[str]:
    return {url for (url,) in db_rows(archive, "select url from documents")}


def test_scan_gives_decoded_payloads_and_tiles_the_file(
    source: Path, module_news_site: NewsSite
) -> None:
    path = source_warc(source)
    scanned = [s for s in scan(str(path)) if isinstance(s, ScannedRecord)]
    assert not [s for s in scan(str(path)) if isinstance(s, ScanProblem)]
    by_uri = {s.ref.target_uri: s for s in scanned if s.ref.record_type == "response"}
    gzipped = by_uri[module_news_site.url(GZIP_PATH)]
    assert gzipped.raw_payload == module_news_site.routes[GZIP_PATH].body
    assert decoded_payload(gzipped).startswith(b"<!DOCTYPE html>")
    assert decoded_payload(by_uri[module_news_site.url(CHUNKED_PATH)]).endswith(b"</html>\n")
    for record in scanned[:5]:
        with open_location(record.ref.warc_file) as fh:
            fh.seek(record.ref.offset)
            again = next(iter(ArchiveIterator(fh)))
            assert again.rec_headers.get_header("WARC-Record-ID") == record.ref.record_id


def test_truncated_and_garbage_files_are_problems(source: Path, tmp_path: Path) -> None:
    path = source_warc(source)
    data = path.read_bytes()
    # Cut inside the record that holds the file's two-thirds mark: a cut at a fixed share of the
    # bytes can fall between two records (their sizes vary from crawl to crawl).
    refs = [s.ref for s in scan(str(path)) if isinstance(s, ScannedRecord)]
    torn = next(r for r in refs if r.offset + r.length > len(data) * 2 // 3)
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(data[: torn.offset + torn.length // 2])
    results = list(scan(str(cut)))
    problems = [r for r in results if isinstance(r, ScanProblem)]
    assert len(problems) == 1 and results[-1] is problems[0]
    assert "truncated" in problems[0].reason
    assert [r for r in results if isinstance(r, ScannedRecord)]  # what precedes the cut is kept
    garbage = tmp_path / "junk.warc"
    garbage.write_bytes(b"this is not a WARC file at all\r\n\r\n")
    (problem,) = list(scan(str(garbage)))
    assert isinstance(problem, ScanProblem) and problem.offset == 0
    assert check_record(str(source_warc(source)), 0, 10) is not None


def test_import_inputs_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no such file or folder"):
        import_inputs(str(tmp_path / "nope"))
    with pytest.raises(ValueError, match=r"no \.warc, \.warc\.gz, \.arc, \.arc\.gz or \.wacz"):
        import_inputs(str(tmp_path))
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match=r"is not a \.warc"):
        import_inputs(str(tmp_path / "notes.txt"))


def test_import_in_place_makes_the_same_documents(source: Path, tmp_path: Path) -> None:
    crawl("warc", tmp_path, "-a", f"path={source / 'warc'}")
    assert document_urls(tmp_path) == document_urls(source)
    assert not list((tmp_path / "warc").glob("*.warc.gz.open"))
    imported = db_rows(tmp_path, "select record_id from captures where record_type='response'")
    in_warc = [
        r.headers["WARC-Record-ID"] for r in warc_records(source) if r.rec_type == "response"
    ]
    assert sorted(i for (i,) in imported) == sorted(in_warc)
    revisit = db_rows(tmp_path, "select refers_to from captures where record_type='revisit'")
    source_revisit = db_rows(source, "select refers_to from captures where record_type='revisit'")
    assert revisit == source_revisit and revisit[0][0]
    failures = {reason for (reason,) in db_rows(tmp_path, "select reason from failures")}
    assert {"HTTP 404", "HTTP 500"} <= failures
    derived = "select id from captures where record_type in ('metadata', 'conversion')"
    before = len(db_rows(tmp_path, derived))
    crawl("warc", tmp_path, "-a", f"path={source / 'warc'}")  # again: nothing new
    assert len(db_rows(tmp_path, "select id from documents")) == len(document_urls(source))
    # Records an earlier import indexed are skipped, not given a second set of derived records.
    assert len(db_rows(tmp_path, derived)) == before


def test_imported_rows_point_at_the_external_file(source: Path, tmp_path: Path) -> None:
    crawl("warc", tmp_path, "-a", f"path={source / 'warc'}")
    names = {name for (name,) in db_rows(tmp_path, "select name from warc_files")}
    assert str(source_warc(source)) in names


def test_revisit_without_its_original_is_a_failure_row(source: Path, tmp_path: Path) -> None:
    path = source_warc(source)
    revisit = next(
        s
        for s in scan(str(path))
        if isinstance(s, ScannedRecord) and s.ref.record_type == "revisit"
    )
    lone = tmp_path / "lone.warc.gz"  # one gzip member is a WARC file of its own
    lone.write_bytes(
        path.read_bytes()[revisit.ref.offset : revisit.ref.offset + revisit.ref.length]
    )
    archive = tmp_path / "archive"
    crawl("warc", archive, "-a", f"path={lone}")
    (reason,) = [r for (r,) in db_rows(archive, "select reason from failures")]
    assert reason.endswith("original record not found")


def test_import_wacz(source: Path, module_news_site: NewsSite, tmp_path: Path) -> None:
    wacz = tmp_path / "in.wacz"
    when = datetime.fromisoformat(warc_records(source)[1].headers["WARC-Date"])
    page = WaczPage(module_news_site.url("/"), when)
    write_wacz(wacz, [source_warc(source)], [page])
    archive = tmp_path / "archive"
    crawl("warc", archive, "-a", f"path={wacz}")
    assert document_urls(archive) == document_urls(source)


def test_import_with_copy_writes_verifiable_copies(source: Path, tmp_path: Path) -> None:
    crawl("warc", tmp_path, "-a", f"path={source / 'warc'}", "-a", "copy=true")
    assert document_urls(tmp_path) == document_urls(source)
    copies = [r for r in warc_records(tmp_path) if r.rec_type in ("response", "revisit")]
    originals = [r for r in warc_records(source) if r.rec_type in ("response", "revisit")]
    assert sorted((r.uri, r.payload, r.status_line) for r in copies) == sorted(
        (r.uri, r.payload, r.status_line) for r in originals
    )
    copied_ids = {r.headers["WARC-Record-ID"] for r in copies}
    revisit = next(r for r in copies if r.rec_type == "revisit")
    assert revisit.headers["WARC-Refers-To"] in copied_ids  # points at the copy, not the source
    requests = db_rows(tmp_path, "select refers_to from captures where record_type='request'")
    assert {ref for (ref,) in requests} <= copied_ids and len(requests) >= len(copies)
    for path in (tmp_path / "warc").glob("*.warc.gz"):
        check = subprocess.run([WARCIO, "check", str(path)], capture_output=True, check=False)
        assert check.returncode == 0, check.stdout


def test_broken_inputs_are_failure_rows(source: Path, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    data = source_warc(source).read_bytes()
    # Cut inside a record (not at a member boundary), whatever the record sizes of this run.
    with source_warc(source).open("rb") as stream:
        offsets = [record_offset for record_offset, _ in record_offsets(stream)]
    (inputs / "a-cut.warc.gz").write_bytes(data[: offsets[len(offsets) // 2] + 20])
    (inputs / "b-junk.warc").write_bytes(b"garbage\r\n\r\n")
    (inputs / "c-bad.wacz").write_bytes(b"PK not really")
    shutil.copy(source_warc(source), inputs / "d-good.warc.gz")
    archive = tmp_path / "archive"
    crawl("warc", archive, "-a", f"path={inputs}")
    reasons = [r for (r,) in db_rows(archive, "select reason from failures")]
    assert any("truncated" in r for r in reasons)
    assert any("not a WARC record" in r or "unreadable" in r for r in reasons)
    assert any("not a readable WACZ" in r for r in reasons)
    assert document_urls(archive) == document_urls(source)  # the good file still imports


def record_offsets(stream: BinaryIO) -> list[tuple[int, str]]:
    iterator = ArchiveIterator(stream)
    return [(iterator.get_record_offset(), record.rec_type) for record in iterator]
