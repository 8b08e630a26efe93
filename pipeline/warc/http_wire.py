"""HTTP/1.x messages as they crossed the wire: where head and body end, and what a record keeps.

Pure bytes in, bytes out (no Scrapy, no Twisted): ``pipeline.crawl.wire`` records what a
connection sent and received for one request; this module cuts the request and the final
response out of those bytes by HTTP/1.1 framing (Content-Length, chunked, or to the end of the
connection).

A record keeps the head byte for byte. A chunked body is stored de-chunked: its head keeps the
``Transfer-Encoding`` line in place under the name ``X-Archive-Orig-`` + the name as sent, and a
true ``Content-Length`` line is added before the blank line. WARC 1.1 defines the payload (and so
WARC-Payload-Digest) as the body with transfer-encoding removed, while warcio, cdxj-indexer and
``warcio check`` digest the block bytes after the head; only a de-chunked body lets both agree
(docs/DESIGN.md, "Records as received").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEAD_END = re.compile(rb"\r?\n\r?\n")
_STATUS_LINE = re.compile(rb"HTTP/(\d)\.(\d) (\d{3})(?: [^\r\n]*)?\r?\n")
_REQUEST_LINE = re.compile(rb"[A-Za-z]+ \S+ HTTP/\d\.\d\r?\n")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]+)[ \t]*(?:;[^\r\n]*)?\r?\n")
ORIGINAL_PREFIX = b"X-Archive-Orig-"


@dataclass(frozen=True)
class WireMessage:
    """One HTTP message: ``head`` as sent (start line, header lines, blank line), ``body`` the
    entity body with any chunked framing removed."""

    head: bytes
    body: bytes
    chunked: bool = False

    @property
    def status(self) -> int | None:
        found = _STATUS_LINE.match(self.head)
        return int(found.group(3)) if found else None

    def archived_head(self) -> bytes:
        """The head a record stores with the body de-chunked (see module docstring)."""
        if not self.chunked:
            return self.head
        newline = b"\r\n" if self.head.endswith(b"\r\n\r\n") else b"\n"
        lines = self.head.rstrip(b"\r\n").split(newline)
        kept = [lines[0]]
        for line in lines[1:]:
            name = line.split(b":", 1)[0].strip().lower()
            renamed = name in (b"transfer-encoding", b"content-length")
            kept.append(ORIGINAL_PREFIX + line if renamed else line)
        return newline.join([*kept, b"Content-Length: %d" % len(self.body), b"", b""])


def header_fields(head: bytes) -> list[tuple[bytes, bytes]]:
    """The (name, value) fields of a head, names as sent, values stripped; folded lines joined."""
    fields: list[tuple[bytes, bytes]] = []
    for line in re.split(rb"\r?\n", head)[1:]:
        if not line:
            break
        if line[:1] in (b" ", b"\t") and fields:
            name, value = fields[-1]
            fields[-1] = (name, value + b" " + line.strip())
        elif b":" in line:
            name, value = line.split(b":", 1)
            fields.append((name, value.strip()))
    return fields


def _field(fields: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    values = [value for key, value in fields if key.strip().lower() == name]
    return b", ".join(values) if values else None


def _split_head(data: bytes) -> tuple[bytes, bytes] | None:
    found = _HEAD_END.search(data)
    if found is None:
        return None
    return data[: found.end()], data[found.end() :]


def dechunk(data: bytes) -> bytes | None:
    """The body of chunked ``data``; None when the framing is broken or the last chunk is missing.

    Chunk extensions and trailer fields are framing too: they are not part of the payload.
    """
    out, position = [], 0
    while True:
        size_line = _CHUNK_SIZE.match(data, position)
        if size_line is None:
            return None
        size = int(size_line.group(1), 16)
        position = size_line.end()
        if size == 0:
            break
        end = position + size
        if len(data) < end:
            return None
        out.append(data[position:end])
        crlf = re.compile(rb"\r?\n").match(data, end)
        if crlf is None:
            return None
        position = crlf.end()
    # Trailer fields, then the blank line that ends the message.
    trailer_end = re.compile(rb"(?:[^\r\n]+\r?\n)*\r?\n").match(data, position)
    return b"".join(out) if trailer_end else None


def response_message(received: bytes, request_method: str) -> WireMessage | None:
    """The final response in the bytes a connection received for one request.

    Interim 1xx responses before it are skipped. None when no complete response can be framed
    (the download was cut short, or what came is not HTTP/1.x).
    """
    rest = received
    while True:
        split = _split_head(rest)
        if split is None:
            return None
        head, rest = split
        status = _STATUS_LINE.match(head)
        if status is None:
            return None
        code = int(status.group(3))
        if not 100 <= code < 200 or code == 101:
            break
    return _framed(head, rest, code, request_method)


def _framed(head: bytes, rest: bytes, code: int, request_method: str) -> WireMessage | None:
    if request_method.upper() == "HEAD" or code < 200 or code in (204, 304):
        return WireMessage(head, b"")
    fields = header_fields(head)
    coding = (_field(fields, b"transfer-encoding") or b"").lower()
    if coding:
        if coding.rsplit(b",", 1)[-1].strip() != b"chunked":
            return WireMessage(head, rest)  # read to the end of the connection
        body = dechunk(rest)
        return None if body is None else WireMessage(head, body, chunked=True)
    length = _field(fields, b"content-length")
    if length is None:
        return WireMessage(head, rest)
    declared = length.split(b",")[0].strip()
    if not declared.isdigit() or len(rest) < int(declared):
        return None
    return WireMessage(head, rest[: int(declared)])


def request_message(sent: bytes) -> WireMessage | None:
    """The request in the bytes a connection sent: its head and the body after it."""
    split = _split_head(sent)
    if split is None or _REQUEST_LINE.match(split[0]) is None:
        return None
    head, rest = split
    length = _field(header_fields(head), b"content-length")
    if length is not None and length.strip().isdigit():
        rest = rest[: int(length.strip())]
    return WireMessage(head, rest)
