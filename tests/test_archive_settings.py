"""Every ARCHIVE_* setting: one table (name, type, default, meaning), typed and checked when a
command starts, from -s or the environment; a bad value is one line, exit 2, nothing written."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from scrapy.settings import Settings
from sqlalchemy import create_engine, text
from warcio.archiveiterator import ArchiveIterator

from pipeline import __version__
from pipeline.archive_settings import (
    BY_NAME,
    SettingError,
    check_settings,
    markdown_table,
    typed,
)
from tests.cli import PROJECT_DIR, Result, archive_env, scrapy

ARTICLE = PROJECT_DIR / "tests" / "data" / "articles" / "chip-export-oct2023.txt"  # 823 bytes


def project_settings(**given: str) -> Settings:
    settings = Settings()
    settings.setmodule("pipeline.settings", priority="project")
    settings.setdict(given, priority="cmdline")
    return settings


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ("1048576", 1_048_576),
        ("1GB", 1_000_000_000),
        ("500MB", 500_000_000),
        ("500 mb", 500_000_000),
        ("2GiB", 2 * 2**30),
        ("1.5kB", 1500),
        ("64KiB", 65_536),
        ("7b", 7),
    ],
)
def test_sizes(value: str, size: int) -> None:
    assert typed("ARCHIVE_WARC_MAX_SIZE", value) == size


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ARCHIVE_WARC_MAX_SIZE", "-1", "not a size: '-1' (bytes, or 500MB, 1GB, 2GiB)"),
        ("ARCHIVE_WARC_MAX_SIZE", "1XB", "not a size: '1XB' (bytes, or 500MB, 1GB, 2GiB)"),
        ("ARCHIVE_WARC_MAX_SIZE", "1.5", "not a size: '1.5' (bytes, or 500MB, 1GB, 2GiB)"),
        ("ARCHIVE_WARC_MAX_SIZE", "", "not a size: '' (bytes, or 500MB, 1GB, 2GiB)"),
        ("ARCHIVE_MAX_FILE_SIZE", "0", "must be at least 1, got '0'"),
        ("ARCHIVE_NEAR_DUP_THRESHOLD", "2", "must be more than 0 and at most 1, got 2"),
        ("ARCHIVE_NEAR_DUP_THRESHOLD", "0", "must be more than 0 and at most 1, got 0"),
        ("ARCHIVE_NEAR_DUP_THRESHOLD", "nan", "expected a number, got 'nan'"),
        ("ARCHIVE_STORY_THRESHOLD", "high", "expected a number, got 'high'"),
        ("ARCHIVE_EXTRACT_WORKERS", "-1", "must be at least 0, got -1"),
        ("ARCHIVE_EXTRACT_WORKERS", "2.5", "expected a whole number, got '2.5'"),
        ("ARCHIVE_EXTRACT_NICENESS", "20", "must be at most 19, got 20"),
        ("ARCHIVE_EXTRACT_NICENESS", "-5", "must be at least 0, got -5"),
        ("ARCHIVE_STORY_WINDOW_DAYS", "week", "expected a whole number, got 'week'"),
        ("ARCHIVE_REDIS_WORKER_TIMEOUT", "0", "must be more than 0 seconds, got 0"),
        ("ARCHIVE_DB_URL", "mysql://u@h/db",
         "unsupported database 'mysql': use sqlite:/// or postgresql://"),
        ("ARCHIVE_DB_URL", "not a url", "invalid database URL: 'not a url'"),
        ("ARCHIVE_REDIS_URL", "http://127.0.0.1:6379/0",
         "not a Redis URL: 'http://127.0.0.1:6379/0' (use redis://HOST:PORT/DB)"),
        ("ARCHIVE_REDIS_URL", "redis://127.0.0.1:port/0",
         "not a Redis URL: 'redis://127.0.0.1:port/0' (use redis://HOST:PORT/DB)"),
        ("ARCHIVE_REDIS_URL", "redis://127.0.0.1:6379/x",
         "not a Redis URL: 'redis://127.0.0.1:6379/x' (use redis://HOST:PORT/DB)"),
        ("ARCHIVE_CONTACT_URL", "example.org",
         "not an absolute http(s) or mailto: URL: 'example.org'"),
        ("ARCHIVE_WARC_PREFIX", "a/b", "expected letters, digits, '.', '_' or '-', got 'a/b'"),
        ("ARCHIVE_REDIS_PREFIX", " ", "must not be empty"),
        ("ARCHIVE_DIR", "", "must not be empty"),
        ("ARCHIVE_LOG_LEVEL", "LOUD",
         "expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'LOUD'"),
    ],
)  # fmt: skip
def test_unusable_values(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingError) as refused:
        typed(name, value)
    assert str(refused.value) == f"{name}: {message}"


def test_typed_values_of_every_kind() -> None:
    assert typed("ARCHIVE_NEAR_DUP_THRESHOLD", "1") == 1.0
    assert typed("ARCHIVE_STORY_WINDOW_DAYS", "0") == 0
    assert typed("ARCHIVE_DOWNLOAD_MAXSIZE", "0") == 0
    assert typed("ARCHIVE_REDIS_URL", "redis://127.0.0.1:6379/15") == "redis://127.0.0.1:6379/15"
    assert typed("ARCHIVE_CONTACT_URL", "mailto:ops@example.org") == "mailto:ops@example.org"
    assert typed("ARCHIVE_DB_URL", "") == ""
    assert typed("ARCHIVE_LOG_LEVEL", "debug") == "DEBUG"


def test_check_types_settings_in_place_and_derives_scrapy_settings() -> None:
    settings = project_settings(
        ARCHIVE_CONTACT_URL="https://archive.example.org/contact",
        ARCHIVE_WARC_MAX_SIZE="2GB",
        ARCHIVE_DOWNLOAD_MAXSIZE="1MB",
        ARCHIVE_LOG_LEVEL="warning",
    )
    check_settings(settings, {})
    assert settings["ARCHIVE_WARC_MAX_SIZE"] == 2_000_000_000
    assert (
        settings["USER_AGENT"] == f"newsvault/{__version__} (+https://archive.example.org/contact)"
    )
    assert settings["DOWNLOAD_MAXSIZE"] == 1_000_000
    assert settings["LOG_LEVEL"] == "WARNING"
    # A Scrapy setting given itself wins over the one derived from ours.
    own = project_settings(ARCHIVE_CONTACT_URL="https://a.example/", USER_AGENT="mine/1.0")
    check_settings(own, {})
    assert own["USER_AGENT"] == "mine/1.0"


def test_unknown_names_name_the_closest() -> None:
    with pytest.raises(SettingError) as by_option:
        check_settings(project_settings(ARCHIVE_WARC_MAX_SIZ="1GB"), {})
    assert str(by_option.value) == (
        "unknown setting ARCHIVE_WARC_MAX_SIZ; did you mean ARCHIVE_WARC_MAX_SIZE?"
    )
    with pytest.raises(SettingError) as by_environment:
        check_settings(project_settings(), {"ARCHIVE_DB_ULR": "sqlite:///x"})
    assert str(by_environment.value) == (
        "unknown environment variable ARCHIVE_DB_ULR; did you mean ARCHIVE_DB_URL?"
    )
    with pytest.raises(SettingError) as far:
        check_settings(project_settings(ARCHIVE_COLOUR="red"), {})
    assert str(far.value) == "unknown setting ARCHIVE_COLOUR (see README, Settings)"
    # The test suite's own variables are not settings.
    check_settings(project_settings(), {"ARCHIVE_TEST_POSTGRES_URL": "postgresql://x/y"})


def test_one_table_defines_every_setting() -> None:
    module = Settings()
    module.setmodule("pipeline.settings")
    assert sorted(n for n in module if n.startswith("ARCHIVE_")) == sorted(BY_NAME)
    # Every setting the code reads by name ("ARCHIVE_..." in quotes) is one of the table's.
    read_in_code = set()
    for folder in ("pipeline", "spiders"):
        for path in (PROJECT_DIR / folder).rglob("*.py"):
            found = re.findall(r"[\"'](ARCHIVE_[A-Z_]*[A-Z])[\"']", path.read_text("utf-8"))
            read_in_code |= set(found)
    assert len(read_in_code) >= 10
    assert read_in_code <= set(BY_NAME), read_in_code - set(BY_NAME)


def test_the_readme_shows_the_table() -> None:
    readme = (PROJECT_DIR / "README.md").read_text("utf-8")
    assert "\n" + markdown_table() + "\n" in readme


def refused(result: Result) -> str:
    assert result.code == 2, (result.code, result.out[-2000:], result.err[-2000:])
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    return lines[0]


BAD = [
    ("-s", "ARCHIVE_WARC_MAX_SIZE", "-1", "not a size: '-1' (bytes, or 500MB, 1GB, 2GiB)"),
    ("env", "ARCHIVE_WARC_MAX_SIZE", "lots", "not a size: 'lots' (bytes, or 500MB, 1GB, 2GiB)"),
    ("env", "ARCHIVE_NEAR_DUP_THRESHOLD", "2", "must be more than 0 and at most 1, got 2"),
    ("-s", "ARCHIVE_EXTRACT_WORKERS", "-1", "must be at least 0, got -1"),
    ("env", "ARCHIVE_EXTRACT_NICENESS", "high", "expected a whole number, got 'high'"),
    ("-s", "ARCHIVE_DB_URL", "mysql://u@h/db",
     "unsupported database 'mysql': use sqlite:/// or postgresql://"),
    ("env", "ARCHIVE_REDIS_URL", "http://127.0.0.1:6379/0",
     "not a Redis URL: 'http://127.0.0.1:6379/0' (use redis://HOST:PORT/DB)"),
    ("-s", "ARCHIVE_CONTACT_URL", "example.org",
     "not an absolute http(s) or mailto: URL: 'example.org'"),
]  # fmt: skip


@pytest.mark.parametrize(("source", "name", "value", "message"), BAD)
def test_a_bad_value_stops_a_crawl_before_anything_is_written(
    tmp_path: Path, source: str, name: str, value: str, message: str
) -> None:
    archive = tmp_path / "archive"
    env = archive_env(archive)
    options = ["-s", f"{name}={value}"] if source == "-s" else []
    if source == "env":
        env[name] = value
    result = scrapy("crawl", "files", "-a", f"path={ARTICLE}", *options, env=env)
    assert refused(result) == f"newsvault: error: {name}: {message}"
    assert not archive.exists()


@pytest.mark.parametrize("source", ["-s", "env"])
def test_an_unknown_name_stops_a_query_command(tmp_path: Path, source: str) -> None:
    env = archive_env(tmp_path / "archive")
    options = ["-s", "ARCHIVE_NEAR_DUP_TRESHOLD=0.8"] if source == "-s" else []
    if source == "env":
        env["ARCHIVE_NEAR_DUP_TRESHOLD"] = "0.8"
    where = "setting" if source == "-s" else "environment variable"
    assert refused(scrapy("stats", *options, env=env)) == (
        f"newsvault: error: unknown {where} ARCHIVE_NEAR_DUP_TRESHOLD; "
        "did you mean ARCHIVE_NEAR_DUP_THRESHOLD?"
    )


def warcinfo_user_agent(archive: Path) -> str:
    (path,) = sorted((archive / "warc").glob("*.warc.gz"))
    with path.open("rb") as stream:
        record = next(iter(ArchiveIterator(stream)))
        assert record.rec_type == "warcinfo"
        fields = record.content_stream().read().decode("utf-8")
    (line,) = [f for f in fields.splitlines() if f.startswith("http-header-user-agent:")]
    return line.split(":", 1)[1].strip()


def failure_reasons(archive: Path) -> list[str]:
    engine = create_engine(f"sqlite:///{archive / 'index.sqlite'}")
    try:
        with engine.connect() as connection:
            return list(connection.scalars(text("SELECT reason FROM failures ORDER BY uri")))
    finally:
        engine.dispose()


@pytest.mark.parametrize("source", ["-s", "env"])
def test_settings_given_either_way_reach_the_crawl(tmp_path: Path, source: str) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(ARTICLE, folder / "small.txt")
    (folder / "large.txt").write_text(ARTICLE.read_text("utf-8") * 2, encoding="utf-8")
    large = (folder / "large.txt").stat().st_size
    given = {
        "ARCHIVE_CONTACT_URL": "https://archive.example.org/contact",
        "ARCHIVE_WARC_MAX_SIZE": "1GB",
        "ARCHIVE_MAX_FILE_SIZE": "1kB",
    }
    archive = tmp_path / "archive"
    env = archive_env(archive)
    env["ARCHIVE_TEST_POSTGRES_URL"] = "postgresql://postgres@127.0.0.1:9/unused"  # not a setting
    options: list[str] = []
    for name, value in given.items():
        if source == "env":
            env[name] = value
        else:
            options += ["-s", f"{name}={value}"]
    result = scrapy("crawl", "files", "-a", f"path={folder}", *options, env=env)
    assert result.code == 0, result.err[-3000:]
    assert warcinfo_user_agent(archive) == (
        f"newsvault/{__version__} (+https://archive.example.org/contact)"
    )
    assert failure_reasons(archive) == [
        f"file too large: {large} bytes > limit 1000 (ARCHIVE_MAX_FILE_SIZE)"
    ]
