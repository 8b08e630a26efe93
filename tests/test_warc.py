"""WARC layer: writer, record builders, read-back and verification (pipeline.warc*)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import itertools
import json
import os
import re
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from importlib.metadata import version
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.recordbuilder import RecordBuilder
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline import __version__
from pipeline.warc import records
from pipeline.warc.reading import (
    StoredRecord,
    WarcReadError,
    find_warc_file,
    iter_records,
    payload_sha1,
    read_record,
    verify_record,
)
from pipeline.warc.ref import RecordRef
from pipeline.warc.writer import CONFORMS_TO, REVISIT_PROFILE, WarcWriteError, WarcWriter

BIN = Path(sys.executable).parent
WHEN = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
NAME_RE = re.compile(r"^test-\d{17}-\d{5}-testhost-4242\.warc\.gz$")


def _ids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"<urn:uuid:00000000-0000-0000-0000-{next(counter):012d}>"


def _writer(directory: Path, **kwargs: object) -> WarcWriter:
    options: dict = {
        "prefix": "test",
        "host": "testhost",
        "pid": 4242,
        "clock": lambda: WHEN,
        "record_id_factory": _ids(),
        "warcinfo": {"operator": "Test Operator", "http-header-user-agent": "UA/1"},
    }
    options.update(kwargs)
    return WarcWriter(directory, **options)


def _sha1(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def _record(headers: list[tuple[str, str]], block: bytes) -> bytes:
    head = "WARC/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    return head.encode() + block + b"\r\n\r\n"


def _all_types(w: WarcWriter) -> list[RecordRef]:
    resp = w.write_response(
        "http://example.com/a",
        status=200,
        reason="OK",
        headers=[("Content-Type", "text/html; charset=utf-8")],
        body=b"<p>hello</p>",
        ip_address="127.0.0.1",
    )
    req = w.write_request(
        "http://example.com/a",
        method="GET",
        target="/a",
        headers=[("Host", "example.com"), ("Accept", "*/*")],
        concurrent_to=resp.record_id,
    )
    res = w.write_resource("file:///seed/a.txt", b"plain text\n", content_type="text/plain")
    rev = w.write_revisit("http://example.com/b", original=resp, headers=[("Server", "x")])
    rev_res = w.write_revisit("file:///seed/b.txt", original=res, resource=True)
    conv = w.write_conversion("http://example.com/a", "Hello, wörld", refers_to=resp.record_id)
    meta = w.write_metadata(
        "http://example.com/a", {"title": "Tïtle", "at": WHEN}, refers_to=resp.record_id
    )
    return [resp, req, res, rev, rev_res, conv, meta]


# -- exact bytes ---------------------------------------------------------------------------


def test_file_bytes_exact(tmp_path: Path) -> None:
    with _writer(tmp_path) as w:
        ref = w.write_resource("file:///seed/a.txt", b"hello", content_type="text/plain")
    name = "test-20240102030405678-00000-testhost-4242.warc.gz"
    assert w.files == [name] and ref.warc_file == name
    info = (
        f"software: newsvault/{__version__} warcio/{version('warcio')}\r\n"
        "format: WARC File Format 1.1\r\n"
        f"conformsTo: {CONFORMS_TO}\r\n"
        "isPartOf: test\r\nrobots: obey\r\nhttp-header-user-agent: UA/1\r\n"
        "operator: Test Operator\r\nhostname: testhost\r\n"
    ).encode()
    date = "2024-01-02T03:04:05.678000Z"
    expected = _record(
        [
            ("WARC-Type", "warcinfo"),
            ("WARC-Record-ID", "<urn:uuid:00000000-0000-0000-0000-000000000002>"),
            ("WARC-Date", date),
            ("WARC-Filename", name),
            ("WARC-Block-Digest", _sha1(info)),
            ("Content-Type", "application/warc-fields"),
            ("Content-Length", str(len(info))),
        ],
        info,
    ) + _record(
        [
            ("WARC-Type", "resource"),
            ("WARC-Record-ID", "<urn:uuid:00000000-0000-0000-0000-000000000001>"),
            ("WARC-Date", date),
            ("WARC-Target-URI", "file:///seed/a.txt"),
            ("WARC-Payload-Digest", _sha1(b"hello")),
            ("WARC-Block-Digest", _sha1(b"hello")),
            ("Content-Type", "text/plain"),
            ("Content-Length", "5"),
        ],
        b"hello",
    )
    raw = (tmp_path / name).read_bytes()
    assert gzip.decompress(raw) == expected
    assert ref.offset > 0 and ref.offset + ref.length == len(raw) == w.bytes_written
    assert ref.payload_digest == ref.block_digest == _sha1(b"hello") == payload_sha1(b"hello")
    assert ref.date == WHEN


def test_response_bytes_exact(tmp_path: Path) -> None:
    body = b"<p>caf\xe9</p>"
    with _writer(tmp_path) as w:
        ref = w.write_response(
            "http://example.com/a",
            status=404,
            reason="Not Found",
            headers=[
                ("Set-Cookie", "a=1"),
                ("Transfer-Encoding", "chunked"),
                ("Set-Cookie", "b=2"),
                ("X-Name", "café"),
            ],
            body=body,
            http_version="HTTP/1.0",
            ip_address="10.0.0.1",
        )
    http = (
        b"HTTP/1.0 404 Not Found\r\nSet-Cookie: a=1\r\n"
        b"X-Archive-Orig-Transfer-Encoding: chunked\r\nSet-Cookie: b=2\r\n"
        b"X-Name: caf\xe9\r\nContent-Length: 11\r\n\r\n"
    )
    assert len(body) == 11
    expected = _record(
        [
            ("WARC-Type", "response"),
            ("WARC-Record-ID", "<urn:uuid:00000000-0000-0000-0000-000000000001>"),
            ("WARC-Date", "2024-01-02T03:04:05.678000Z"),
            ("WARC-Target-URI", "http://example.com/a"),
            ("WARC-IP-Address", "10.0.0.1"),
            ("WARC-Payload-Digest", _sha1(body)),
            ("WARC-Block-Digest", _sha1(http + body)),
            ("Content-Type", "application/http; msgtype=response"),
            ("Content-Length", str(len(http + body))),
        ],
        http + body,
    )
    raw = (tmp_path / ref.warc_file).read_bytes()
    assert gzip.decompress(raw[ref.offset : ref.offset + ref.length]) == expected
    assert ref.http_status == 404 and ref.block_digest == _sha1(http + body)


def test_identical_writes_identical_files(tmp_path: Path) -> None:
    outputs = []
    for sub in ("one", "two"):
        with _writer(tmp_path / sub) as w:
            _all_types(w)
        outputs.append([(tmp_path / sub / n).read_bytes() for n in w.files])
    assert outputs[0] == outputs[1]


# -- round trips ---------------------------------------------------------------------------


def test_round_trip_every_type_through_archive_iterator(tmp_path: Path) -> None:
    with _writer(tmp_path) as w:
        refs = _all_types(w)
    for ref in refs:
        with open(tmp_path / ref.warc_file, "rb") as fh:
            fh.seek(ref.offset)
            it = ArchiveIterator(fh)
            record = next(it)
            assert record.rec_type == ref.record_type
            assert record.rec_headers.get_header("WARC-Record-ID") == ref.record_id
            assert record.rec_headers.get_header("WARC-Target-URI") == ref.target_uri
            content = record.content_stream().read()
            assert it.get_record_offset() == ref.offset
            assert it.get_record_length() == ref.length
        stored = read_record(tmp_path, ref.warc_file, ref.offset)
        assert stored.ref == ref
        assert stored.payload == content
        assert verify_record(stored) == []
    resp, req, res, rev, rev_res, conv, meta = (
        read_record(tmp_path, r.warc_file, r.offset) for r in refs
    )
    assert resp.payload == b"<p>hello</p>" and resp.http_status == 200 == resp.ref.http_status
    assert ("WARC-IP-Address", "127.0.0.1") in resp.headers
    assert req.http_headers == [("Host", "example.com"), ("Accept", "*/*")]
    assert (
        req.http_head.startswith(b"GET /a HTTP/1.1\r\n") and req.ref.refers_to == resp.ref.record_id
    )
    assert res.payload == b"plain text\n" and res.http_headers is None
    assert conv.payload.decode("utf-8") == "Hello, wörld"
    assert conv.ref.content_type == "text/plain; charset=utf-8"
    assert json.loads(meta.payload) == {"at": WHEN.isoformat(), "title": "Tïtle"}
    assert meta.payload.decode() == json.dumps(
        {"at": WHEN.isoformat(), "title": "Tïtle"}, ensure_ascii=False, sort_keys=True
    )
    assert meta.ref.content_type == "application/json" and meta.ref.refers_to == resp.ref.record_id
    assert rev.payload == b"" and rev_res.payload == b""


def test_iter_records_lists_every_record_with_offsets(tmp_path: Path) -> None:
    with _writer(tmp_path) as w:
        refs = _all_types(w)
    stored = list(iter_records(tmp_path / w.files[0]))
    assert stored[0].ref.record_type == "warcinfo"
    assert [s.ref for s in stored[1:]] == refs
    assert stored[0].ref.offset == 0
    for before, after in itertools.pairwise(stored):
        assert before.ref.offset + before.ref.length == after.ref.offset


def test_warcio_check_index_and_cdxj_pass(tmp_path: Path) -> None:
    with _writer(tmp_path, max_size=1500) as w:
        refs = _all_types(w)
    paths = [str(tmp_path / n) for n in w.files]
    check = subprocess.run([BIN / "warcio", "check", "-v", *paths], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "digest pass" in check.stdout and "failed" not in check.stdout
    index = subprocess.run(
        [BIN / "warcio", "index", "-f", "offset,length,warc-type,warc-record-id", *paths],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = [json.loads(line) for line in index.stdout.splitlines()]
    indexed = {r["warc-record-id"]: (int(r["offset"]), int(r["length"])) for r in rows}
    assert all(indexed[ref.record_id] == (ref.offset, ref.length) for ref in refs)
    cdxj = subprocess.run([BIN / "cdxj-indexer", *paths], capture_output=True, text=True)
    assert cdxj.returncode == 0, cdxj.stderr
    assert "com,example)/a" in cdxj.stdout


# -- rotation and file life cycle ----------------------------------------------------------


def test_rotation_names_open_suffix_and_warcinfo_first(tmp_path: Path) -> None:
    w = _writer(tmp_path, max_size=1200)
    assert w.current_name is None and w.files == []
    refs = [
        w.write_resource(f"file:///seed/{i}.txt", os.urandom(300), content_type="text/plain")
        for i in range(8)
    ]
    refs.append(w.write_resource("file:///big.bin", os.urandom(5000), content_type=None))
    assert len(w.files) >= 4 and len(set(w.files)) == len(w.files)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".open")) == [
        f"{w.current_name}.open"
    ]
    read_record(tmp_path, refs[-1].warc_file, refs[-1].offset)  # flushed: readable while open
    w.close()
    w.close()  # idempotent
    assert w.current_name is None
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(w.files)
    serials = [int(name.split("-")[2]) for name in w.files]
    assert serials == list(range(len(w.files)))
    total = 0
    for name in w.files:
        assert NAME_RE.match(name), name
        stored = list(iter_records(tmp_path / name))
        assert stored[0].ref.record_type == "warcinfo"
        assert ("WARC-Filename", name) in stored[0].headers
        assert all(s.ref.record_type == "resource" for s in stored[1:])
        size = (tmp_path / name).stat().st_size
        assert size <= 1200 or len(stored) == 2  # only an oversized record stands alone
        total += size
    assert total == w.bytes_written
    big = list(iter_records(tmp_path / refs[-1].warc_file))
    assert [s.ref.record_id for s in big[1:]] == [refs[-1].record_id]
    with pytest.raises(WarcWriteError, match="closed"):
        w.write_resource("file:///late.txt", b"x", content_type="text/plain")


def test_same_clock_tick_never_overwrites(tmp_path: Path) -> None:
    with _writer(tmp_path) as first:
        first.write_resource("file:///a", b"a", content_type="text/plain")
    with _writer(tmp_path) as second:
        second.write_resource("file:///b", b"b", content_type="text/plain")
    assert first.files != second.files
    assert len(list(tmp_path.iterdir())) == 2


def test_threads_write_consistent_records(tmp_path: Path) -> None:
    w = WarcWriter(tmp_path, max_size=3_000)  # rotates often: races show up
    refs: list[RecordRef] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        for i in range(50):
            ref = w.write_resource(f"file:///{n}/{i}", os.urandom(200), content_type=None)
            with lock:
                refs.append(ref)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    w.close()
    on_disk = {s.ref.record_id: s.ref for n in w.files for s in iter_records(tmp_path / n)}
    assert len(refs) == 400
    assert all(on_disk[ref.record_id] == ref for ref in refs)


# -- HTTP specifics ------------------------------------------------------------------------


def test_repeated_set_cookie_and_latin1_headers_kept(tmp_path: Path) -> None:
    headers = [
        ("Set-Cookie", "a=1; Path=/"),
        ("Content-Type", "text/html"),
        ("Set-Cookie", "b=2"),
        ("X-Name", "café"),
    ]
    with _writer(tmp_path) as w:
        ref = w.write_response(
            "https://example.com/", status=200, reason="OK", headers=headers, body=b"x"
        )
    stored = read_record(tmp_path, ref.warc_file, ref.offset)
    assert stored.http_headers == headers
    assert b"X-Name: caf\xe9\r\n" in stored.http_head  # latin-1 bytes, not percent-encoded
    assert verify_record(stored) == []


def test_transfer_encoding_renamed_and_content_length_set(tmp_path: Path) -> None:
    body = b"dechunked body bytes"
    with _writer(tmp_path) as w:
        ref = w.write_response(
            "http://example.com/c",
            status=200,
            reason="OK",
            headers=[("Transfer-Encoding", "chunked"), ("Content-Type", "text/plain")],
            body=body,
        )
    stored = read_record(tmp_path, ref.warc_file, ref.offset)
    assert stored.http_headers == [
        ("X-Archive-Orig-Transfer-Encoding", "chunked"),
        ("Content-Type", "text/plain"),
        ("Content-Length", str(len(body))),
    ]
    assert stored.payload == body and ref.payload_digest == _sha1(body)
    with open(tmp_path / ref.warc_file, "rb") as fh:
        fh.seek(ref.offset)
        assert next(ArchiveIterator(fh)).content_stream().read() == body


def test_gzip_body_kept_compressed_and_digest_verifies(tmp_path: Path) -> None:
    text = b"<html>" + b"compressible " * 200 + b"</html>"
    body = gzip.compress(text, mtime=0)
    with _writer(tmp_path) as w:
        ref = w.write_response(
            "http://example.com/z",
            status=200,
            reason="OK",
            headers=[("Content-Encoding", "gzip"), ("Content-Length", str(len(body)))],
            body=body,
        )
    stored = read_record(tmp_path, ref.warc_file, ref.offset)
    assert stored.payload == body and ref.payload_digest == _sha1(body)
    assert verify_record(stored) == []
    with open(tmp_path / ref.warc_file, "rb") as fh:
        fh.seek(ref.offset)
        assert next(ArchiveIterator(fh)).content_stream().read() == text  # readers can decode


def test_revisit_headers(tmp_path: Path) -> None:
    with _writer(tmp_path) as w:
        orig = w.write_response(
            "http://example.com/o", status=200, reason="OK", headers=[], body=b"same"
        )
        rev = w.write_revisit(
            "http://example.com/p",
            original=orig,
            headers=[("Content-Type", "text/html")],
            date=WHEN + timedelta(days=1),
        )
        res = w.write_resource("file:///x", b"same", content_type="text/plain")
        rev_res = w.write_revisit("file:///y", original=res, resource=True)
    stored = read_record(tmp_path, rev.warc_file, rev.offset)
    h = dict(stored.headers)
    assert h["WARC-Profile"] == REVISIT_PROFILE
    assert h["WARC-Refers-To"] == orig.record_id
    assert h["WARC-Refers-To-Target-URI"] == "http://example.com/o"
    assert h["WARC-Refers-To-Date"] == "2024-01-02T03:04:05.678000Z"
    assert h["WARC-Date"] == "2024-01-02T03:04:05.678000Z".replace("02T", "03T")
    assert rev.payload_digest == orig.payload_digest == _sha1(b"same")
    assert stored.http_status == 200 and stored.http_head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert stored.payload == b"" and rev.refers_to == orig.record_id
    plain = read_record(tmp_path, rev_res.warc_file, rev_res.offset)
    assert plain.http_headers is None and plain.payload == b"" and plain.http_head == b""
    assert "Content-Type" not in dict(plain.headers)
    assert dict(plain.headers)["Content-Length"] == "0"
    assert rev_res.payload_digest == res.payload_digest


# -- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda w: w.write_resource("file:///a b", b"", content_type=None), "whitespace"),
        (lambda w: w.write_resource("", b"", content_type=None), "non-empty"),
        (
            lambda w: w.write_resource(
                "file:///a", b"", content_type=None, date=datetime(2024, 1, 1)
            ),
            "timezone-aware",
        ),
        (
            lambda w: w.write_resource(
                "file:///a", b"", content_type=None, extra_headers={"WARC-Type": "x"}
            ),
            "set by the writer",
        ),
        (
            lambda w: w.write_response(
                "http://e/", status=200, reason="OK", headers=[("X", "a\r\nb")], body=b""
            ),
            "CR/LF",
        ),
        (
            lambda w: w.write_response(
                "http://e/", status=200, reason="OK", headers=[("X", "€")], body=b""
            ),
            "latin-1",
        ),
        (
            lambda w: w.write_response("http://e/", status=42, reason="", headers=[], body=b""),
            "100-999",
        ),
        (lambda w: w.write_conversion("http://e/", "x", refers_to="nope"), "record id"),
        (lambda w: w.write_resource("file:///a", b"", content_type="a\nb"), "CR/LF"),
        (
            lambda w: w.write_response("http://e/", status=200, reason="€", headers=[], body=b""),
            "latin-1",
        ),
        (lambda w: w.write_metadata("http://e/", {"x": object()}, refers_to=None), "JSON"),
        (lambda w: w.write_metadata("http://e/", {"x": float("nan")}, refers_to=None), "JSON"),
        (lambda w: w.write_conversion("http://e/", "\ud800", refers_to="<urn:x>"), "Unicode"),
    ],
)
def test_bad_writer_input_raises_value_error(
    tmp_path: Path, call: Callable[[WarcWriter], object], message: str
) -> None:
    with _writer(tmp_path) as w:
        with pytest.raises(ValueError, match=message):
            call(w)
        ok = w.write_resource("file:///after", b"fine", content_type="text/plain")
    assert read_record(tmp_path, ok.warc_file, ok.offset).payload == b"fine"


@pytest.mark.parametrize(
    "call",
    [
        lambda w: w.write_resource("file:///a", "text", content_type=None),
        lambda w: w.write_resource("file:///a", b"", content_type=None, extra_headers={"X": 1}),
        lambda w: w.write_response(
            "http://e/", status=200, reason="OK", headers=[(b"X", b"y")], body=b""
        ),
    ],
)
def test_wrong_types_raise_type_error(tmp_path: Path, call: Callable[[WarcWriter], object]) -> None:
    with _writer(tmp_path) as w, pytest.raises(TypeError, match="must be"):
        call(w)


def test_revisit_needs_digest_and_status(tmp_path: Path) -> None:
    ref = RecordRef("<urn:x>", "response", "f", 0, 1, "http://e/", WHEN)
    with _writer(tmp_path) as w:
        with pytest.raises(ValueError, match="payload digest"):
            w.write_revisit("http://e/", original=ref)
        with pytest.raises(ValueError, match="status"):
            w.write_revisit("http://e/", original=replace(ref, payload_digest=_sha1(b"")))


def test_non_utc_dates_are_converted(tmp_path: Path) -> None:
    local = datetime(2024, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    with _writer(tmp_path) as w:
        ref = w.write_resource("file:///a", b"", content_type=None, date=local)
    stored = read_record(tmp_path, ref.warc_file, ref.offset)
    assert dict(stored.headers)["WARC-Date"] == "2024-01-02T03:04:05Z"
    assert stored.ref.date == local and stored.ref.date.tzinfo == UTC


# -- bad files -----------------------------------------------------------------------------


@pytest.fixture
def written(tmp_path: Path) -> tuple[Path, list[RecordRef]]:
    with _writer(tmp_path) as w:
        refs = _all_types(w)
    return tmp_path / w.files[0], refs


def test_truncated_file(written: tuple[Path, list[RecordRef]]) -> None:
    path, refs = written
    last = refs[-1]
    path.write_bytes(path.read_bytes()[: last.offset + last.length - 10])
    with pytest.raises(WarcReadError, match=r"at offset \d+: truncated gzip member"):
        read_record(path.parent, path.name, last.offset)
    with pytest.raises(WarcReadError, match="truncated"):
        list(iter_records(path))
    assert read_record(path.parent, path.name, refs[0].offset).ref == refs[0]


def test_random_bytes_file(tmp_path: Path) -> None:
    path = tmp_path / "junk.warc.gz"
    path.write_bytes(os.urandom(4096).replace(b"\x1f\x8b", b"\x00\x00"))
    with pytest.raises(WarcReadError, match=r"junk\.warc\.gz at offset 0: no gzip member"):
        read_record(tmp_path, "junk.warc.gz", 0)
    with pytest.raises(WarcReadError, match="no gzip member"):
        list(iter_records(path))


def test_gzip_of_non_warc_and_corrupt_member(tmp_path: Path) -> None:
    (tmp_path / "text.warc.gz").write_bytes(gzip.compress(b"hello world\r\n\r\n"))
    with pytest.raises(WarcReadError, match="not a WARC record"):
        read_record(tmp_path, "text.warc.gz", 0)
    good = gzip.compress(
        _record([("WARC-Type", "resource"), ("Content-Length", "3")], b"abc"), mtime=0
    )
    broken = good[:12] + bytes(b ^ 0xFF for b in good[12:30]) + good[30:]
    (tmp_path / "broken.warc.gz").write_bytes(broken)
    with pytest.raises(WarcReadError, match=r"broken\.warc\.gz at offset 0"):
        read_record(tmp_path, "broken.warc.gz", 0)
    (tmp_path / "noid.warc.gz").write_bytes(good)
    with pytest.raises(WarcReadError, match="no WARC-Record-ID"):
        read_record(tmp_path, "noid.warc.gz", 0)


def test_one_member_holding_several_records(tmp_path: Path) -> None:
    with _writer(tmp_path) as w:
        _all_types(w)
    raw = gzip.decompress((tmp_path / w.files[0]).read_bytes())
    (tmp_path / "single.warc.gz").write_bytes(zlib.compress(raw, wbits=31))
    with pytest.raises(WarcReadError, match="several records in one gzip member"):
        read_record(tmp_path, "single.warc.gz", 0)


def test_missing_file_and_bad_names(tmp_path: Path) -> None:
    with pytest.raises(WarcReadError, match="not found"):
        read_record(tmp_path, "nothing.warc.gz", 0)
    with pytest.raises(WarcReadError, match="not found"):
        list(iter_records(tmp_path / "nothing.warc.gz"))
    for bad in ("../etc/passwd", "sub/x.warc.gz", "", ".."):
        with pytest.raises(WarcReadError, match="plain WARC file name"):
            find_warc_file(tmp_path, bad)
    (tmp_path / "empty.warc.gz").write_bytes(b"")
    with pytest.raises(WarcReadError, match="empty"):
        list(iter_records(tmp_path / "empty.warc.gz"))


def test_find_warc_file_open_and_final(tmp_path: Path) -> None:
    (tmp_path / "a.warc.gz.open").write_bytes(b"x")
    assert find_warc_file(tmp_path, "a.warc.gz") == tmp_path / "a.warc.gz.open"
    assert find_warc_file(tmp_path, "a.warc.gz.open") == tmp_path / "a.warc.gz.open"
    (tmp_path / "a.warc.gz").write_bytes(b"x")
    assert find_warc_file(tmp_path, "a.warc.gz") == tmp_path / "a.warc.gz"


def test_offsets_inside_or_past_a_member(written: tuple[Path, list[RecordRef]]) -> None:
    path, refs = written
    size = path.stat().st_size
    for offset in (refs[0].offset + 1, refs[2].offset + refs[2].length // 2):
        with pytest.raises(WarcReadError, match=f"offset {offset}: no gzip member starts here"):
            read_record(path.parent, path.name, offset)
    with pytest.raises(WarcReadError, match="past the end"):
        read_record(path.parent, path.name, size)
    with pytest.raises(WarcReadError, match="non-negative"):
        read_record(path.parent, path.name, -1)


# -- verification --------------------------------------------------------------------------


def test_verify_record_detects_tampered_payload(written: tuple[Path, list[RecordRef]]) -> None:
    path, refs = written
    resp = read_record(path.parent, path.name, refs[0].offset)
    assert verify_record(resp) == []
    same_length = replace(resp, payload=b"<p>HELLO</p>")
    problems = verify_record(same_length)
    assert any(p.startswith("block digest mismatch") for p in problems)
    assert any(p.startswith("payload digest mismatch") for p in problems)
    shorter = verify_record(replace(resp, payload=b"<p>"))
    assert any("Content-Length" in p for p in shorter)


def test_verify_record_on_tampered_file(written: tuple[Path, list[RecordRef]]) -> None:
    path, refs = written
    res = refs[2]
    raw = path.read_bytes()
    member = gzip.decompress(raw[res.offset : res.offset + res.length])
    bad = zlib.compress(member.replace(b"plain text\n", b"plain TEXT\n"), wbits=31)
    path.write_bytes(raw[: res.offset] + bad + raw[res.offset + res.length :])
    stored = read_record(path.parent, path.name, res.offset)
    assert len(verify_record(stored)) == 2
    check = subprocess.run([BIN / "warcio", "check", str(path)], capture_output=True, text=True)
    assert check.returncode == 1  # warcio agrees that the record is damaged


def test_verify_record_other_digest_encodings(written: tuple[Path, list[RecordRef]]) -> None:
    path, refs = written
    stored = read_record(path.parent, path.name, refs[2].offset)
    digest = hashlib.sha1(stored.payload).digest()
    for declared in (f"sha1:{digest.hex()}", "sha1:" + base64.b64encode(digest).decode()):
        ref = replace(stored.ref, payload_digest=declared, block_digest=declared)
        assert verify_record(replace(stored, ref=ref)) == []
    ref = replace(stored.ref, payload_digest="nohash:abc", block_digest="sha1:!!")
    problems = verify_record(StoredRecord(ref, stored.headers, None, None, stored.payload))
    assert len(problems) == 2 and "no known hash" in problems[1]


def test_bad_warcinfo_and_options_fail_at_construction(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="CR/LF"):
        WarcWriter(tmp_path, warcinfo={"operator": "a\nb"})
    with pytest.raises(ValueError, match="prefix"):
        WarcWriter(tmp_path, prefix="../x")
    with pytest.raises(ValueError, match="max_size"):
        WarcWriter(tmp_path, max_size=0)
    w = _writer(tmp_path, record_id_factory=lambda: "no-brackets")
    with pytest.raises(ValueError, match="record_id_factory"):
        w.write_resource("file:///a", b"", content_type=None)
    w.close()
    assert list(tmp_path.iterdir()) == []


def test_http_records_need_http_uri(tmp_path: Path) -> None:
    with _writer(tmp_path) as w:
        with pytest.raises(ValueError, match="http"):
            w.write_response("file:///a", status=200, reason="OK", headers=[], body=b"")
        with pytest.raises(ValueError, match="http"):
            w.write_request("ftp://a/", method="GET", target="/", headers=[])


def test_creates_directory_and_host_is_file_name_safe(tmp_path: Path) -> None:
    with _writer(tmp_path / "a" / "b", host="evil/../host name") as w:
        ref = w.write_resource("file:///a", b"x", content_type=None)
    assert ref.warc_file == "test-20240102030405678-00000-evil_.._host_name-4242.warc.gz"
    assert (tmp_path / "a" / "b" / ref.warc_file).is_file()
    info = next(iter_records(tmp_path / "a" / "b" / ref.warc_file))
    assert b"hostname: evil/../host name\r\n" in info.payload


FULL_DISK = """
import resource, signal, sys
from pathlib import Path
from pipeline.warc.writer import WarcWriteError, WarcWriter
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (4000, 4000))
w = WarcWriter(Path(sys.argv[1]))
written = 0
try:
    for i in range(100):
        w.write_resource(f"file:///{i}", bytes(range(256)) * 3, content_type=None)
        written += 1
except WarcWriteError as exc:
    print(written, exc)
"""


def test_failed_write_leaves_no_partial_member(tmp_path: Path) -> None:
    # A file size limit makes the OS refuse the write part-way, like a full disk.
    out = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    assert out.returncode == 0, out.stderr
    written, message = out.stdout.split(" ", 1)
    assert "cannot write to WARC file" in message
    (path,) = tmp_path.iterdir()
    stored = list(iter_records(path))
    assert len(stored) == 1 + int(written) and stored[-1].ref.record_type == "resource"
    assert all(verify_record(s) == [] for s in stored)


def test_files_package_as_valid_wacz(tmp_path: Path) -> None:
    warcs = tmp_path / "warc"
    with _writer(warcs, max_size=1500) as w:
        _all_types(w)
    wacz = tmp_path / "out.wacz"
    paths = [str(warcs / n) for n in w.files]
    made = subprocess.run(
        [BIN / "wacz", "create", "-o", str(wacz), *paths], capture_output=True, text=True
    )
    assert made.returncode == 0, made.stdout + made.stderr
    valid = subprocess.run(
        [BIN / "wacz", "validate", "-f", str(wacz)], capture_output=True, text=True
    )
    assert valid.returncode == 0 and "valid" in valid.stdout, valid.stdout + valid.stderr


def test_read_record_by_absolute_path(written: tuple[Path, list[RecordRef]]) -> None:
    # Imported WARCs are indexed where they lie, by absolute path.
    path, refs = written
    stored = read_record(Path("/"), str(path), refs[1].offset)
    assert stored.ref == replace(refs[1], warc_file=str(path))


# -- records built without warcio's writer: the bytes warcio writes ------------------------


class _RawHead(StatusAndHeaders):
    """A head warcio writes as given (what the writer's wire heads were before)."""

    def __init__(self, raw: bytes) -> None:
        super().__init__(raw.split(b"\r\n", 1)[0].decode("latin-1"), [], "")
        self.raw = raw

    def compute_headers_buffer(self, header_filter: object = None) -> None:
        self.headers_buff = self.raw


def _warcio_bytes(
    headers: list[tuple[str, str]],
    block: bytes,
    content_type: str | None,
    http: StatusAndHeaders | None,
) -> bytes:
    """What warcio's RecordBuilder and WARCWriter make of the same record."""
    record = RecordBuilder(warc_version="1.1").create_warc_record(
        "",
        headers[0][1],
        payload=io.BytesIO(block),
        length=len(block),
        warc_content_type=content_type or "",
        warc_headers=StatusAndHeaders("", list(headers), protocol="WARC/1.1"),
        http_headers=http,
    )
    record.content_type = content_type
    out = io.BytesIO()
    WARCWriter(out, gzip=False, warc_version="1.1").write_record(record)
    return out.getvalue()


def test_built_records_are_the_bytes_warcio_writes() -> None:
    original = RecordRef(
        record_id="<urn:uuid:00000000-0000-0000-0000-000000000009>",
        record_type="response",
        warc_file="x.warc.gz",
        offset=0,
        length=1,
        target_uri="http://example.com/a",
        date=WHEN,
        payload_digest=_sha1(b"body"),
        http_status=200,
    )
    wire = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Name: caf\xe9\r\n"
        b"Content-Length: 9\r\n\r\n"
    )
    request = records.request_headers("GET", "/a?b=1", [("Host", "example.com")], "HTTP/1.1")
    response = records.status_headers(
        200, "OK", [("Transfer-Encoding", "chunked"), ("X-Name", "café")], 9, "HTTP/1.1"
    )
    revisit = records.revisit_http(original, None, "", [("Server", "x")])[1]
    body = b"<p>caf\xe9</p>"
    response_type, request_type = records.HTTP_RESPONSE_TYPE, records.HTTP_REQUEST_TYPE
    revisit_extra = records.revisit_extra(original)
    refers = original.record_id
    cases: list[tuple[str, list[tuple[str, str]], bytes, str | None, StatusAndHeaders | None]] = [
        ("response", [("WARC-IP-Address", "127.0.0.1")], body, response_type, response),
        ("response", [], body, response_type, _RawHead(wire)),
        ("response", [], b"", response_type, _RawHead(wire)),
        ("request", [("WARC-Concurrent-To", refers)], b"", request_type, request),
        ("request", [], b"a=1", request_type, _RawHead(b"POST /a HTTP/1.1\r\n\r\n")),
        ("revisit", revisit_extra, b"", response_type, revisit),
        ("revisit", revisit_extra, b"", response_type, _RawHead(wire)),
        ("revisit", revisit_extra, b"", None, None),
        ("resource", [("X-Extra", "ü")], b"plain text\n", "text/plain", None),
        ("resource", [], b"", "application/octet-stream", None),
        ("conversion", [("WARC-Refers-To", refers)], "wörld".encode(), "text/plain", None),
        ("metadata", [], b'{"a": 1}', "application/json", None),
        ("warcinfo", [("WARC-Filename", "x.warc")], b"a: b\r\n", "application/warc-fields", None),
    ]
    for rtype, extra, block, content_type, http in cases:
        headers = records.record_headers(rtype, original.record_id, WHEN, "http://e.com/a", extra)
        if rtype == "warcinfo":
            headers = [h for h in headers if h[0] != "WARC-Target-URI"]
        head = None if http is None else records.http_head(http)
        built = records.build_record(headers, block, content_type, head)
        expected = _warcio_bytes(headers, block, content_type, http)
        assert built.data == expected, rtype
        parsed = next(iter(ArchiveIterator(io.BytesIO(built.data))))
        assert built.headers == parsed.rec_headers.headers, rtype
