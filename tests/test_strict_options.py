"""Options that mean what they say: unknown options, arguments and spider arguments are refused
with one line naming the closest valid one (exit 2, nothing written); search words may start
with "-" and `--` ends the options."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from tests.cli import PROJECT_DIR, Result, archive_env, scrapy
from tests.test_console_command import newsvault, plain_env
from tests.text_archive import write_text_archive

TEXTS = [
    "Kim met Putin in Vladivostok.",
    "Kim met Shoigu; sanctions were discussed.",
    "Kim inspected a factory.",
]
ARTICLE = sorted((PROJECT_DIR / "tests" / "data" / "articles").glob("*.txt"))[0]


@pytest.fixture(scope="module")
def archived(tmp_path_factory: pytest.TempPathFactory) -> Path:
    archive = tmp_path_factory.mktemp("strict") / "archive"
    archive.mkdir()
    write_text_archive(archive, TEXTS)
    return archive


@pytest.fixture
def archive(archived: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "archive"
    shutil.copytree(archived, copy)
    return copy


def snapshot(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def refused(result: Result) -> str:
    assert result.code == 2, (result.code, result.out, result.err)
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("newsvault: error: "), lines[0]
    return lines[0].removeprefix("newsvault: error: ")


REFUSED = [
    (["search", "Kim", "--sinse", "2024-01-01"], "unknown option --sinse; did you mean --since?"),
    (["search", "Kim", "--sinse=2024-01-01"], "unknown option --sinse; did you mean --since?"),
    (["search", "--limt", "2", "Kim"], "unknown option --limt; did you mean --limit?"),
    (["search", "Kim", "--limit", "abc"], "argument --limit: not a whole number: 'abc'"),
    (["stats", "extra"], "stats takes no arguments, got 'extra'"),
    (["stats", "--jsn"], "unknown option --jsn; did you mean --json?"),
    (["stats", "-x"], "unknown option -x (`scrapy stats --help` lists the options)"),
    (["verify", "now"], "verify takes no arguments, got 'now'"),
    (["dupes", "--limt", "3"], "unknown option --limt; did you mean --limit?"),
    (["stories", "--jason"], "unknown option --jason; did you mean --json?"),
    (["show", "1", "--rwa"], "unknown option --rwa; did you mean --raw?"),
    (["show", "1", "2"], "give exactly one document ID, URL or path"),
    (["reindex", "--accept-tron"], "unknown option --accept-tron; did you mean --accept-torn?"),
    (["stats", "-s", "NOVALUE"], "Invalid -s value, use -s NAME=VALUE"),
    (["crawl", "files", "--sinse", "x"], "unknown option --sinse; did you mean --set?"),
    (["crawl", "files", "extra"], "give exactly one spider name"),
    (["crawl", "urls", "-a", "uurl=x"], "unknown spider argument uurl; did you mean url? "
     "(urls takes: urls, url)"),
    (["crawl", "site", "-a", "url=http://127.0.0.1:9/", "-a", "max_dept=1"],
     "unknown spider argument max_dept; did you mean max_depth? "
     "(site takes: url, max_depth, max_pages, allow, deny, same_host)"),
    (["crawl", "files", "-a", "colour=red"], "unknown spider argument colour (files takes: path)"),
    (["crawl", "warc", "-a", "path=x", "-a", "cpy=true"],
     "unknown spider argument cpy; did you mean copy? (warc takes: path, copy)"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "message"), REFUSED, ids=[" ".join(a) for a, _ in REFUSED])
def test_refused_with_one_line_and_nothing_written(
    archive: Path, args: list[str], message: str
) -> None:
    before = snapshot(archive)
    assert refused(scrapy(*args, env=archive_env(archive))) == message
    assert snapshot(archive) == before


def test_the_console_command_refuses_the_same(archive: Path, tmp_path: Path) -> None:
    env = plain_env(ARCHIVE_DIR=str(archive))
    result = newsvault("search", "Kim", "--sinse", "2024-01-01", cwd=tmp_path, env=env)
    assert refused(result) == "unknown option --sinse; did you mean --since?"
    other = newsvault("stats", "-x", cwd=tmp_path, env=env)
    assert refused(other) == "unknown option -x (`newsvault stats --help` lists the options)"


def test_a_spider_argument_typo_into_a_new_archive_creates_nothing(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    result = scrapy("crawl", "files", "-a", f"path={ARTICLE}", "-a", "pth=x",
                    env=archive_env(archive))  # fmt: skip
    assert refused(result) == "unknown spider argument pth; did you mean path? (files takes: path)"
    assert not archive.exists()


def ids(result: Result) -> list[int]:
    assert result.code == 0, result.err
    return sorted(json.loads(line)["id"] for line in result.out.splitlines())


def test_search_words_may_start_with_a_dash(archive: Path) -> None:
    env = archive_env(archive)
    # Each a word of its own: exclusions, not options (-sanctions is not "-s anctions").
    assert ids(scrapy("search", "kim", "-putin", "--json", env=env)) == [2, 3]
    assert ids(scrapy("search", "kim", "-putin", "-sanctions", "--json", env=env)) == [3]
    assert ids(scrapy("search", "-sanctions", "kim", "--json", env=env)) == [1, 3]
    # After -- every word is a search word, even one that looks like an option.
    assert ids(scrapy("search", "--json", "--", "kim", "-shoigu", env=env)) == [1, 3]
    # "--json" reaches the query (an exclusion there, and only that), not the options.
    alone = scrapy("search", "--", "--json", env=env)
    assert refused(alone) == "nothing to search for: every term is excluded; add a word to find"


def test_options_after_the_words_still_count(archive: Path) -> None:
    env = archive_env(archive)
    result = scrapy("search", "kim", "--limit", "1", "--json", env=env)
    assert result.code == 0, result.err
    assert len(result.out.splitlines()) == 1
