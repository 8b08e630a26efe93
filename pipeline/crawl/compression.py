"""Scrapy's response decompression, with gzip inflated by ISA-L.

Scrapy's HttpCompressionMiddleware inflates gzip bodies with the standard library's GzipFile on
the reactor thread: on real news pages (350 kB of HTML on average) that is about 0.75 ms of the
crawl's main process per page, against 0.31 ms for ISA-L (already the WARC writer's deflate;
bench/README.md, "Real pages"). ``gunzip`` takes the fast path only for what it can answer
exactly: one complete gzip member whose CRC and length check out, within the size limit.
Anything else (several members, trailing bytes, a torn or corrupt stream, a body over
DOWNLOAD_MAXSIZE) goes to Scrapy's own ``gunzip``, so its partial results and its errors stay
exactly Scrapy's.
"""

from __future__ import annotations

from typing import cast

from isal import isal_zlib
from scrapy.downloadermiddlewares.httpcompression import (
    HttpCompressionMiddleware as ScrapyHttpCompressionMiddleware,
)
from scrapy.utils.gz import gunzip as scrapy_gunzip

_GZIP_WBITS = 31  # a gzip header and trailer around the deflate stream
_CHUNK = 65536  # inflated per call, so that a bomb is stopped near the limit, as in Scrapy
# isal's stub declares its error an instance, not the exception class it is.
_INFLATE_ERROR = cast(type[Exception], isal_zlib.error)


def gunzip(data: bytes, *, max_size: int = 0) -> bytes:
    """The body inflated, byte for byte what Scrapy's ``gunzip`` returns or raises."""
    inflated = _one_whole_member(data, max_size)
    return scrapy_gunzip(data, max_size=max_size) if inflated is None else inflated


def _one_whole_member(data: bytes, max_size: int) -> bytes | None:
    """``data`` inflated when it is one whole gzip member within ``max_size``, else None."""
    inflater = isal_zlib.decompressobj(wbits=_GZIP_WBITS)
    pieces: list[bytes] = []
    size = 0
    pending = data
    try:
        while True:
            piece = inflater.decompress(pending, _CHUNK)
            size += len(piece)
            if max_size and size > max_size:
                return None  # Scrapy's gunzip raises its own error for this
            pieces.append(piece)
            pending = inflater.unconsumed_tail
            if inflater.eof or not pending:
                break
    except _INFLATE_ERROR:
        return None
    if not inflater.eof or inflater.unused_data:
        return None
    return b"".join(pieces)


class HttpCompressionMiddleware(ScrapyHttpCompressionMiddleware):
    """Scrapy's middleware (same settings, stats and limits), gzip through :func:`gunzip`."""

    @staticmethod
    def _decode(body: bytes, encoding: bytes, max_size: int) -> bytes:
        if encoding in {b"gzip", b"x-gzip"}:
            return gunzip(body, max_size=max_size)
        return ScrapyHttpCompressionMiddleware._decode(body, encoding, max_size)
