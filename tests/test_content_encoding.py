"""Content-Encoding of stored payloads undone: gzip, deflate, br, zstd, stacked, chunked."""

from __future__ import annotations

import gzip
import io
import zlib

import brotli
import pytest
from warcio.bufferedreaders import BufferedReader

from pipeline.warc.content_encoding import ContentDecodingError, decode_content, zstd
from pipeline.warc.reading import decoded_http_payload

PAGE = b"<html><body>" + b"<p>The harbour reopened on Monday.</p>" * 200 + b"</body></html>"


def raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize(
    ("coding", "encoded"),
    [
        ("gzip", gzip.compress(PAGE)),
        ("x-gzip", gzip.compress(PAGE[:100]) + gzip.compress(PAGE[100:])),  # two members
        ("deflate", zlib.compress(PAGE)),
        ("deflate", raw_deflate(PAGE)),
        ("br", brotli.compress(PAGE)),
        ("zstd", zstd.compress(PAGE[:50]) + zstd.compress(PAGE[50:])),  # two frames
        ("gzip, br", brotli.compress(gzip.compress(PAGE))),
        ("Identity", PAGE),
        ("gzip", PAGE),  # labelled gzip, sent plain: read as it is
        ("compress", PAGE),  # unknown: left alone
    ],
)
def test_codings_are_undone(coding: str, encoded: bytes) -> None:
    assert decode_content(coding, encoded) == PAGE


def test_a_corrupt_body_is_a_clear_error() -> None:
    with pytest.raises(ContentDecodingError, match="cannot undo Content-Encoding br"):
        decode_content("br", b"\xff" * 40)
    with pytest.raises(ContentDecodingError, match="Content-Encoding gzip"):
        decode_content("gzip", gzip.compress(PAGE)[:-30] + b"\x00" * 30)


def test_chunked_brotli_payload() -> None:
    body = brotli.compress(PAGE)
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(body[i : i + 100]), body[i : i + 100])
                       for i in range(0, len(body), 100)) + b"0\r\n\r\n"  # fmt: skip
    headers = [("Transfer-Encoding", "chunked"), ("Content-Encoding", "br")]
    assert decoded_http_payload(headers, chunked) == PAGE


@pytest.mark.parametrize(
    ("coding", "encoded"), [("br", brotli.compress(PAGE)), ("zstd", zstd.compress(PAGE))]
)
def test_warcio_readers_in_our_process_decode_br_and_zstd(coding: str, encoded: bytes) -> None:
    # What cdxj-indexer reads through when a WACZ is exported.
    reader = BufferedReader(io.BytesIO(encoded), block_size=64, decomp_type=coding)
    assert reader.read() == PAGE
