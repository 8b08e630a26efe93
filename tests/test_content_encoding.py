"""Content-Encoding of stored payloads undone: gzip, deflate, br, zstd, stacked, chunked."""

from __future__ import annotations

import gzip
import io
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import brotli
import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import BufferedReader

from pipeline.warc.content_encoding import ContentDecodingError, decode_content, zstd
from pipeline.warc.reading import decoded_http_payload
from tests.cli import archive_env, scrapy
from tests.newsite import NewsSite, Page, article_html, crawl, db_rows, module_news_site

__all__ = ["module_news_site"]  # fixture, imported for pytest

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


# -- the standard tools, run as programs, on a crawl of br and zstd pages ------------------------

BIN = Path(sys.executable).parent
BR_PAGE = article_html("Bridge repaired", "bridge", "Porto").encode()
ZSTD_PAGE = article_html("Tram line opens", "tram", "Lyon").encode()


def run(*args: str | Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(a) for a in args], capture_output=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def br_zstd_wacz(module_news_site: NewsSite, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The WACZ export of a crawl of a brotli page and a zstd page."""
    module_news_site.routes = {
        "/br": Page(body=brotli.compress(BR_PAGE), headers=[("Content-Encoding", "br")]),
        "/zstd": Page(body=zstd.compress(ZSTD_PAGE), headers=[("Content-Encoding", "zstd")]),
    }
    folder = tmp_path_factory.mktemp("br-zstd")
    urls = folder / "urls.txt"
    urls.write_text(f"{module_news_site.url('/br')}\n{module_news_site.url('/zstd')}\n")
    crawl("urls", folder / "archive", "-a", f"urls={urls}")
    titles = {t for (t,) in db_rows(folder / "archive", "select title from documents")}
    assert titles == {"Bridge repaired", "Tram line opens"}
    output = folder / "export.wacz"
    result = scrapy("export", "--wacz", "-o", str(output), env=archive_env(folder / "archive"))
    assert result.code == 0, result.err[-2000:]
    return output


def wacz_warcs(wacz: Path, into: Path) -> list[Path]:
    with zipfile.ZipFile(wacz) as package:
        names = [n for n in package.namelist() if n.startswith("archive/")]
        package.extractall(into, names)
    assert names
    return [into / name for name in names]


def test_wacz_validate_accepts_the_export(br_zstd_wacz: Path) -> None:
    check = run(BIN / "wacz", "validate", "-f", br_zstd_wacz)
    output = (check.stdout + check.stderr).decode()
    assert check.returncode == 0 and "is valid" in output, output


def test_warcio_check_passes_on_the_exported_warcs(br_zstd_wacz: Path, tmp_path: Path) -> None:
    for warc in wacz_warcs(br_zstd_wacz, tmp_path):
        check = run(BIN / "warcio", "check", "-v", warc)
        output = (check.stdout + check.stderr).decode()
        assert check.returncode == 0 and "Traceback" not in output, output
        assert "digest failed" not in output and "digest pass" in output, output


def test_warcio_extract_decodes_br_and_zstd(br_zstd_wacz: Path, tmp_path: Path) -> None:
    """A separate warcio process decodes both codings (the decoders of content_encoding)."""
    found = {}
    for warc in wacz_warcs(br_zstd_wacz, tmp_path):
        with warc.open("rb") as fh:
            iterator = ArchiveIterator(fh)
            for record in iterator:
                if record.rec_type == "response":
                    uri = record.rec_headers.get_header("WARC-Target-URI")
                    found[uri.rsplit("/", 1)[1]] = (warc, iterator.get_record_offset())
    for name, page in (("br", BR_PAGE), ("zstd", ZSTD_PAGE)):
        warc, offset = found[name]
        extract = run(BIN / "warcio", "extract", "--payload", warc, str(offset))
        assert extract.returncode == 0, extract.stderr.decode()
        assert extract.stdout == page
