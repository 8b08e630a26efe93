"""Exit codes, one rule (README, "Exit codes"): 0 the crawl ran, 2 its arguments or inputs are
unusable and nothing was written, 1 the archive or database failed. One line on stderr for 1 and 2.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from tests.cli import PROJECT_DIR, Result, archive_env, crawled_files_archive, scrapy
from tests.newsite import closed_port

ARTICLES = sorted((PROJECT_DIR / "tests" / "data" / "articles").glob("*.txt"))[:3]


def snapshot(archive: Path) -> dict[str, str]:
    """Every file of the archive and a digest of its bytes."""
    return {
        str(path.relative_to(archive)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(archive.rglob("*"))
        if path.is_file()
    }


def exported_urls(archive: Path, env: dict[str, str], out: Path) -> list[str]:
    result = scrapy("export", "-o", str(out), env=env)
    assert result.code == 0, result.err
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    out.unlink()
    return sorted(str(row["url"]) for row in rows)


def one_error_line(result: Result, code: int) -> str:
    assert result.code == code, (result.code, result.out[-2000:], result.err[-3000:])
    assert "Traceback" not in result.err
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("newsvault: error: "), lines[0]
    return lines[0].removeprefix("newsvault: error: ")


@pytest.fixture(scope="module")
def archived(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive with a crawl of three local articles in it."""
    root = tmp_path_factory.mktemp("exit_codes")
    return crawled_files_archive(root, ARTICLES)


@pytest.fixture
def archive(archived: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "archive"
    shutil.copytree(archived, copy)
    return copy


def test_a_good_crawl_exits_0_and_verifies(archive: Path, tmp_path: Path) -> None:
    env = archive_env(archive)
    assert len(exported_urls(archive, env, tmp_path / "out.jsonl")) == len(ARTICLES)
    verify = scrapy("verify", env=env)
    assert verify.code == 0, verify.out + verify.err


def empty_url_file(tmp_path: Path) -> str:
    path = tmp_path / "urls.txt"
    path.write_text("# nothing to fetch yet\n\n", encoding="utf-8")
    return str(path)


# (spider and arguments, with {tmp} for a scratch folder; the one line it prints)
UNUSABLE = [
    (["filez"], "no spider named 'filez' (spiders: feed, files, site, sitemap, urls, warc)"),
    (
        ["files", "-a", "path={tmp}/no-such-folder"],
        "path: no such file or folder: {tmp}/no-such-folder",
    ),
    (["files", "-a", "path={tmp}/none/*.txt"], "path: no such file or folder: {tmp}/none/*.txt"),
    (["files", "-a", "path="], "path: path is empty: give -a path=FOLDER, FILE or GLOB"),
    (["urls"], "no input: give -a urls=FILE or -a url=URL"),
    (["urls", "-a", "urls={tmp}/missing.txt"], "urls: no such file: {tmp}/missing.txt"),
    (["urls", "-a", "urls={empty}"], "urls: {empty} lists no URLs"),
    (
        ["urls", "-a", "url=www.example.com/news"],
        "url: not an absolute http(s) URL: 'www.example.com/news'",
    ),
    (["urls", "-a", "url=http://"], "url: not an absolute http(s) URL: 'http://'"),
    (["site"], "url: no start URL: give -a url=URL (several: space-separated)"),
    (
        ["site", "-a", "url=http://127.0.0.1:9/", "-a", "max_depth=abc"],
        "max_depth: expected a whole number, got 'abc'",
    ),
    (
        ["site", "-a", "url=http://127.0.0.1:9/", "-a", "max_pages=0"],
        "max_pages: must be at least 1, got 0",
    ),
    (
        ["site", "-a", "url=http://127.0.0.1:9/", "-a", "same_host=maybe"],
        "same_host: expected true or false, got 'maybe'",
    ),
    (["sitemap", "-a", "url=sitemap.xml"], "url: not an absolute http(s) URL: 'sitemap.xml'"),
    (
        ["urls", "-a", "url=http://127.0.0.1:9/", "-a", "uurl=x"],
        "unknown spider argument uurl; did you mean url? (urls takes: urls, url)",
    ),
    (["files", "--sinse", "2024-01-01"], "unknown option --sinse; did you mean --set?"),
    (
        ["files", "-s", "ARCHIVE_WARC_MAX_SIZE=1XB"],
        "ARCHIVE_WARC_MAX_SIZE: not a size: '1XB' (bytes, or 500MB, 1GB, 2GiB)",
    ),
]


@pytest.mark.parametrize(("arguments", "message"), UNUSABLE, ids=[" ".join(a) for a, _ in UNUSABLE])
def test_unusable_arguments_exit_2_and_write_nothing(
    archive: Path, tmp_path: Path, arguments: list[str], message: str
) -> None:
    env = archive_env(archive)
    empty = empty_url_file(tmp_path)
    before = snapshot(archive)
    expand = {"tmp": str(tmp_path), "empty": empty}
    result = scrapy("crawl", *[a.format(**expand) for a in arguments], env=env)
    assert one_error_line(result, 2) == message.format(**expand)
    assert snapshot(archive) == before  # no WARC file, no crawl or failure row: not a byte
    verify = scrapy("verify", env=env)
    assert verify.code == 0, verify.out + verify.err


def test_bad_spider_argument_into_a_new_archive_creates_nothing(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    result = scrapy("crawl", "files", "-a", f"path={tmp_path}/typo", env=archive_env(archive))
    assert one_error_line(result, 2) == f"path: no such file or folder: {tmp_path}/typo"
    assert not archive.exists()


def test_symlink_loops_are_failure_rows_and_the_rest_is_archived(
    archive: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "mixed"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(ARTICLES[0], folder / "sub" / "first.txt")
    (folder / "a").symlink_to(folder / "b")
    (folder / "b").symlink_to(folder / "a")
    (folder / "sub" / "up").symlink_to(folder)  # a folder link to a folder it is in
    env = archive_env(archive)
    out = tmp_path / "out.jsonl"
    before = exported_urls(archive, env, out)
    result = scrapy("crawl", "files", "-a", f"path={folder}", env=env)
    assert result.code == 0, result.err[-3000:]
    assert "Traceback" not in result.err
    failed = sorted(line.strip() for line in result.out.splitlines() if "failed:" in line)
    assert failed == [
        f"failed: {(folder / 'a').as_uri()}: symlink loop: the link leads back to itself",
        f"failed: {(folder / 'b').as_uri()}: symlink loop: the link leads back to itself",
        f"failed: {(folder / 'sub' / 'up').as_uri()}: symlink loop: points to {folder}, "
        "a folder it is in",
    ]
    after = exported_urls(archive, env, out)
    # The file beside the loops is archived (its text equals an archived article: same document).
    assert set(before) <= set(after)
    captured = scrapy("show", "--json", (folder / "sub" / "first.txt").as_uri(), env=env)
    assert captured.code == 0, captured.err
    verify = scrapy("verify", env=env)
    assert verify.code == 0, verify.out + verify.err


def test_unreachable_postgresql_exits_1_with_one_line(archive: Path) -> None:
    before = snapshot(archive)
    url = f"postgresql://postgres@127.0.0.1:{closed_port()}/newsvault"
    env = archive_env(archive, url)
    result = scrapy("crawl", "files", "-a", f"path={archive}", env=env)
    line = one_error_line(result, 1)
    assert line.startswith("cannot migrate database postgresql+psycopg://postgres@127.0.0.1:")
    assert "Connection refused" in line
    assert snapshot(archive) == before


def test_huge_document_id_is_one_line_exit_2(archive: Path) -> None:
    result = scrapy("show", "99999999999999999999999", env=archive_env(archive))
    assert one_error_line(result, 2) == (
        "a number in the command is out of range (IDs are at most 2^63-1)"
    )
