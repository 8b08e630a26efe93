"""The inputs of the bad-input corpus (tests/test_bad_input_corpus.py): local files, loopback HTTP
responses and WARC/WACZ/ARC files, each built from fixed bytes so every run sees the same input.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import struct
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.cli import PROJECT_DIR

ARTICLES = PROJECT_DIR / "tests" / "data" / "articles"
ARTICLE_TEXT = (ARTICLES / "drills-aug2023.txt").read_text("utf-8")
JAPANESE = (PROJECT_DIR / "tests" / "data" / "cjk" / "ja-harbor-bridge.txt").read_text("utf-8")


def article_variant(number: int) -> str:
    """An article of its own (its own text digest), for inputs that must become documents."""
    return f"Harbour report {number}: council approves the bridge\n{ARTICLE_TEXT}\nReport {number}."


# ---------------------------------------------------------------------------------------------
# Local files: name -> how to make it in a folder (one `crawl files` over the folder).


def _write(name: str, data: bytes) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        (folder / name).write_bytes(data)

    return make


def _symlink(name: str, target: str) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        (folder / name).symlink_to(target)

    return make


def _fifo(folder: Path) -> None:
    os.mkfifo(folder / "pipe.txt")


def _bad_name(folder: Path) -> None:
    name = os.fsencode(folder) + b"/caf\xe9-latin1-name.txt"  # not UTF-8: a Latin-1 name
    with open(name, "wb") as out:
        out.write(article_variant(7).encode("utf-8"))


SCRAMBLED = bytes((i * 7919 + 13) % 256 for i in range(4096))
GZIPPED = gzip.compress(ARTICLE_TEXT.encode(), mtime=0)
WITH_NUL = article_variant(1).encode().replace(b" the ", b" \0 ")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"
LOCAL_FILES: dict[str, Callable[[Path], None]] = {
    "empty.txt": _write("empty.txt", b""),
    "blank-lines.txt": _write("blank-lines.txt", b"\n\n   \n\t\n"),
    "random-bytes.txt": _write("random-bytes.txt", SCRAMBLED),
    "png-named-txt.txt": _write("png-named-txt.txt", b"\x89PNG\r\n\x1a\n" + bytes(200)),
    "pdf-named-html.html": _write("pdf-named-html.html", PDF),
    "gzip-named-txt.txt": _write("gzip-named-txt.txt", GZIPPED),
    "nul-bytes.txt": _write("nul-bytes.txt", WITH_NUL),
    "utf16-bom.txt": _write("utf16-bom.txt", article_variant(2).encode("utf-16")),
    "cp1252.txt": _write("cp1252.txt", (article_variant(3) + "\n“Café” – naïve").encode("cp1252")),
    "shift-jis.txt": _write("shift-jis.txt", JAPANESE.replace("©", "(c)").encode("shift_jis")),
    "japanese.txt": _write("japanese.txt", JAPANESE.encode("utf-8")),
    "script-only.html": _write(
        "script-only.html", b"<html><head><script>var a = 1;</script></head><body></body></html>"
    ),
    "deep-nesting.html": _write(
        "deep-nesting.html", b"<html><body>" + b"<div>" * 10_000 + b"deep" + b"</div>" * 10_000
    ),
    "one-long-line.txt": _write("one-long-line.txt", b"word " * 200_000),
    "too-large.txt": _write("too-large.txt", b"big line of text\n" * 20_000),
    "unsupported.docx": _write("unsupported.docx", b"PK\x03\x04 not really a document"),
    "pipe.txt": _fifo,
    "broken-link.txt": _symlink("broken-link.txt", "does-not-exist.txt"),
    "loop-link.txt": _symlink("loop-link.txt", "loop-link.txt"),
    "escape-link.txt": _symlink("escape-link.txt", "/etc/hostname"),
    "caf\udce9-latin1-name.txt": _bad_name,
}
LOCAL_MAX_FILE_SIZE = 300_000  # -s ARCHIVE_MAX_FILE_SIZE: too-large.txt is over it


def make_local_files(folder: Path) -> None:
    folder.mkdir()
    for make in LOCAL_FILES.values():
        make(folder)


# ---------------------------------------------------------------------------------------------
# Loopback HTTP: path -> what the server answers.

PAGE = (
    "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
    "<meta property='og:type' content='article'></head><body><article><h1>{title}</h1>"
    + "".join(
        f"<p>Paragraph {i}: officials in the harbour town of {{place}} confirmed on Tuesday "
        "that the new bridge would go ahead as planned after months of debate among residents.</p>"
        for i in range(8)
    )
    + "</article></body></html>"
)


def page(title: str, place: str) -> bytes:
    return PAGE.format(title=title, place=place).encode("utf-8")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        handler = ROUTES.get(self.path.split("?")[0])
        if handler is None:
            self._send(404, b"not found", "text/plain")
            return
        handler(self)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "text/html; charset=utf-8",
        headers: tuple[tuple[str, str], ...] = (),
        length: int | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        with contextlib.suppress(OSError):  # the client gave up (a timeout case)
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _answer(
    status: int,
    body: bytes = b"",
    content_type: str = "text/html; charset=utf-8",
    headers: tuple[tuple[str, str], ...] = (),
) -> Callable[[_Handler], None]:
    return lambda h: h._send(status, body, content_type, headers)


def _short_body(h: _Handler) -> None:
    body = page("Cut short", "Dover")
    h._send(200, body[: len(body) // 2], length=len(body))
    h.close_connection = True


def _slow(h: _Handler) -> None:
    time.sleep(4)  # DOWNLOAD_TIMEOUT is 2 in the crawl
    h._send(200, page("Too slow", "Leith"))


def _redirect(target: str, status: int = 301) -> Callable[[_Handler], None]:
    return _answer(status, b"", headers=(("Location", target),))


ROUTES: dict[str, Callable[[_Handler], None]] = {
    "/robots.txt": _answer(404, b"", "text/plain"),
    "/ok.html": _answer(200, page("Council approves bridge", "Hull")),
    "/loop/a": _redirect("/loop/b"),
    "/loop/b": _redirect("/loop/a"),
    "/self": _redirect("/self"),
    "/bad-ipv6-location": _redirect("http://[::1/x", 302),
    "/no-location": _answer(301, b""),
    "/gzip-header-plain-body": _answer(
        200, page("Not gzip", "Cork"), headers=(("Content-Encoding", "gzip"),)
    ),
    "/short-body": _short_body,
    "/oversize": _answer(200, b"<p>" + b"x" * 300_000 + b"</p>"),
    "/lying-charset": _answer(
        200, page("Caf\u00e9 cr\u00e8me in Sa\u00f4ne", "M\u00e2con").decode().encode("latin-1")
    ),
    "/pdf": _answer(200, b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "application/pdf"),
    "/json": _answer(200, b'{"title": "not a page", "items": [1, 2, 3]}', "application/json"),
    "/image": _answer(200, b"\x89PNG\r\n\x1a\n" + bytes(64), "image/png"),
    "/slow": _slow,
    "/not-found": _answer(404, b"not found", "text/plain"),
    "/server-error": _answer(500, b"boom", "text/plain"),
    "/empty-200": _answer(200, b""),
    "/offhost": lambda h: h._send(
        302, b"", headers=(("Location", f"http://localhost:{h.server.server_port}/ok.html"),)
    ),
    "/site/": _answer(
        200,
        b"<html><body><a href='/offhost'>elsewhere</a> <a href='/ok.html'>ok</a></body></html>",
    ),
}


@contextmanager
def loopback_site(lifetime: float = 300.0) -> Iterator[str]:
    """The corpus site on 127.0.0.1 (a free port); it stops by itself after ``lifetime``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    timer = threading.Timer(lifetime, server.shutdown)
    timer.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        timer.cancel()
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------------------------------------
# WARC, WACZ and ARC files.

RECORD_ID = "<urn:uuid:00000000-0000-4000-8000-{:012d}>"


def warc_record(number: int, uri: str, body: bytes, record_type: str = "response") -> bytes:
    """One uncompressed WARC/1.1 response record with an HTTP block (no digests: optional)."""
    http = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    ) + body
    head = (
        f"WARC/1.1\r\nWARC-Type: {record_type}\r\nWARC-Record-ID: {RECORD_ID.format(number)}\r\n"
        f"WARC-Date: 2024-05-14T08:00:00Z\r\nWARC-Target-URI: {uri}\r\n"
        f"Content-Type: application/http; msgtype=response\r\nContent-Length: {len(http)}\r\n\r\n"
    ).encode()
    return head + http + b"\r\n\r\n"


def gz(record: bytes) -> bytes:
    return gzip.compress(record, mtime=0)


def good_warc(first: int, count: int = 3) -> bytes:
    return b"".join(
        gz(warc_record(n, f"http://example.org/{n}.html", page(f"Story {n}", f"Town {n}")))
        for n in range(first, first + count)
    )


def corrupt_in_the_middle() -> bytes:
    data = bytearray(good_warc(10))
    middle = len(data) // 2
    data[middle : middle + 40] = bytes(40)
    return bytes(data)


def gzip_bomb_record(uri: str, size: int) -> bytes:
    """A response record whose gzip member inflates to ``size`` bytes of spaces; built from one
    deflated block repeated (full flushes make every copy the same bytes), so it is quick to
    make and small on disk."""
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % size
    head = (
        f"WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: {RECORD_ID.format(99)}\r\n"
        f"WARC-Date: 2024-05-14T08:00:00Z\r\nWARC-Target-URI: {uri}\r\n"
        "Content-Type: application/http; msgtype=response\r\n"
        f"Content-Length: {len(http) + size}\r\n\r\n"
    ).encode()
    block = b" " * (1 << 22)
    count, rest = divmod(size, len(block))
    assert rest == 0
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = deflate.compress(head + http) + deflate.flush(zlib.Z_FULL_FLUSH)
    segment = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    last = deflate.compress(b"\r\n\r\n") + deflate.flush()
    crc = zlib.crc32(head + http)
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(b"\r\n\r\n", crc)
    total = len(head) + len(http) + size + 4
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    trailer = struct.pack("<II", crc & 0xFFFFFFFF, total & 0xFFFFFFFF)
    return header + first + segment * count + last + trailer


def wacz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for name, data in members.items():
            package.writestr(name, data)
    return buffer.getvalue()


def arc_file() -> bytes:
    body = page("An ARC story", "Bath")
    http = b"HTTP/1.0 200 OK\nContent-Type: text/html\n\n" + body
    header = b"filedesc://corpus.arc 0.0.0.0 20240514080000 text/plain 0\n"
    version = b"1 0 newsvault\nURL IP-address Archive-date Content-type Archive-length\n\n"
    first = header.replace(b" 0\n", b" %d\n" % len(version)) + version + b"\n"
    record = b"http://example.org/arc.html 127.0.0.1 20240514080000 text/html %d\n" % len(http)
    return first + record + http + b"\n"


def empty_uri_warc() -> bytes:
    return gz(warc_record(30, "", page("No address", "Nowhere"))) + good_warc(31, 1)


PLAIN_URI = "http://example.org/plain.html"
IMPORT_FILES: dict[str, Callable[[], bytes]] = {
    "good.warc.gz": lambda: good_warc(1),
    "truncated.warc.gz": lambda: good_warc(4)[:-100],
    "corrupt-middle.warc.gz": corrupt_in_the_middle,
    "empty.warc.gz": lambda: b"",
    "mislabelled-text.warc.gz": lambda: ARTICLE_TEXT.encode(),
    "plain-named-gz.warc.gz": lambda: warc_record(20, PLAIN_URI, page("P", "Q")),
    "empty-target-uri.warc.gz": empty_uri_warc,
    "gzip-bomb.warc.gz": lambda: (
        gzip_bomb_record("http://example.org/bomb.html", 16 << 20) + good_warc(40, 1)
    ),
    "not-a-zip.wacz": lambda: b"this is not a zip file",
    "empty.wacz": lambda: wacz({}),
    "truncated.wacz": lambda: wacz({"archive/data.warc.gz": good_warc(50)})[:-60],
    "good.wacz": lambda: wacz({"archive/data.warc.gz": good_warc(60, 2)}),
    "old.arc": arc_file,
}
IMPORT_MAX_FILE_SIZE = 1_000_000  # -s ARCHIVE_MAX_FILE_SIZE: the bomb's payload is over it


def make_import_files(folder: Path) -> None:
    folder.mkdir()
    for name, make in IMPORT_FILES.items():
        (folder / name).write_bytes(make())
