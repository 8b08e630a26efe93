"""Importing archives other tools wrote: every record warcio reads is kept, and verifies.

The archives are made here by the tools themselves (wget's ``--warc-file``, warcio's
``capture_http`` and WARCWriter) against a loopback server; odd forms seen in the wild
(slack between records, duplicate record ids, WARC/0.17 with angle-bracket URIs, dns: records)
are written byte for byte.
"""

from __future__ import annotations

import gzip
import io
import shutil
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path
from urllib.request import urlopen

import brotli
import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.capture_http import capture_http
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.warc.content_encoding import zstd
from spiders.warc_source import ScannedRecord, ScanProblem, scan
from tests.cli import archive_env, scrapy
from tests.newsite import NewsSite, Page, article_html, crawl, db_rows, news_site

__all__ = ["news_site"]  # fixture, imported for pytest
BIN = Path(sys.executable).parent
WGET = shutil.which("wget")


def records_read(path: Path) -> list[tuple[int, str]]:
    """(offset, type) of every record but warcinfo that warcio's ArchiveIterator reads."""
    with path.open("rb") as fh:
        iterator = ArchiveIterator(fh, arc2warc=True)
        read = [(iterator.get_record_offset(), record.rec_type) for record in iterator]
    return sorted((offset, kind) for offset, kind in read if kind != "warcinfo")


def captures_of(archive: Path, path: Path) -> list[tuple[int, str]]:
    rows = db_rows(
        archive,
        "select c.offset, c.record_type from captures c join warc_files f "
        f"on f.id = c.warc_file_id where f.name = '{path}'",
    )
    return sorted((int(offset), kind) for offset, kind in rows)


def assert_every_record_kept(archive: Path, *paths: Path) -> None:
    for path in paths:
        read = records_read(path)
        assert read, path
        assert captures_of(archive, path) == read, path


def verify(archive: Path) -> str:
    result = scrapy("verify", env=archive_env(archive))
    assert result.code == 0, result.out + result.err
    return result.out


def reindex_keeps_captures(archive: Path) -> None:
    query = "select record_id, record_type, offset from captures order by record_id"
    before = db_rows(archive, query)
    result = scrapy("reindex", env=archive_env(archive))
    assert result.code == 0, result.out + result.err
    assert db_rows(archive, query) == before


def article_site(site: NewsSite) -> None:
    """Three article pages linked from the home page: plain, brotli and zstd bodies."""
    plain = article_html("Harbour reopens", "harbour", "Valletta").encode()
    br = article_html("Bridge repaired", "bridge", "Porto").encode()
    zst = article_html("Tram line opens", "tram", "Lyon").encode()
    home = b'<html><body><a href="/plain">a</a> <a href="/br">b</a> <a href="/zstd">c</a>'
    site.routes = {
        "/": Page(body=home + b"</body></html>"),
        "/plain": Page(body=plain),
        "/br": Page(body=brotli.compress(br), headers=[("Content-Encoding", "br")]),
        "/zstd": Page(body=zstd.compress(zst), headers=[("Content-Encoding", "zstd")]),
    }


def titles(archive: Path) -> set[str]:
    return {title for (title,) in db_rows(archive, "select title from documents")}


def test_capture_http_brotli_and_zstd(news_site: NewsSite, tmp_path: Path) -> None:
    article_site(news_site)
    source = tmp_path / "captured.warc.gz"
    with capture_http(str(source)):
        for path in ("/plain", "/br", "/zstd"):
            with urlopen(news_site.url(path)) as response:  # through http.client: recorded
                response.read()
    archive = tmp_path / "archive"
    result = crawl("warc", archive, "-a", f"path={source}")
    assert titles(archive) == {"Harbour reopens", "Bridge repaired", "Tram line opens"}
    assert_every_record_kept(archive, source)
    assert "inputs seen             3" in result.out  # the responses; requests join them
    lines = result.out.splitlines()
    assert (
        "  WARC records read       6  (requests kept with their response: 3, indexed before: 0)"
        in lines
    )
    verify(archive)
    reindex_keeps_captures(archive)
    for path in (archive / "warc").glob("*.warc.gz"):
        check = subprocess.run([BIN / "warcio", "check", str(path)], capture_output=True)
        assert check.returncode == 0, check.stdout + check.stderr
    wacz = tmp_path / "out.wacz"
    assert scrapy("export", "-o", str(wacz), env=archive_env(archive)).code == 0
    valid = subprocess.run([BIN / "wacz", "validate", "-f", str(wacz)], capture_output=True)
    assert valid.returncode == 0, valid.stdout + valid.stderr


def warcio_records(gzip: bool, count: int, record_id: str | None = None) -> bytes:
    """``count`` text resources written by warcio (all with ``record_id`` if given)."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=gzip, warc_version="WARC/1.1")
    places = ("Ghent", "Bergen", "Tartu", "Cork")
    topics = ("river", "school", "market", "stadium")
    for number in range(count):
        body = article_html(f"Report {number}", topics[number], places[number]).encode()
        headers = StatusAndHeaders(
            "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
        )
        record = writer.create_warc_record(
            f"http://example.org/{number}",
            "response",
            payload=io.BytesIO(body),
            http_headers=headers,
            warc_headers_dict={"WARC-Record-ID": record_id} if record_id else None,
        )
        writer.write_record(record)
    return out.getvalue()


def test_uncompressed_warc_with_slack_between_records(tmp_path: Path) -> None:
    data = warcio_records(gzip=False, count=3)
    # Three blank lines more after the first record, as some writers leave.
    first_end = data.index(b"\r\n\r\nWARC/1.1", 10) + 4
    source = tmp_path / "plain.warc"
    source.write_bytes(data[:first_end] + b"\r\n\r\n\r\n" + data[first_end:])
    assert len(records_read(source)) == 3
    archive = tmp_path / "archive"
    result = crawl("warc", archive, "-a", f"path={source}")
    assert_every_record_kept(archive, source)
    assert titles(archive) == {"Report 0", "Report 1", "Report 2"}
    assert "inputs seen             3" in result.out
    assert "blank lines before the record" in result.err
    verify(archive)
    reindex_keeps_captures(archive)


def test_duplicate_record_ids_are_both_kept(tmp_path: Path) -> None:
    same = f"<urn:uuid:{uuid.uuid4()}>"
    source = tmp_path / "dup.warc.gz"
    source.write_bytes(warcio_records(gzip=True, count=2, record_id=same))
    archive = tmp_path / "archive"
    result = crawl("warc", archive, "-a", f"path={source}")
    assert_every_record_kept(archive, source)
    ids = sorted(i for (i,) in db_rows(archive, "select record_id from captures where "
                                       "record_type = 'response'"))  # fmt: skip
    assert ids[1] == same and ids[0].startswith(same[:-1] + "#dup-")  # "#" sorts before ">"
    assert "occurs more than once" in result.err
    assert titles(archive) == {"Report 0", "Report 1"}
    verify(archive)
    reindex_keeps_captures(archive)


WARC_017 = (
    b"WARC/0.17\r\nWARC-Type: response\r\nWARC-Target-URI: <dns:example.org>\r\n"
    b"WARC-Date: 2010-05-01T10:00:00Z\r\nWARC-Record-ID: <urn:uuid:%s>\r\n"
    b"Content-Type: text/dns\r\nContent-Length: %d\r\n\r\n%s\r\n\r\n"
)


def test_warc_017_dns_records_and_angle_brackets(tmp_path: Path) -> None:
    answer = b"20100501100000\nexample.org.\t600\tIN\tA\t93.184.216.34\n"
    record = WARC_017 % (str(uuid.uuid4()).encode(), len(answer), answer)
    source = tmp_path / "old.warc"
    source.write_bytes(record + warcio_records(gzip=False, count=1))
    archive = tmp_path / "archive"
    crawl("warc", archive, "-a", f"path={source}")
    assert_every_record_kept(archive, source)
    (uri,) = db_rows(archive, "select uri from captures where record_type = 'response' and "
                     "uri like 'dns:%'")  # fmt: skip
    assert uri == ("dns:example.org",)
    assert titles(archive) == {"Report 0"}  # the dns: record is captured, not an article
    verify(archive)
    copied = tmp_path / "copied"
    crawl("warc", copied, "-a", f"path={source}", "-a", "copy=true")
    kinds = Counter(k for (k,) in db_rows(copied, "select record_type from captures"))
    assert kinds["response"] == 2 and not db_rows(copied, "select reason from failures")
    verify(copied)


@pytest.mark.skipif(WGET is None, reason="wget is not installed (apt-get install wget)")
@pytest.mark.parametrize("compression", ["gzip", "none"])
def test_wget_warc(news_site: NewsSite, tmp_path: Path, compression: str) -> None:
    assert WGET is not None
    article_site(news_site)
    del news_site.routes["/br"], news_site.routes["/zstd"]  # wget asks for identity only
    base = tmp_path / "wget"
    options = ["--no-warc-compression"] if compression == "none" else []
    run = subprocess.run(
        [WGET, "-q", "-r", "-l", "1", "-e", "robots=off", f"--warc-file={base}", *options,
         "-P", str(tmp_path / "files"), news_site.url("/")],
        capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert run.returncode in (0, 8), run.stderr  # 8: the two links now answer 404
    (source,) = tmp_path.glob("wget.warc*")
    archive = tmp_path / "archive"
    crawl("warc", archive, "-a", f"path={source}")
    assert_every_record_kept(archive, source)
    kinds = Counter(k for _, k in records_read(source))
    assert kinds["request"] == kinds["response"] >= 4
    assert titles(archive) == {"Harbour reopens"}  # not wget's log or arguments
    verify(archive)
    reindex_keeps_captures(archive)


def arc_record(uri: str, content_type: str, block: bytes) -> bytes:
    return f"{uri} 127.0.0.1 20100501100000 {content_type} {len(block)}\n".encode() + block


def arc_file(gzip_each: bool) -> bytes:
    """An ARC v1 file: its filedesc record, two HTTP responses and a dns: lookup."""
    spec = b"1 0 newsvault\nURL IP-address Archive-date Content-type Archive-length\n"
    records = [arc_record("filedesc://test.arc", "text/plain", spec)]
    for number, (topic, place) in enumerate((("ferry", "Split"), ("library", "Graz"))):
        body = article_html(f"Archive {number}", topic, place).encode()
        head = f"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: {len(body)}\r\n\r\n"
        records.append(
            arc_record(f"http://example.org/{number}", "text/html", head.encode() + body)
        )
    records.append(arc_record("dns:example.org", "text/dns", b"20100501100000\nexample.org. A\n"))
    if gzip_each:
        return b"".join(gzip.compress(record + b"\n") for record in records)
    return b"\n".join(records) + b"\n"


def test_arc_and_arc_gz_import_where_they_lie(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a.arc").write_bytes(arc_file(gzip_each=False))
    (inputs / "b.arc.gz").write_bytes(arc_file(gzip_each=True))
    (inputs / "notes.cdx").write_text("not an archive\n")
    archive = tmp_path / "archive"
    crawl("warc", archive, "-a", f"path={inputs}")
    assert_every_record_kept(archive, inputs / "a.arc", inputs / "b.arc.gz")
    assert titles(archive) == {"Archive 0", "Archive 1"}
    (reason,) = [r for (r,) in db_rows(archive, "select reason from failures")]
    assert reason.startswith("not a .warc") and reason.endswith("not imported")
    verify(archive)
    reindex_keeps_captures(archive)


@pytest.mark.parametrize("gzip_each", [False, True])
def test_a_cut_off_arc_record_is_a_failure_row(tmp_path: Path, gzip_each: bool) -> None:
    # The file ends 200 bytes into the second article's record (its gzip member, if gzipped).
    whole = arc_file(gzip_each=gzip_each)
    if gzip_each:
        members = whole.split(b"\x1f\x8b")[1:]
        cut = sum(len(m) + 2 for m in members[:2]) + len(members[2]) // 2
    else:
        cut = whole.index(b"http://example.org/1") + 200
    source = tmp_path / ("cut.arc.gz" if gzip_each else "cut.arc")
    source.write_bytes(whole[:cut])
    archive = tmp_path / "archive"
    crawl("warc", archive, "-a", f"path={source}")
    assert titles(archive) == {"Archive 0"}
    (reason,) = [r for (r,) in db_rows(archive, "select reason from failures")]
    expected = "truncated gzip member" if gzip_each else "truncated record: length "
    assert expected in reason, reason
    verify(archive)


def test_verify_tells_source_anomalies_from_later_changes(tmp_path: Path) -> None:
    data = warcio_records(gzip=False, count=2)
    # The first record's body differs from its digests when imported (as the writer left it).
    source = tmp_path / "odd.warc"
    source.write_bytes(data.replace(b"Report 0", b"Rapport0", 1))
    archive = tmp_path / "archive"
    crawl("warc", archive, "-a", f"path={source}")
    assert_every_record_kept(archive, source)
    out = verify(archive)
    assert "the source file was like this at import: payload digest mismatch" in out
    # Then the second record changes: that is a problem, the first stays a note.
    changed = source.read_bytes().replace(b"Report 1", b"Rapport1", 1)
    source.write_bytes(changed)
    result = scrapy("verify", env=archive_env(archive))
    assert result.code == 1
    second = min(o for o, _ in records_read(source) if o > 0)
    problems = [line for line in result.out.splitlines() if line.startswith("PROBLEM")]
    assert problems and all(f"{source}:{second}:" in line for line in problems)


def test_a_copy_of_an_imported_file_imports_too(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "crawl.warc.gz", tmp_path / "b" / "crawl.warc.gz"
    for path in (first, second):
        path.parent.mkdir()
    first.write_bytes(warcio_records(gzip=True, count=2))
    shutil.copy(first, second)
    archive = tmp_path / "archive"
    crawl("warc", archive, "-a", f"path={first}")
    result = crawl("warc", archive, "-a", f"path={second}")
    assert_every_record_kept(archive, first, second)
    assert "occurs more than once" in result.err
    verify(archive)
    reindex_keeps_captures(archive)


@pytest.mark.parametrize("gzip_records", [True, False])
def test_a_file_cut_anywhere_ends_in_one_problem(tmp_path: Path, gzip_records: bool) -> None:
    data = warcio_records(gzip=gzip_records, count=3)
    whole = len(records_read_bytes(data))
    cut = tmp_path / "cut.warc"
    # A cut exactly between two records leaves a whole, shorter file: not a cut record.
    iterator = ArchiveIterator(io.BytesIO(data))
    boundaries = {iterator.get_record_offset() for _ in iterator}
    for end in range(1, len(data) - 4, 41):
        if end in boundaries:
            continue
        cut.write_bytes(data[:end])
        results = list(scan(str(cut)))
        kept = [r for r in results if isinstance(r, ScannedRecord)]
        assert len(kept) < whole and isinstance(results[-1], ScanProblem), end
        assert not [r for r in results[:-1] if isinstance(r, ScanProblem)], end


def records_read_bytes(data: bytes) -> list[str]:
    return [record.rec_type for record in ArchiveIterator(io.BytesIO(data))]
