"""`newsvault`, the console command, run as a user would: from a folder outside the project."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from pipeline import __version__
from tests.cli import PROJECT_DIR, Result, run_command
from tests.newsite import CRAWL_SETTINGS, NewsSite, news_site, warc_records

NEWSVAULT = Path(sys.executable).with_name("newsvault")
ARTICLES = sorted((PROJECT_DIR / "tests" / "data" / "articles").glob("*.txt"))[:3]
COMMANDS = sorted(
    path.stem for path in (PROJECT_DIR / "pipeline" / "commands").glob("*.py")
    if path.stem != "__init__"
)  # fmt: skip
SPIDERS = ["feed", "files", "site", "sitemap", "urls", "warc"]
__all__ = ["news_site"]  # a fixture, imported for pytest


def plain_env(**settings: str) -> dict[str, str]:
    """The caller's environment without any ARCHIVE_* setting, so the defaults apply."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    env["ARCHIVE_EXTRACT_WORKERS"] = "0"
    env.update(settings)
    return env


def newsvault(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Result:
    environment = env if env is not None else plain_env()
    return run_command([str(NEWSVAULT), *args], cwd=cwd, env=environment, timeout=180)


def section(out: str, title: str) -> list[str]:
    lines = out.splitlines()
    start = lines.index(title) + 1
    end = lines.index("", start) if "" in lines[start:] else len(lines)
    return lines[start:end]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A user's folder, outside the project, after `newsvault crawl files -a path=in`."""
    home = tmp_path_factory.mktemp("user")
    (home / "in").mkdir()
    for article in ARTICLES:
        shutil.copy(article, home / "in" / article.name)
    result = newsvault("crawl", "files", "-a", "path=in", cwd=home)
    assert result.code == 0, result.err[-3000:]
    return home


def test_help_lists_every_command_and_spider(tmp_path: Path) -> None:
    result = newsvault("--help", cwd=tmp_path)
    assert result.code == 0, result.err
    assert result.err == ""
    commands = section(result.out, "commands:")
    assert [line.split()[0] for line in commands] == COMMANDS
    assert all(re.fullmatch(r"  \S+ +\S.*", line) for line in commands), commands
    spiders = section(result.out, "spiders (newsvault crawl SPIDER -a NAME=VALUE ...):")
    assert [line.split()[0] for line in spiders] == SPIDERS
    assert all(re.fullmatch(r"  \S+ +\S.*-a \S+=.*", line) for line in spiders), spiders
    assert newsvault(cwd=tmp_path).out == result.out


def test_command_help_names_newsvault(tmp_path: Path) -> None:
    result = newsvault("search", "--help", cwd=tmp_path)
    assert result.code == 0, result.err
    assert result.out.splitlines()[:3] == [
        "Usage",
        "=====",
        "  newsvault search [options] WORDS...",
    ]
    assert re.search(r"^  --archive DIR +the archive folder", result.out, flags=re.MULTILINE)
    crawl = newsvault("crawl", "-h", cwd=tmp_path)
    assert crawl.code == 0, crawl.err
    assert crawl.out.splitlines()[2] == "  newsvault crawl [options] <spider>"


def test_unknown_command_names_the_closest(tmp_path: Path) -> None:
    result = newsvault("serch", "kim", cwd=tmp_path)
    assert result.code == 2
    assert result.err.splitlines() == [
        f"newsvault: error: unknown command 'serch'; did you mean search? "
        f"(commands: {', '.join(COMMANDS)})"
    ]
    option = newsvault("--archiv", "x", "stats", cwd=tmp_path)
    assert option.code == 2
    assert option.err.splitlines() == [
        "newsvault: error: unknown option --archiv before the command; did you mean --archive? "
        "(newsvault --help)"
    ]
    assert list(tmp_path.iterdir()) == []


def test_crawl_writes_the_archive_of_the_current_folder(crawled: Path) -> None:
    assert (crawled / "archive" / "index.sqlite").is_file()
    assert len(list((crawled / "archive" / "warc").glob("*.warc.gz"))) == 1
    result = newsvault("export", "-o", "docs.jsonl", cwd=crawled)
    assert result.code == 0, result.err
    rows = [json.loads(line) for line in (crawled / "docs.jsonl").read_text("utf-8").splitlines()]
    expected = sorted((crawled / "in" / a.name).as_uri() for a in ARTICLES)
    assert sorted(row["url"] for row in rows) == expected


def test_archive_option_before_or_after_the_command_and_the_environment(
    crawled: Path, tmp_path: Path
) -> None:
    archive = str(crawled / "archive")
    before = newsvault("--archive", archive, "show", "--json", "1", cwd=tmp_path)
    after = newsvault("show", "1", "--json", f"--archive={archive}", cwd=tmp_path)
    by_env = newsvault("show", "--json", "1", cwd=tmp_path, env=plain_env(ARCHIVE_DIR=archive))
    for result in (before, after, by_env):
        assert result.code == 0, result.err
    assert before.out == after.out == by_env.out
    assert json.loads(before.out)["id"] == 1
    # Without any of them the archive is ./archive: here, none.
    missing = newsvault("stats", cwd=tmp_path)
    assert missing.code == 2
    assert missing.err.splitlines() == [
        f"newsvault: error: database not found: {tmp_path.resolve() / 'archive' / 'index.sqlite'}"
    ]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("form", ["relative", "absolute", "dotted"])
def test_show_accepts_a_path_as_given(crawled: Path, form: str) -> None:
    name = ARTICLES[1].name
    given = {
        "relative": f"in/{name}",
        "absolute": str(crawled / "in" / name),
        "dotted": f"./in/../in/{name}",
    }[form]
    result = newsvault("show", "--json", given, cwd=crawled)
    assert result.code == 0, result.err
    assert json.loads(result.out)["url"] == (crawled / "in" / name).as_uri()


def test_show_of_a_path_never_crawled_is_one_line(crawled: Path) -> None:
    result = newsvault("show", "in/none.txt", cwd=crawled)
    assert result.code == 2
    assert result.err.splitlines() == [
        "newsvault: error: no document with ID, URL or path 'in/none.txt'"
    ]


def test_search_from_another_folder(crawled: Path, tmp_path: Path) -> None:
    archive = str(crawled / "archive")
    word = "ECB"  # in one of the three articles (ecb-rates-sep2023_a.txt)
    result = newsvault("search", word, "--json", "--archive", archive, cwd=tmp_path)
    assert result.code == 0, result.err
    urls = [json.loads(line)["url"] for line in result.out.splitlines()]
    assert urls == [(crawled / "in" / "ecb-rates-sep2023_a.txt").as_uri()]


def test_web_crawl_from_another_folder_sends_the_contact_url(
    news_site: NewsSite, tmp_path: Path
) -> None:
    page = news_site.url("/news/2024/05/harbour-bridge.html")
    (tmp_path / "list.txt").write_text(f"{page}\n", encoding="utf-8")
    contact = "-s", "ARCHIVE_CONTACT_URL=https://archive.example.org/contact"
    result = newsvault(
        "crawl", "urls", "-a", "urls=list.txt", *CRAWL_SETTINGS, *contact, cwd=tmp_path
    )
    assert result.code == 0, result.err[-3000:]
    requests = [r for r in warc_records(tmp_path / "archive") if r.rec_type == "request"]
    assert sorted(r.uri for r in requests) == [page, news_site.url("/robots.txt")]
    agents = {value for r in requests for name, value in r.http_headers if name == "User-Agent"}
    assert agents == {f"newsvault/{__version__} (+https://archive.example.org/contact)"}


def test_the_entry_point_module_imports_no_scrapy(tmp_path: Path) -> None:
    """A crawl's index writer is spawned (its extraction workers too, where there is no fork
    server): a spawned process runs the `newsvault` script's module again first."""
    heavy = ("scrapy", "twisted", "sqlalchemy", "numpy", "lxml", "trafilatura")
    probe = (
        "import sys, pipeline.cli.console; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r}))"
    )
    result = run_command(
        [sys.executable, "-c", probe], cwd=tmp_path, env=dict(os.environ), timeout=60
    )
    assert result.code == 0, result.err
    assert result.out.strip() == "[]"
