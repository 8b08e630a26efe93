"""HTTP/1.x framing of recorded bytes: where the final response and the request end."""

from __future__ import annotations

import pytest

from pipeline.warc.http_wire import WireMessage, dechunk, request_message, response_message

HEAD = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"


def test_content_length_cuts_the_body_and_what_follows_is_not_kept() -> None:
    assert response_message(HEAD + b"hello" + b"garbage", "GET") == WireMessage(HEAD, b"hello")


def test_a_body_shorter_than_its_content_length_is_not_framed() -> None:
    assert response_message(HEAD + b"hel", "GET") is None
    assert response_message(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n", "GET") is None


@pytest.mark.parametrize(
    ("status", "method"),
    [(b"204 No Content", "GET"), (b"304 Not Modified", "GET"), (b"200 OK", "HEAD")],
)
def test_responses_without_a_body(status: bytes, method: str) -> None:
    head = b"HTTP/1.1 " + status + b"\r\nContent-Length: 12\r\n\r\n"
    assert response_message(head, method) == WireMessage(head, b"")


def test_interim_responses_are_skipped() -> None:
    interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
    assert response_message(interim + HEAD + b"hello", "GET") == WireMessage(HEAD, b"hello")


def test_no_length_reads_to_the_end_of_the_connection() -> None:
    head = b"HTTP/1.0 200 OK\nContent-Type: text/plain\n\n"  # LF-only lines, as some servers send
    assert response_message(head + b"all of it", "GET") == WireMessage(head, b"all of it")


def test_chunked_with_extensions_and_trailers() -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    body = b"5;name=x\r\nhello\r\n1\r\n!\r\n0\r\nExpires: never\r\n\r\n"
    message = response_message(head + body, "GET")
    assert message == WireMessage(head, b"hello!", chunked=True)
    assert message.archived_head() == (
        b"HTTP/1.1 200 OK\r\nX-Archive-Orig-Transfer-Encoding: chunked\r\nContent-Length: 6\r\n\r\n"
    )


def test_chunked_without_its_last_chunk_is_not_framed() -> None:
    assert dechunk(b"5\r\nhello\r\n") is None
    assert dechunk(b"zz\r\nhello\r\n0\r\n\r\n") is None
    assert dechunk(b"5\r\nhel") is None


def test_a_content_length_beside_chunked_is_renamed_too() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\ntransfer-encoding: chunked\r\n\r\n"
    message = response_message(head + b"2\r\nhi\r\n0\r\n\r\n", "GET")
    assert message is not None and message.body == b"hi"
    assert message.archived_head() == (
        b"HTTP/1.1 200 OK\r\nX-Archive-Orig-Content-Length: 99\r\n"
        b"X-Archive-Orig-transfer-encoding: chunked\r\nContent-Length: 2\r\n\r\n"
    )


def test_not_http_is_not_framed() -> None:
    assert response_message(b"SSH-2.0-OpenSSH\r\n\r\n", "GET") is None
    assert request_message(b"hello\r\n\r\n") is None


def test_request_head_and_body() -> None:
    head = b"POST /form HTTP/1.1\r\nHost: a.example\r\nContent-Length: 3\r\n\r\n"
    assert request_message(head + b"a=1") == WireMessage(head, b"a=1")
    assert request_message(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n") == WireMessage(
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", b""
    )
