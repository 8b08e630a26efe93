"""gzip response bodies inflated by ISA-L in the crawl: byte for byte what Scrapy's gunzip gives."""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import pytest
from scrapy.utils._compression import _DecompressionMaxSizeExceeded
from scrapy.utils.gz import gunzip as scrapy_gunzip

from pipeline.crawl import compression
from pipeline.crawl.compression import gunzip
from tests.newsite import GZIP_PATH, NewsSite, crawl, db_rows, news_site

__all__ = ["news_site"]  # fixture, imported for pytest

PAGE = b"".join(
    b"<p>Paragraph %d: the council met on Tuesday about the harbour bridge.</p>\n" % i
    for i in range(4000)
)  # 290 kB: several of the 64 kB steps Scrapy inflates at a time


def _with_name(data: bytes) -> bytes:
    """A gzip member with a file name and a comment in its header (FNAME, FCOMMENT)."""
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    deflated = packer.compress(data) + packer.flush()
    header = b"\x1f\x8b\x08\x18" + struct.pack("<I", 0) + b"\x00\xff" + b"page.html\x00note\x00"
    trailer = struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)
    return header + deflated + trailer


def _bad_crc(data: bytes) -> bytes:
    member = bytearray(gzip.compress(data, mtime=0))
    member[-8] ^= 0xFF
    return bytes(member)


CASES = {
    "one member": gzip.compress(PAGE, mtime=0),
    "empty body": gzip.compress(b"", mtime=0),
    "name and comment in the header": _with_name(PAGE),
    "two members": gzip.compress(PAGE[:1000], mtime=0) + gzip.compress(PAGE[1000:], mtime=0),
    "zero padding after the member": gzip.compress(PAGE, mtime=0) + b"\x00" * 16,
    "garbage after the member": gzip.compress(PAGE, mtime=0) + b"<html>trailing</html>",
    "torn in the middle": gzip.compress(PAGE, mtime=0)[:5000],
    "torn trailer": gzip.compress(PAGE, mtime=0)[:-3],
    "wrong CRC": _bad_crc(PAGE),
    "not gzip at all": PAGE[:3000],
    "corrupt deflate data": gzip.compress(PAGE, mtime=0)[:200] + b"\xff" * 300,
}


def _outcome(function: object, data: bytes, max_size: int) -> tuple[str, object]:
    try:
        return ("bytes", function(data, max_size=max_size))  # type: ignore[operator]
    except Exception as error:  # the comparison is the point
        return (type(error).__name__, str(error))


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("max_size", [0, 100_000, len(PAGE), len(PAGE) - 1])
def test_same_bytes_or_error_as_scrapy(name: str, max_size: int) -> None:
    data = CASES[name]
    expected = _outcome(scrapy_gunzip, data, max_size)
    assert _outcome(gunzip, data, max_size) == expected


def test_the_fast_path_answers_a_plain_member(monkeypatch: pytest.MonkeyPatch) -> None:
    """A whole member under the limit never reaches Scrapy's slower gunzip."""

    def refuse(data: bytes, *, max_size: int = 0) -> bytes:
        raise AssertionError("fell back to Scrapy's gunzip")

    monkeypatch.setattr(compression, "scrapy_gunzip", refuse)
    assert gunzip(CASES["one member"]) == PAGE
    assert gunzip(CASES["name and comment in the header"], max_size=len(PAGE)) == PAGE


def test_over_the_limit_raises_scrapys_error() -> None:
    with pytest.raises(_DecompressionMaxSizeExceeded):
        gunzip(CASES["one member"], max_size=100_000)


def test_a_crawl_inflates_gzip_with_the_projects_middleware(
    news_site: NewsSite, tmp_path: Path
) -> None:
    urls = tmp_path / "urls.txt"
    urls.write_text(news_site.url(GZIP_PATH) + "\n", encoding="utf-8")
    result = crawl("urls", tmp_path / "archive", "-a", f"urls={urls}", "-L", "INFO")
    enabled = result.err.split("Enabled downloader middlewares:", 1)[1].split("]", 1)[0]
    assert "'pipeline.crawl.compression.HttpCompressionMiddleware'" in enabled
    assert "'scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware'" not in enabled
    rows = db_rows(tmp_path / "archive", "SELECT title, text FROM documents")
    assert len(rows) == 1
    title, text = rows[0]
    plain = gzip.decompress(news_site.routes[GZIP_PATH].body).decode()
    assert f"<title>{title}" in plain
    first_paragraph = text.splitlines()[0]
    assert f"<p>{first_paragraph}</p>" in plain
