"""Undoing HTTP Content-Encoding (gzip, deflate, br, zstd) of stored payloads.

warcio's own decoders expect the retired brotlipy API (``Decompressor.unused_data``) and know no
zstd, so payloads are decoded here with the packages Scrapy itself installs: Google's ``brotli``
(``brotli.decompress``) and ``backports.zstd`` (the standard library's ``compression.zstd`` from
Python 3.14 on). Several codings (``Content-Encoding: gzip, br``) are undone last first.

warcio's table of decoders is also given working br and zstd entries (``install_in_warcio``, run
on import, and in every other Python process of the environment by pipeline.warc.warcio_hook):
warcio, cdxj-indexer and ``wacz validate`` would otherwise fail on the first brotli response.
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import Callable

import brotli

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

# Far above any capture; stops a hostile body from inflating until memory runs out.
MAX_DECODED_BYTES = 1 << 30


class ContentDecodingError(ValueError):
    """A payload cannot be decoded with the coding its headers name."""


def _inflate(data: bytes, wbits: int) -> bytes:
    inflater = zlib.decompressobj(wbits)
    out = [inflater.decompress(data, MAX_DECODED_BYTES)]
    # gzip bodies may hold several members (concatenated gzip is still gzip).
    while inflater.eof and inflater.unused_data.strip(b"\0"):
        rest = inflater.unused_data
        inflater = zlib.decompressobj(wbits)
        out.append(inflater.decompress(rest, MAX_DECODED_BYTES))
    if not inflater.eof:
        raise zlib.error("the compressed data ends early (truncated or corrupt)")
    return b"".join(out)


def _gzip(data: bytes) -> bytes:
    return _inflate(data, 16 + zlib.MAX_WBITS)


def _deflate(data: bytes) -> bytes:
    # "deflate" is meant to be zlib-wrapped; many servers send raw deflate, some nothing at all.
    try:
        return _inflate(data, zlib.MAX_WBITS)
    except zlib.error:
        pass
    try:
        return _inflate(data, -zlib.MAX_WBITS)
    except zlib.error:
        return data


def _brotli(data: bytes) -> bytes:
    return bytes(brotli.decompress(data))


def _zstd(data: bytes) -> bytes:
    return bytes(zstd.decompress(data))  # every frame, as RFC 8878 asks


DECODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": _gzip,
    "x-gzip": _gzip,
    "deflate": _deflate,
    "br": _brotli,
    "zstd": _zstd,
}


# Codings whose data starts with a signature: a body without it was not encoded so.
MAGIC = {"gzip": b"\x1f\x8b", "x-gzip": b"\x1f\x8b", "zstd": b"\x28\xb5\x2f\xfd"}


def content_codings(value: str | None) -> list[str]:
    """The codings of a Content-Encoding value, in the order they were applied."""
    codings = [part.strip().lower() for part in (value or "").split(",")]
    return [coding for coding in codings if coding and coding != "identity"]


def decode_content(value: str | None, data: bytes) -> bytes:
    """``data`` with the codings of Content-Encoding ``value`` undone.

    An unknown coding leaves the bytes as they are (there is nothing better to extract from);
    a known coding that fails raises ContentDecodingError.
    """
    codings = content_codings(value)
    if not codings or any(coding not in DECODERS for coding in codings):
        return data
    for coding in reversed(codings):
        magic = MAGIC.get(coding)
        if magic is not None and not data.startswith(magic):
            # Servers label plain bodies gzip (or zstd) too; browsers and warcio read them as
            # they are, and so does this.
            continue
        try:
            data = DECODERS[coding](data)
        except Exception as error:  # zlib.error, brotli.error, zstd.ZstdError alike
            raise ContentDecodingError(f"cannot undo Content-Encoding {coding}: {error}") from None
    return data


class _BrotliStream:
    """Google's incremental decoder with the face warcio expects (brotlipy's)."""

    def __init__(self) -> None:
        self._decoder = brotli.Decompressor()
        self.unused_data = b""

    def decompress(self, data: bytes) -> bytes:
        return bytes(self._decoder.process(data))

    def flush(self) -> bytes:
        return b""


class _ZstdStream:
    """zstd frames one after another, with the face warcio expects."""

    def __init__(self) -> None:
        self._decoder = zstd.ZstdDecompressor()
        self.unused_data = b""

    def decompress(self, data: bytes) -> bytes:
        out = []
        while data:
            out.append(self._decoder.decompress(data))
            if not self._decoder.eof:
                break
            data = self._decoder.unused_data
            self._decoder = zstd.ZstdDecompressor()
        return b"".join(out)

    def flush(self) -> bytes:
        return b""


def install_in_warcio() -> None:
    from warcio.bufferedreaders import BufferedReader

    BufferedReader.DECOMPRESSORS["br"] = _BrotliStream
    BufferedReader.DECOMPRESSORS["zstd"] = _ZstdStream


install_in_warcio()
