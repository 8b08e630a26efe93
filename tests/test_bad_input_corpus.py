"""The bad-input corpus: every bad input ends as a failure row with its reason, a document, or one
clear line with the documented exit code (0 ran, 2 unusable input and nothing written, 1 the archive
failed), never a traceback; an archive that was there before is unchanged (verify clean, the same
documents).

One crawl covers each group of inputs (local files, loopback HTTP responses, WARC/WACZ/ARC files):
each case then checks its own row. Command lines and environments are refused before anything is
written: each case runs its command against one shared archive and checks that not a byte changed.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.bad_input_corpus import (
    IMPORT_MAX_FILE_SIZE,
    LOCAL_MAX_FILE_SIZE,
    loopback_site,
    make_import_files,
    make_local_files,
)
from tests.cli import PROJECT_DIR, Result, archive_env, crawled_files_archive, scrapy
from tests.newsite import closed_port
from tests.test_exit_codes import one_error_line
from tests.test_exit_codes import snapshot as snapshot_with_lock

SEED_ARTICLES = sorted((PROJECT_DIR / "tests" / "data" / "articles").glob("*.txt"))[:3]


def snapshot(archive: Path) -> dict[str, str]:
    """Every file of the archive and its digest, but the lock file: a crawl refused after taking
    the lock wrote its pid there, which is no archive data."""
    files = snapshot_with_lock(archive)
    files.pop(".crawl.lock", None)
    return files


@dataclass(frozen=True)
class Outcome:
    """What the index holds for one input: its failure (stage, reason) or its document's title."""

    failure: tuple[str, str] | None
    title: str | None


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive with three documents in it: what every case must leave as it was."""
    return crawled_files_archive(tmp_path_factory.mktemp("corpus"), SEED_ARTICLES)


def seed_urls(archive: Path) -> set[str]:
    with sqlite3.connect(archive / "index.sqlite") as db:
        return {row[0] for row in db.execute("SELECT url FROM documents")}


def outcomes(archive: Path) -> dict[str, Outcome]:
    """Every failure row and every capture's document, by URI."""
    found: dict[str, Outcome] = {}
    with sqlite3.connect(archive / "index.sqlite") as db:
        for uri, stage, reason in db.execute("SELECT uri, stage, reason FROM failures"):
            found[uri] = Outcome((stage, reason), None)
        for uri, title in db.execute(
            "SELECT c.uri, d.title FROM captures c JOIN documents d ON d.id = c.document_id "
            "WHERE c.record_type IN ('resource', 'response', 'revisit')"
        ):
            found.setdefault(uri, Outcome(None, title))
    return found


def crawl_into_copy(seeded: Path, root: Path, *args: str) -> tuple[Result, Path]:
    """One crawl into a copy of the seeded archive; the seeded documents must survive it."""
    archive = root / "archive"
    shutil.copytree(seeded, archive)
    before = seed_urls(archive)
    result = scrapy("crawl", *args, env=archive_env(archive), timeout=400)
    assert result.code == 0, result.err[-3000:]
    assert "Traceback" not in result.err, result.err[-5000:]
    assert before <= seed_urls(archive)
    verify = scrapy("verify", env=archive_env(archive))
    assert verify.code == 0, verify.out[-3000:] + verify.err
    return result, archive


# ---------------------------------------------------------------------------------------------
# Local files: one `crawl files` over the whole corpus folder.

SJIS_TITLE = "横浜港の新しい連絡橋、来春に開通へ　総工費は約四百億円"
DRILLS_TITLE = (
    "South Korea and US begin Ulchi Freedom Shield drills as Pyongyang warns of nuclear war"
)
LIMIT = LOCAL_MAX_FILE_SIZE
LOCAL_CASES = [
    ("empty.txt", ("extract", "empty file"), None),
    ("blank-lines.txt", ("extract", "empty file"), None),
    ("random-bytes.txt", ("extract", "binary content: contains NUL bytes"), None),
    ("png-named-txt.txt", ("extract", "binary content: looks like PNG image"), None),
    ("pdf-named-html.html", ("extract", "binary content: looks like PDF"), None),
    ("gzip-named-txt.txt", ("extract", "binary content: looks like gzip data"), None),
    ("nul-bytes.txt", ("extract", "binary content: contains NUL bytes"), None),
    ("utf16-bom.txt", None, DRILLS_TITLE),
    ("cp1252.txt", None, DRILLS_TITLE),
    ("shift-jis.txt", None, SJIS_TITLE),
    ("japanese.txt", None, SJIS_TITLE),
    ("script-only.html", ("extract", "no article text found in HTML"), None),
    ("deep-nesting.html", ("extract", "no article text found in HTML"), None),
    (
        "one-long-line.txt",
        ("input", f"file too large: 1000000 bytes > limit {LIMIT} (ARCHIVE_MAX_FILE_SIZE)"),
        None,
    ),
    (
        "too-large.txt",
        ("input", f"file too large: 340000 bytes > limit {LIMIT} (ARCHIVE_MAX_FILE_SIZE)"),
        None,
    ),
    (
        "unsupported.docx",
        ("input", "unsupported file type '.docx' (reads .txt, .html, .htm, no extension)"),
        None,
    ),
    ("pipe.txt", ("input", "not a regular file"), None),
    ("broken-link.txt", ("input", "file not found (broken symlink?)"), None),
    ("loop-link.txt", ("input", "symlink loop: the link leads back to itself"), None),
    (
        "escape-link.txt",
        ("input", "symlink leaves the archive root {folder}: points to /etc/hostname"),
        None,
    ),
    ("caf%E9-latin1-name.txt", None, DRILLS_TITLE),
]


@pytest.fixture(scope="module")
def local_crawl(seeded: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("local_corpus")
    folder = root / "local"
    make_local_files(folder)
    _, archive = crawl_into_copy(
        seeded, root, "files", "-a", f"path={folder}", "-s", f"ARCHIVE_MAX_FILE_SIZE={LIMIT}"
    )
    return folder, archive


@pytest.mark.parametrize(("name", "failure", "title"), LOCAL_CASES, ids=[c[0] for c in LOCAL_CASES])
def test_local_file(
    local_crawl: tuple[Path, Path], name: str, failure: tuple[str, str] | None, title: str | None
) -> None:
    folder, archive = local_crawl
    uri = f"{folder.as_uri()}/{name}"
    expected = failure and (failure[0], failure[1].format(folder=folder))
    assert outcomes(archive).get(uri) == Outcome(expected, title)


# ---------------------------------------------------------------------------------------------
# Loopback HTTP: one `crawl urls` over a URL file naming every route (and two bad lines).

HTTP_CASES = [
    ("/ok.html", None, "Council approves bridge"),
    (
        "/loop/b",
        ("fetch", "redirect loop: {base}/loop/a -> {base}/loop/b -> {base}/loop/a"),
        None,
    ),
    ("/self", ("fetch", "redirect loop: {base}/self -> {base}/self"), None),
    (
        "/bad-ipv6-location",
        ("fetch", "redirect not followed: unusable Location: Invalid IPv6 URL"),
        None,
    ),
    ("/gzip-header-plain-body", ("fetch", "BadGzipFile: Not a gzipped file (b'<!')"), None),
    ("/short-body", ("fetch", "connection lost before the whole body arrived: "), None),
    (
        "/oversize",
        (
            "fetch",
            "too large: Expected to receive 300007 bytes which is larger than download max size "
            "(200000) in request <GET {base}/oversize>.",
        ),
        None,
    ),
    ("/lying-charset", None, "Caf\u00e9 cr\u00e8me in Sa\u00f4ne"),
    ("/pdf", ("extract", "binary content: looks like PDF"), None),
    ("/image", ("extract", "binary content: looks like PNG image"), None),
    ("/slow", ("fetch", "timed out"), None),
    ("/not-found", ("fetch", "HTTP 404"), None),
    ("/server-error", ("fetch", "HTTP 500"), None),
    ("/empty-200", ("extract", "empty file"), None),
]
# URL-list lines that are no usable URL: (line, URI of the failure row, reason with {file})
BAD_LINES = [
    ("http://[::1/broken", "http://[::1/broken", "{file}:2: not a valid URL (Invalid IPv6 URL): "
     "'http://[::1/broken'"),
    ("{base}/long/" + "a" * 100_000, "{base}/long/" + "a" * 100_000,
     "{file}:3: URL longer than 2083 characters ({length})"),
]  # fmt: skip


@pytest.fixture(scope="module")
def http_crawl(
    seeded: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path, Path]]:
    root = tmp_path_factory.mktemp("http_corpus")
    with loopback_site() as base:
        urls = root / "urls.txt"
        lines = [f"{base}/ok.html", BAD_LINES[0][0], BAD_LINES[1][0].format(base=base)]
        lines += [f"{base}{path}" for path, _, _ in HTTP_CASES if path != "/loop/b"]
        lines += [f"{base}/loop/a", f"{base}/json"]
        urls.write_text("\n".join(lines) + "\n", encoding="utf-8")
        _, archive = crawl_into_copy(
            seeded, root, "urls", "-a", f"urls={urls}",
            "-s", "DOWNLOAD_TIMEOUT=2", "-s", "DOWNLOAD_MAXSIZE=200000", "-s", "RETRY_ENABLED=0",
        )  # fmt: skip
        yield base, urls, archive


@pytest.mark.parametrize(("path", "failure", "title"), HTTP_CASES, ids=[c[0] for c in HTTP_CASES])
def test_http_response(
    http_crawl: tuple[str, Path, Path],
    path: str,
    failure: tuple[str, str] | None,
    title: str | None,
) -> None:
    base, _, archive = http_crawl
    expected = failure and (failure[0], failure[1].format(base=base))
    assert outcomes(archive).get(f"{base}{path}") == Outcome(expected, title)


@pytest.mark.parametrize(("line", "uri", "reason"), BAD_LINES, ids=["bad-ipv6", "100k-url"])
def test_bad_url_list_line_is_a_row_and_the_list_goes_on(
    http_crawl: tuple[str, Path, Path], line: str, uri: str, reason: str
) -> None:
    base, urls, archive = http_crawl
    found = outcomes(archive)
    uri = uri.format(base=base)
    expected = Outcome(("input", reason.format(file=urls, length=len(uri))), None)
    assert found.get(uri) == expected
    assert f"{base}/json" in found  # the line after them was fetched


def test_json_response_is_captured_as_data_not_indexed_as_text(
    http_crawl: tuple[str, Path, Path],
) -> None:
    base, _, archive = http_crawl
    failure = ("extract", "not article text: application/json content")
    assert outcomes(archive).get(f"{base}/json") == Outcome(failure, None)


def test_site_with_same_host_does_not_follow_a_redirect_elsewhere(
    seeded: Path, tmp_path: Path
) -> None:
    with loopback_site() as base:
        _, archive = crawl_into_copy(
            seeded, tmp_path, "site", "-a", f"url={base}/site/", "-a", "max_depth=1"
        )
    found = outcomes(archive)
    port = base.rsplit(":", 1)[1]
    assert found[f"{base}/offhost"] == Outcome(
        ("fetch", f"redirect to another host not followed (same_host=true): "
         f"http://localhost:{port}/ok.html"), None)  # fmt: skip
    assert f"http://localhost:{port}/ok.html" not in found


# ---------------------------------------------------------------------------------------------
# WARC, WACZ and ARC imports: one `crawl warc` over a folder of them.

IMPORT_CASES = [
    ("good.warc.gz", ["http://example.org/1.html", "http://example.org/3.html"], None),
    ("truncated.warc.gz", ["http://example.org/4.html"], "offset 941: truncated gzip member"),
    (
        "corrupt-middle.warc.gz",
        ["http://example.org/10.html"],
        "offset 475: corrupt gzip member: Error -3 while decompressing data: incorrect data check",
    ),
    ("empty.warc.gz", [], "offset 0: empty file: no records"),
    (
        "mislabelled-text.warc.gz",
        [],
        "offset 0: not a WARC record here (truncated or corrupt file)",
    ),
    ("plain-named-gz.warc.gz", ["http://example.org/plain.html"], None),
    (
        "not-a-zip.wacz",
        [],
        "{folder}/not-a-zip.wacz: not a readable WACZ (zip) file: File is not a zip file",
    ),
    ("empty.wacz", [], "{folder}/empty.wacz: no WARC files in its archive/ folder"),
    (
        "truncated.wacz",
        [],
        "{folder}/truncated.wacz: not a readable WACZ (zip) file: File is not a zip file",
    ),
    ("good.wacz", ["http://example.org/60.html", "http://example.org/61.html"], None),
    ("old.arc", ["http://example.org/arc.html"], None),
]


@pytest.fixture(scope="module")
def import_crawl(seeded: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("import_corpus")
    folder = root / "imports"
    make_import_files(folder)
    _, archive = crawl_into_copy(
        seeded, root, "warc", "-a", f"path={folder}",
        "-s", f"ARCHIVE_MAX_FILE_SIZE={IMPORT_MAX_FILE_SIZE}",
    )  # fmt: skip
    return folder, archive


@pytest.mark.parametrize(
    ("name", "documents", "failure"), IMPORT_CASES, ids=[c[0] for c in IMPORT_CASES]
)
def test_import_file(
    import_crawl: tuple[Path, Path], name: str, documents: list[str], failure: str | None
) -> None:
    folder, archive = import_crawl
    found = outcomes(archive)
    for url in documents:  # the complete records before a problem are imported
        assert found[url].failure is None and found[url].title is not None, url
    row = found.get(str(folder / name))
    assert (row.failure if row else None) == (failure and ("input", failure.format(folder=folder)))


def test_import_record_with_empty_target_uri_is_a_row(import_crawl: tuple[Path, Path]) -> None:
    _, archive = import_crawl
    found = outcomes(archive)
    assert found["urn:uuid:00000000-0000-4000-8000-000000000030"] == Outcome(
        ("input", "empty WARC-Target-URI (response record at offset 0)"), None
    )
    assert found["http://example.org/31.html"].title == "Story 31"  # the record after it


def test_import_gzip_bomb_record_is_a_row_and_the_rest_imports(
    import_crawl: tuple[Path, Path],
) -> None:
    _, archive = import_crawl
    found = outcomes(archive)
    assert found["http://example.org/bomb.html"] == Outcome(
        ("input", f"record too large: payload over {IMPORT_MAX_FILE_SIZE} bytes "
         "(ARCHIVE_MAX_FILE_SIZE), not read"), None)  # fmt: skip
    assert found["http://example.org/40.html"].title == "Story 40"


# ---------------------------------------------------------------------------------------------
# Command lines: refused with one line, the archive unchanged to the byte.


def _expand(args: list[str], tmp: Path, archive: Path) -> list[str]:
    return [a.format(tmp=tmp, archive=archive) for a in args]


COMMAND_CASES = [
    (["show", "99999999999999999999"],
     "a number in the command is out of range (IDs are at most 2^63-1)"),
    (["show", "-1"], "no document with ID, URL or path '-1'"),
    (["show", "http://nowhere.example/"], "no document with ID, URL or path 'http://nowhere.example/'"),
    (["search", "bank", "--since", "2024-13-45"],
     "--since: not a date: '2024-13-45' (use YYYY-MM-DD)"),
    (["search", "bank", "--until", "yesterday"],
     "--until: not a date: 'yesterday' (use YYYY-MM-DD)"),
    (["search"], "empty search query: give one or more words"),
    (["search", "--", "-bank"],
     "nothing to search for: every term is excluded; add a word to find"),
    (["stories", "99999999999999999999"],
     "expected one story ID (a whole number), got '99999999999999999999'"),
    (["dupes", "abc"], "expected one document ID (a whole number), got 'abc'"),
    (["export", "-o", "/dev/full", "--format", "jsonl"],
     "/dev/full is a device: export writes only to a regular file"),
    (["export", "-o", "{archive}/index.sqlite", "--format", "csv"],
     "{archive}/index.sqlite is an archive or database file: it is never replaced"),
    (["export", "-o", "{tmp}", "--format", "csv"],
     "{tmp} is a folder: export writes only to a regular file"),
    (["export", "-o", "{tmp}/no/such/out.jsonl"], "no such folder: {tmp}/no/such"),
    (["crawl", "warc", "-a", "path={tmp}/missing.warc.gz"],
     "path: no such file or folder: {tmp}/missing.warc.gz"),
    (["crawl", "warc"], "path: no input: give -a path=FILE_OR_FOLDER"),
    (["crawl", "warc", "-a", "path={tmp}/empty.warc.gz"],
     "path: {tmp}/empty.warc.gz is empty: no records to import"),
    (["crawl", "warc", "-a", "path={tmp}/notes.txt"],
     "path: {tmp}/notes.txt is not a .warc, .warc.gz, .arc, .arc.gz or .wacz file"),
    (["crawl", "urls", "-a", "url=http://example.org/" + "a" * 100_000],
     "url: URL longer than 2083 characters (100019)"),
    (["crawl", "urls", "-a", "url=http://[::1/broken"],
     "url: not a valid URL (Invalid IPv6 URL): 'http://[::1/broken'"),
]  # fmt: skip


@pytest.fixture
def archive(seeded: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "archive"
    shutil.copytree(seeded, copy)
    (tmp_path / "empty.warc.gz").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not an archive\n", encoding="utf-8")
    return copy


@pytest.mark.parametrize(
    ("args", "message"), COMMAND_CASES, ids=[" ".join(c[0])[:40] for c in COMMAND_CASES]
)
def test_command_line(archive: Path, tmp_path: Path, args: list[str], message: str | None) -> None:
    before = snapshot(archive)
    result = scrapy(*_expand(args, tmp_path, archive), env=archive_env(archive))
    line = one_error_line(result, 2)
    if message is not None:
        assert line == message.format(tmp=tmp_path, archive=archive)
    assert snapshot(archive) == before


def test_unknown_command_exits_2(archive: Path) -> None:
    result = scrapy("frobnicate", env=archive_env(archive))
    assert result.code == 2
    assert "Unknown command: frobnicate" in result.out.splitlines()


# ---------------------------------------------------------------------------------------------
# Environments: the archive or its database unusable. A crawl exits 1, a query 2, one line each.


def _garbage(tmp: Path) -> str:
    (tmp / "garbage.sqlite").write_bytes(bytes((i * 31) % 256 for i in range(8192)))
    return f"sqlite:///{tmp}/garbage.sqlite"


def _truncated(tmp: Path, archive: Path) -> str:
    (tmp / "cut.sqlite").write_bytes((archive / "index.sqlite").read_bytes()[:20_000])
    return f"sqlite:///{tmp}/cut.sqlite"


def _text_file(tmp: Path) -> str:
    (tmp / "notes.txt").write_text("not a database\n", encoding="utf-8")
    return f"sqlite:///{tmp}/notes.txt"


def _foreign(tmp: Path) -> str:
    with sqlite3.connect(tmp / "recipes.db") as db:
        db.execute("CREATE TABLE recipes (name TEXT)")
        db.execute("INSERT INTO recipes VALUES ('soup')")
    return f"sqlite:///{tmp}/recipes.db"


ENVIRONMENTS = {
    "text-file-db": (
        lambda t, a: _text_file(t),
        "database file is corrupt: {tmp}/notes.txt",
        "database file is corrupt: {tmp}/notes.txt",
    ),
    "other-application-db": (
        lambda t, a: _foreign(t),
        "not a newsvault database: {tmp}/recipes.db holds other tables (recipes); nothing written",
        "not a newsvault database (no schema): run a crawl first",
    ),
    "garbage-index": (
        lambda t, a: _garbage(t),
        "database file is corrupt: {tmp}/garbage.sqlite",
        "database file is corrupt: {tmp}/garbage.sqlite",
    ),
    "truncated-index": (
        _truncated,
        "database file is corrupt: {tmp}/cut.sqlite",
        "database file is corrupt: {tmp}/cut.sqlite",
    ),
}


@pytest.mark.parametrize("name", list(ENVIRONMENTS))
def test_unusable_database(archive: Path, tmp_path: Path, name: str) -> None:
    make, crawl_line, query_line = ENVIRONMENTS[name]
    url = make(tmp_path, archive)
    database = Path(url.removeprefix("sqlite:///"))
    kept = database.read_bytes() if database.is_file() else None
    before = snapshot(archive)
    env = archive_env(archive, url)
    crawl = scrapy("crawl", "files", "-a", f"path={SEED_ARTICLES[0]}", env=env)
    assert one_error_line(crawl, 1) == crawl_line.format(tmp=tmp_path)
    query = scrapy("search", "bank", env=env)
    assert one_error_line(query, 2) == query_line.format(tmp=tmp_path)
    assert snapshot(archive) == before
    if kept is not None:
        assert database.read_bytes() == kept  # another file is never written to


def test_unsupported_database_url_is_an_unusable_setting(archive: Path) -> None:
    """Not a database failing under the archive (exit 1) but a setting that cannot work: 2."""
    before = snapshot(archive)
    env = archive_env(archive, "mysql://news@127.0.0.1/news")
    line = "ARCHIVE_DB_URL: unsupported database 'mysql': use sqlite:/// or postgresql://"
    crawl = scrapy("crawl", "files", "-a", f"path={SEED_ARTICLES[0]}", env=env)
    assert one_error_line(crawl, 2) == line
    assert one_error_line(scrapy("search", "bank", env=env), 2) == line
    assert snapshot(archive) == before


def test_unreachable_postgresql(archive: Path) -> None:
    url = f"postgresql://postgres@127.0.0.1:{closed_port()}/newsvault"
    env = archive_env(archive, url)
    crawl = scrapy("crawl", "files", "-a", f"path={SEED_ARTICLES[0]}", env=env)
    assert one_error_line(crawl, 1).startswith("cannot migrate database postgresql+psycopg://")
    query = scrapy("stats", env=env)
    assert one_error_line(query, 2).startswith("cannot connect to database postgresql+psycopg://")


def test_archive_dir_is_a_file(tmp_path: Path) -> None:
    afile = tmp_path / "archive"
    afile.write_text("a file where the archive should be\n", encoding="utf-8")
    crawl = scrapy("crawl", "files", "-a", f"path={SEED_ARTICLES[0]}", env=archive_env(afile))
    assert one_error_line(crawl, 1) == f"the archive folder {afile} is a file, not a folder"
    query = scrapy("stats", env=archive_env(afile))
    assert one_error_line(query, 2) == f"database not found: {afile}/index.sqlite"
    assert afile.read_text("utf-8") == "a file where the archive should be\n"


def test_the_seeded_archive_holds_its_three_documents(seeded: Path, archive: Path) -> None:
    """What every case above compares against: three documents, verify clean."""
    expected = {(seeded.parent / "articles" / path.name).as_uri() for path in SEED_ARTICLES}
    assert seed_urls(archive) == expected
    verify = scrapy("verify", env=archive_env(archive))
    assert verify.code == 0, verify.out + verify.err


def test_warc_folder_is_a_file(archive: Path) -> None:
    """Every item would fail to write its WARC records: refused at start instead (it once ran
    on with a failure row per input and exit 0)."""
    shutil.rmtree(archive / "warc")
    (archive / "warc").write_text("not a folder\n", encoding="utf-8")
    before = snapshot(archive)
    crawl = scrapy("crawl", "files", "-a", f"path={SEED_ARTICLES[0]}", env=archive_env(archive))
    assert one_error_line(crawl, 1) == f"the archive folder {archive}/warc is a file, not a folder"
    assert snapshot(archive) == before
