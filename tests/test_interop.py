"""Our WARCs and WACZs in the standard tools: warcio check, cdxj-indexer, wacz validate, pywb.

pywb cannot share newsvault's virtualenv (it pins cryptography < 48 and pulls brotlipy, whose
``brotli`` module would replace the one Scrapy decodes ``br`` with), so it is looked for in
``$PYWB_WAYBACK``, on PATH, or next to this Python; without it that one test is skipped.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.warc.wacz import REPLAY_RECORDS, WaczError, WaczPage, write_wacz
from tests.cli import archive_env, scrapy
from tests.newsite import (
    CHUNKED_PATH,
    DUPLICATE_PATH,
    GZIP_PATH,
    QUERY_PATH,
    NewsSite,
    closed_port,
    crawl,
    module_news_site,
    warc_records,
)

__all__ = ["module_news_site"]  # fixture, imported for pytest
BIN = Path(sys.executable).parent
HARBOUR = "/news/2024/05/harbour-bridge.html"


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=120, cwd=cwd, check=False
    )


@pytest.fixture(scope="module")
def crawled(module_news_site: NewsSite, tmp_path_factory: pytest.TempPathFactory) -> Path:
    archive = tmp_path_factory.mktemp("interop")
    crawl("site", archive, "-a", f"url={module_news_site.url('/')}")
    return archive


def warcs(archive: Path) -> list[Path]:
    found = sorted((archive / "warc").glob("*.warc.gz"))
    assert found
    return found


def test_warcio_check_passes_on_every_warc(crawled: Path) -> None:
    for path in warcs(crawled):
        result = run(BIN / "warcio", "check", "-v", path)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "digest pass" in result.stdout


def test_cdxj_indexer_indexes_pages_queries_and_revisits(
    crawled: Path, module_news_site: NewsSite
) -> None:
    result = run(BIN / "cdxj-indexer", "--records", REPLAY_RECORDS, *warcs(crawled))
    assert result.returncode == 0, result.stderr
    entries = [json.loads(line.split(" ", 2)[2]) for line in result.stdout.splitlines()]
    urls = {entry["url"] for entry in entries}
    assert module_news_site.url(QUERY_PATH) in urls
    assert {module_news_site.url(HARBOUR), module_news_site.url(DUPLICATE_PATH)} <= urls
    assert [e for e in entries if e.get("mime") == "warc/revisit"]
    responses = [r for r in warc_records(crawled) if r.rec_type in ("response", "revisit")]
    assert len(entries) == len(responses)


def page_list(archive: Path, site: NewsSite) -> list[WaczPage]:
    return [
        WaczPage(r.uri, datetime.fromisoformat(r.headers["WARC-Date"]), "Harbour", "The bridge.")
        for r in warc_records(archive)
        if r.rec_type == "response" and r.uri == site.url(HARBOUR)
    ] or [WaczPage(site.url(DUPLICATE_PATH), datetime.now(UTC), "Harbour", "The bridge.")]


def test_write_wacz_passes_wacz_validate(
    crawled: Path, module_news_site: NewsSite, tmp_path: Path
) -> None:
    output = tmp_path / "site.wacz"
    result = write_wacz(output, warcs(crawled), page_list(crawled, module_news_site), title="t")
    assert result.pages == 1 and result.warc_files == len(warcs(crawled))
    check = run(BIN / "wacz", "validate", "-f", output)
    assert check.returncode == 0 and "is valid" in check.stdout, check.stdout + check.stderr
    with zipfile.ZipFile(output) as wacz:
        names = set(wacz.namelist())
        header, page = [json.loads(x) for x in wacz.read("pages/pages.jsonl").splitlines()]
        package = json.loads(wacz.read("datapackage.json"))
        for warc in warcs(crawled):
            info = wacz.getinfo(f"archive/{warc.name}")
            assert info.compress_type == zipfile.ZIP_STORED  # replay tools seek into it
    assert {"indexes/index.cdxj", "datapackage-digest.json"} <= names
    assert header["format"] == "json-pages-1.0" and header["hasText"] is True
    assert page["title"] == "Harbour" and page["text"] == "The bridge."
    assert package["wacz_version"] == "1.1.1"


def test_write_wacz_refuses_bad_inputs(crawled: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.wacz"
    with pytest.raises(WaczError, match="no WARC files"):
        write_wacz(out, [], [])
    with pytest.raises(WaczError, match="WARC file not found"):
        write_wacz(out, [tmp_path / "missing.warc.gz"], [])
    copy = tmp_path / "other"
    copy.mkdir()
    twin = shutil.copy(warcs(crawled)[0], copy)
    with pytest.raises(WaczError, match="two WARC files named"):
        write_wacz(out, [warcs(crawled)[0], twin], [])
    with pytest.raises(WaczError, match="timezone-aware"):
        write_wacz(out, warcs(crawled), [WaczPage("http://x/", datetime(2024, 1, 1))])
    assert not out.exists()


def test_scrapy_export_wacz_is_valid(crawled: Path, tmp_path: Path) -> None:
    output = tmp_path / "export.wacz"
    result = scrapy("export", "--wacz", "-o", str(output), env=archive_env(crawled))
    assert result.code == 0, result.err[-2000:]
    check = run(BIN / "wacz", "validate", "-f", output)
    assert check.returncode == 0 and "is valid" in check.stdout, check.stdout + check.stderr
    with zipfile.ZipFile(output) as wacz:
        pages = [json.loads(x) for x in wacz.read("pages/pages.jsonl").splitlines()[1:]]
    assert pages and all(page.get("title") and page.get("text") for page in pages)


# -- pywb --------------------------------------------------------------------------------------


def find_wayback() -> str | None:
    candidates = [
        os.environ.get("PYWB_WAYBACK", ""),
        shutil.which("wayback") or "",
        str(BIN / "wayback"),
    ]
    return next((c for c in candidates if c and Path(c).is_file()), None)


@pytest.fixture
def wayback(crawled: Path, tmp_path: Path) -> Iterator[str]:
    """A pywb on a loopback port replaying the crawl as collection ``nv``; yields its base URL."""
    program = find_wayback()
    if program is None:
        pytest.skip(
            "pywb not installed: set PYWB_WAYBACK to a pywb `wayback` (see module docstring)"
        )
    collection = tmp_path / "collections" / "nv"
    (collection / "archive").mkdir(parents=True)
    (collection / "indexes").mkdir()
    for path in warcs(crawled):
        shutil.copy(path, collection / "archive")
    index = run(BIN / "cdxj-indexer", "--sort", "--records", REPLAY_RECORDS, *warcs(crawled))
    (collection / "indexes" / "index.cdxj").write_text(index.stdout)
    port = closed_port()
    server = subprocess.Popen(
        [program, "-p", str(port), "-b", "127.0.0.1"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        else:
            pytest.fail("pywb did not start listening within 30 s")
        yield f"http://127.0.0.1:{port}/nv"
    finally:
        server.terminate()
        server.wait(timeout=10)


def replay(wayback: str, url: str) -> bytes:
    with urllib.request.urlopen(f"{wayback}/2100id_/{url}", timeout=30) as response:
        return response.read()


def test_pywb_replays_original_bytes_and_revisits(
    wayback: str, crawled: Path, module_news_site: NewsSite
) -> None:
    site = module_news_site
    original = site.routes[HARBOUR].body
    assert replay(wayback, site.url(HARBOUR)) == original
    assert replay(wayback, site.url(DUPLICATE_PATH)) == original  # one of the two is a revisit
    revisits = [r.uri for r in warc_records(crawled) if r.rec_type == "revisit"]
    assert set(revisits) & {site.url(HARBOUR), site.url(DUPLICATE_PATH)}
    # pywb serves gzip-encoded captures decoded; the bytes are the server's once inflated.
    assert replay(wayback, site.url(GZIP_PATH)) == gzip.decompress(site.routes[GZIP_PATH].body)
    assert replay(wayback, site.url(QUERY_PATH)) == site.routes[QUERY_PATH].body
    # Sent chunked, stored de-chunked with the Transfer-Encoding line renamed: served whole.
    assert replay(wayback, site.url(CHUNKED_PATH)) == site.routes[CHUNKED_PATH].body
