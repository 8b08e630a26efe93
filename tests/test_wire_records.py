"""Request and response records hold the bytes that crossed the wire.

A raw socket server on loopback sends every byte of its answers itself (odd header casing,
repeated Set-Cookie, a reason phrase of its own, a chunked body, a gzip body) and keeps every
byte it received; the WARC records of a crawl are compared with both, byte for byte.
"""

from __future__ import annotations

import gzip
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pipeline.warc.reading import StoredRecord, iter_records, payload_sha1
from tests.cli import archive_env, scrapy
from tests.newsite import article_html, crawl

ODD = article_html("Harbour reopens", "harbour", "Lisbon").encode()
CHUNKED = article_html("Market closes higher", "market", "Porto").encode()
GZIPPED = article_html("Storm warning issued", "storm", "Faro").encode()
GZIP_BODY = gzip.compress(GZIPPED, mtime=0)


def chunked(body: bytes, size: int) -> bytes:
    parts = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts) + b"0\r\n\r\n"


HEADS = {
    "/robots.txt": b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
    "/odd": (
        b"HTTP/1.1 200 Fine Thanks\r\n"
        b"content-TYPE: text/html; charset=utf-8\r\n"
        b"Set-Cookie: a=1; Path=/\r\n"
        b"x-Served-BY:   loopback  \r\n"
        b"Set-Cookie: b=2\r\n"
        b"Content-Length: %d\r\n\r\n" % len(ODD)
    ),
    "/chunked": (
        b"HTTP/1.1 200 OK\r\nContent-type: text/html\r\ntransfer-encoding: chunked\r\n"
        b"Cache-Control: no-store\r\n\r\n"
    ),
    "/gzip": (
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Type: text/html\r\n"
        b"Vary: Accept-Encoding\r\nContent-Length: %d\r\n\r\n" % len(GZIP_BODY)
    ),
}
BODIES = {"/robots.txt": b"", "/odd": ODD, "/chunked": chunked(CHUNKED, 1000), "/gzip": GZIP_BODY}


@dataclass
class RawServer:
    port: int
    scheme: str = "http"
    received: dict[str, bytes] = field(default_factory=dict)  # request bytes by path

    def url(self, path: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"


def _serve_connection(conn: socket.socket, server: RawServer, tls: ssl.SSLContext | None) -> None:
    conn.settimeout(10)
    buffer = b""
    try:
        if tls is not None:
            conn = tls.wrap_socket(conn, server_side=True)
    except OSError:
        conn.close()
        return
    with conn:
        while True:
            while b"\r\n\r\n" not in buffer:
                try:
                    data = conn.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                buffer += data
            end = buffer.index(b"\r\n\r\n") + 4
            request, buffer = buffer[:end], buffer[end:]
            path = request.split(b" ", 2)[1].decode()
            server.received[path] = request
            conn.sendall(HEADS[path] + BODIES[path])


def serve(tls: ssl.SSLContext | None = None) -> Iterator[RawServer]:
    listener = socket.create_server(("127.0.0.1", 0))
    server = RawServer(listener.getsockname()[1], "https" if tls else "http")
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            args = (conn, server, tls)
            threading.Thread(target=_serve_connection, args=args, daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


@pytest.fixture
def raw_server() -> Iterator[RawServer]:
    yield from serve()


def self_signed_context(folder: Path) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[RawServer]:
    yield from serve(self_signed_context(tmp_path))


def records_by(archive: Path, record_type: str) -> dict[str, StoredRecord]:
    found = {}
    for path in sorted((archive / "warc").glob("*.warc.gz")):
        for stored in iter_records(path):
            if stored.ref.record_type == record_type:
                found[stored.ref.target_uri] = stored
    return found


@pytest.fixture
def crawled(raw_server: RawServer, tmp_path: Path) -> Path:
    urls = tmp_path / "urls.txt"
    urls.write_text("".join(raw_server.url(p) + "\n" for p in ("/odd", "/chunked", "/gzip")))
    archive = tmp_path / "archive"
    crawl("urls", archive, "-a", f"urls={urls}")
    return archive


def test_response_records_hold_the_bytes_received(crawled: Path, raw_server: RawServer) -> None:
    responses = records_by(crawled, "response")
    for path in ("/robots.txt", "/odd", "/gzip"):
        stored = responses[raw_server.url(path)]
        assert stored.http_head == HEADS[path], path
        assert stored.payload == BODIES[path], path
        assert stored.ref.payload_digest == payload_sha1(BODIES[path])
    assert responses[raw_server.url("/odd")].http_status == 200
    cookies = [v for k, v in responses[raw_server.url("/odd")].http_headers if k == "Set-Cookie"]
    assert cookies == ["a=1; Path=/", "b=2"]


def test_a_chunked_body_is_stored_dechunked_with_its_head_in_place(
    crawled: Path, raw_server: RawServer
) -> None:
    stored = records_by(crawled, "response")[raw_server.url("/chunked")]
    assert stored.http_head == (
        b"HTTP/1.1 200 OK\r\nContent-type: text/html\r\n"
        b"X-Archive-Orig-transfer-encoding: chunked\r\nCache-Control: no-store\r\n"
        b"Content-Length: %d\r\n\r\n" % len(CHUNKED)
    )
    assert stored.payload == CHUNKED
    assert stored.ref.payload_digest == payload_sha1(CHUNKED)


def test_request_records_hold_the_bytes_sent(crawled: Path, raw_server: RawServer) -> None:
    requests = records_by(crawled, "request")
    assert set(requests) == {raw_server.url(p) for p in HEADS}
    for path, sent in raw_server.received.items():
        stored = requests[raw_server.url(path)]
        assert stored.http_head + stored.payload == sent, path
        assert f"\r\nHost: 127.0.0.1:{raw_server.port}\r\n".encode() in stored.http_head


def test_the_records_pass_warcio_check_and_verify(crawled: Path) -> None:
    for path in sorted((crawled / "warc").glob("*.warc.gz")):
        check = subprocess.run(
            [str(Path(sys.executable).parent / "warcio"), "check", "-v", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert check.returncode == 0, check.stdout + check.stderr
    verify = scrapy("verify", env=archive_env(crawled))
    assert verify.code == 0, verify.out + verify.err


def test_show_raw_reindex_and_verify_read_the_records(crawled: Path, raw_server: RawServer) -> None:
    env = archive_env(crawled)
    for path, body in (("/odd", ODD), ("/chunked", CHUNKED), ("/gzip", GZIP_BODY)):
        shown = scrapy("show", "--raw", raw_server.url(path), env=env)
        assert shown.code == 0, shown.err
        assert shown.raw == body, path  # the payload as stored: still gzip for /gzip
    reindex = scrapy("reindex", env=env)
    assert reindex.code == 0, reindex.err
    verify = scrapy("verify", env=env)
    assert verify.code == 0, verify.out + verify.err


def test_https_records_hold_the_http_inside_tls(tls_server: RawServer, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    crawl("urls", archive, "-a", f"url={tls_server.url('/odd')}")
    stored = records_by(archive, "response")[tls_server.url("/odd")]
    assert stored.http_head == HEADS["/odd"]
    assert stored.payload == ODD
    request = records_by(archive, "request")[tls_server.url("/odd")]
    assert request.http_head + request.payload == tls_server.received["/odd"]
    assert request.http_head.startswith(b"GET /odd HTTP/1.1\r\n")
