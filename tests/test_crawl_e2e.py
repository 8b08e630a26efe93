"""End to end: `scrapy crawl files` on the seeds, then every query command, as subprocesses.

Crawls here run with the default extraction pool (one process per core), as users run them.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from pipeline.db import queries
from pipeline.db.session import default_db_url, make_engine, make_session_factory
from tests.cli import PROJECT_DIR, Result, archive_env, assert_clean_error, scrapy
from tests.pgdb import fresh_postgres_database

SEEDS = PROJECT_DIR / "seeds"
EXPECTED = json.loads((PROJECT_DIR / "tests" / "data" / "expected.json").read_text("utf-8"))


@dataclass
class Crawled:
    archive: Path
    env: dict[str, str]
    db_url: str
    first: Result


def db_counts(db_url: str) -> dict[str, int]:
    engine = make_engine(db_url)
    try:
        with make_session_factory(engine)() as session:
            return queries.count_rows(session)
    finally:
        engine.dispose()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def crawled(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Crawled]:
    archive = tmp_path_factory.mktemp("archive")
    if request.param == "postgresql":
        with fresh_postgres_database() as url:
            yield crawl_seeds(archive, url)
    else:
        yield crawl_seeds(archive, None)


def crawl_seeds(archive: Path, db_url: str | None) -> Crawled:
    env = archive_env(archive, db_url, workers=None)  # the default extraction pool
    first = scrapy("crawl", "files", "-a", f"path={SEEDS}", env=env)
    assert first.code == 0, first.err[-3000:]
    return Crawled(archive, env, db_url or default_db_url(archive), first)


def test_crawl_summary_counts_the_seeds(crawled: Crawled) -> None:
    out = crawled.first.out
    assert "inputs seen             5" in out
    assert "documents added         5" in out
    assert "failures                0" in out
    assert "WARC records written" in out
    counts = db_counts(crawled.db_url)
    assert counts["documents"] == 5
    assert counts["failures"] == 0


def test_warc_files_read_back_at_recorded_offsets(crawled: Crawled) -> None:
    warcs = sorted((crawled.archive / "warc").iterdir())
    assert warcs and all(p.name.endswith(".warc.gz") for p in warcs)
    engine = make_engine(crawled.db_url)
    with make_session_factory(engine)() as session:
        rows = list(queries.all_captures(session))
    engine.dispose()
    assert {c.record_type for c, _ in rows} >= {"resource", "conversion", "metadata"}
    for capture, name in rows:
        with (crawled.archive / "warc" / name).open("rb") as stream:
            stream.seek(capture.offset)
            record = next(iter(ArchiveIterator(stream)))
            assert record.rec_headers.get_header("WARC-Record-ID") == capture.record_id
            assert record.rec_type == capture.record_type
    for seed in SEEDS.glob("*.txt"):
        matches = [
            c for c, _ in rows if c.record_type == "resource" and c.uri == seed.resolve().as_uri()
        ]
        assert len(matches) == 1, seed


def test_search_finds_all_five_seeds_ranked(crawled: Crawled) -> None:
    result = scrapy("search", "Shoigu", env=crawled.env)
    assert result.code == 0, result.err
    assert "5 document(s) match 'Shoigu'" in result.out
    assert result.out.count("[Shoigu]") >= 5
    as_json = scrapy("search", "Shoigu", "--json", env=crawled.env)
    hits = [json.loads(line) for line in as_json.out.splitlines()]
    titles = {seed["title"] for seed in EXPECTED["seeds"].values()}
    assert {hit["title"] for hit in hits} == titles
    scores = [hit["score"] for hit in hits]
    assert scores == sorted(scores, reverse=True)
    limited = scrapy("search", "Shoigu", "--json", "--limit", "2", env=crawled.env)
    assert len(limited.out.splitlines()) == 2


def test_search_filters(crawled: Crawled) -> None:
    future = scrapy("search", "Shoigu", "--since", "2999-01-01", env=crawled.env)
    assert future.code == 0 and "no documents match" in future.out
    past = scrapy("search", "Shoigu", "--until", "2000-01-01", env=crawled.env)
    assert "no documents match" in past.out
    nowhere = scrapy("search", "Shoigu", "--site", "no-such-site.example", env=crawled.env)
    assert "no documents match" in nowhere.out


@pytest.mark.parametrize("query", ['"', "AND", "*", "NEAR(", "x" * 10_000, "' OR 1=1 --"])
def test_search_survives_odd_queries(crawled: Crawled, query: str) -> None:
    result = scrapy("search", query, env=crawled.env)
    assert result.code in (0, 2), result.err
    assert "Traceback" not in result.err
    if result.code == 2:
        assert_clean_error(result)


@pytest.mark.parametrize("args", [("",), ("--limit", "0", "x"), ("--since", "yesterday", "x")])
def test_search_bad_input_is_one_line_exit_2(crawled: Crawled, args: tuple[str, ...]) -> None:
    result = scrapy("search", *args, env=crawled.env)
    assert result.code == 2
    assert "Traceback" not in result.err


def test_show_text_and_raw(crawled: Crawled) -> None:
    seed = next(iter(sorted(SEEDS.glob("*.txt"))))
    url = seed.resolve().as_uri()
    shown = scrapy("show", url, env=crawled.env)
    assert shown.code == 0, shown.err
    assert EXPECTED["seeds"][seed.name]["title"] in shown.out
    assert "Shoigu" in shown.out
    raw = scrapy("show", "--raw", url, env=crawled.env)
    assert raw.raw == seed.read_bytes()
    document_id = json.loads(scrapy("show", "--json", url, env=crawled.env).out)["id"]
    by_id = scrapy("show", str(document_id), env=crawled.env)
    assert by_id.out == shown.out


@pytest.mark.parametrize("ident", ["999999", "file:///nowhere.txt", "-1", "abc"])
def test_show_unknown_document(crawled: Crawled, ident: str) -> None:
    assert_clean_error(scrapy("show", ident, env=crawled.env), "no document")


def test_stats_and_export(crawled: Crawled, tmp_path: Path) -> None:
    stats = scrapy("stats", env=crawled.env)
    assert stats.code == 0, stats.err
    assert "documents" in stats.out and "5" in stats.out
    jsonl = tmp_path / "docs.jsonl"
    assert scrapy("export", "-o", str(jsonl), env=crawled.env).code == 0
    rows = [json.loads(line) for line in jsonl.read_text("utf-8").splitlines()]
    assert len(rows) == 5 and all(row["text"] and row["title"] for row in rows)
    csv_path = tmp_path / "docs.csv"
    assert scrapy("export", "-o", str(csv_path), env=crawled.env).code == 0
    assert csv_path.read_text("utf-8").splitlines()[0].startswith("id,url,title")
    bad = scrapy("export", "-o", str(tmp_path / "docs.xyz"), env=crawled.env)
    assert_clean_error(bad, "format")


def test_verify_passes_after_crawl(crawled: Crawled) -> None:
    result = scrapy("verify", env=crawled.env)
    assert result.code == 0, result.out + result.err
    assert ": OK" in result.out


def recrawl_and_rebuild(archive: Path, db_url: str | None) -> None:
    env = archive_env(archive, db_url, workers=None)
    url = db_url or default_db_url(archive)
    assert scrapy("crawl", "files", "-a", f"path={SEEDS}", env=env).code == 0
    before = db_counts(url)
    second = scrapy("crawl", "files", "-a", f"path={SEEDS}", env=env)
    assert second.code == 0, second.err[-2000:]
    assert "documents added         0" in second.out
    assert "payload revisits        5" in second.out
    after = db_counts(url)
    assert after["documents"] == before["documents"] == 5
    stats = scrapy("stats", env=env)
    assert "seen more than once" in stats.out
    documents = scrapy("export", "-o", str(archive / "before.jsonl"), env=env)
    assert documents.code == 0
    if db_url is None:
        Path(url.removeprefix("sqlite:///")).unlink()
    rebuilt = scrapy("reindex", env=env)
    assert rebuilt.code == 0, rebuilt.err
    assert scrapy("export", "-o", str(archive / "after.jsonl"), env=env).code == 0
    keys = ("id", "url", "title", "text_digest", "story_id", "duplicate_of", "text")

    def rows(name: str) -> list[tuple[object, ...]]:
        lines = (archive / name).read_text("utf-8").splitlines()
        return [tuple(json.loads(line)[k] for k in keys) for line in lines]

    assert rows("after.jsonl") == rows("before.jsonl")
    assert db_counts(url)["captures"] == after["captures"]
    assert scrapy("verify", env=env).code == 0


def test_second_crawl_adds_nothing_and_reindex_rebuilds(tmp_path: Path) -> None:
    recrawl_and_rebuild(tmp_path / "archive", None)


@pytest.mark.postgres
def test_second_crawl_and_reindex_on_postgresql(tmp_path: Path) -> None:
    with fresh_postgres_database() as url:
        recrawl_and_rebuild(tmp_path / "archive", url)


def test_query_commands_on_missing_and_corrupt_database(tmp_path: Path) -> None:
    env = archive_env(tmp_path / "empty")
    for args in (("search", "Shoigu"), ("show", "1"), ("stats",), ("verify",)):
        assert_clean_error(scrapy(*args, env=env), "database")
    assert not (tmp_path / "empty" / "index.sqlite").exists()
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "index.sqlite").write_bytes(b"this is not a database" * 100)
    assert_clean_error(scrapy("search", "Shoigu", env=archive_env(corrupt)), "database")
    assert (corrupt / "index.sqlite").read_bytes() == b"this is not a database" * 100


def test_truncated_warc_is_reported(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    env = archive_env(archive, workers=None)
    assert scrapy("crawl", "files", "-a", f"path={SEEDS}", env=env).code == 0
    warc = next((archive / "warc").glob("*.warc.gz"))
    data = warc.read_bytes()
    warc.write_bytes(data[: len(data) // 2])
    index = archive / "index.sqlite"
    before = index.read_bytes()
    verify = scrapy("verify", env=env)
    assert verify.code == 1 and "PROBLEM" in verify.out
    assert_clean_error(scrapy("reindex", env=env), warc.name)
    assert index.read_bytes() == before


def test_bad_local_files_end_as_failures(tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(SEEDS / "000_45aba19d97436708.txt", folder / "sub" / "copy-of-000")
    shutil.copy(SEEDS / "000_45aba19d97436708.txt", folder / "plain.txt")
    (folder / "same-text.txt").write_bytes(
        b"\xef\xbb\xbf" + (SEEDS / "000_45aba19d97436708.txt").read_bytes()
    )
    (folder / "empty.txt").write_bytes(b"")
    (folder / "picture.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20)
    (folder / "huge.txt").write_bytes(b"word " * 300_000)
    (folder / "legacy.txt").write_bytes(
        "Caf\u00e9 owners protest new tax\n\nThe caf\u00e9 owners\u2019 association said on "
        "Monday that the new levy would force many small businesses to close.\n\n"
        "\u201cWe cannot absorb another cost,\u201d its chair told reporters.\n".encode("cp1252")
    )
    (folder / "utf16.txt").write_text(
        "Harbour reopens after storm\n\nThe harbour reopened on Tuesday after a storm closed it "
        "for three days, the port authority said.\n",
        encoding="utf-16",
    )
    outside = tmp_path / "outside.txt"
    outside.write_text("secret notes outside the root\n", encoding="utf-8")
    (folder / "escape.txt").symlink_to(outside)
    (folder / "report.pdf").write_bytes(b"%PDF-1.4 binary")
    env = archive_env(tmp_path / "archive", workers=None)
    env["ARCHIVE_MAX_FILE_SIZE"] = "1000000"
    result = scrapy("crawl", "files", "-a", f"path={folder}", env=env)
    assert result.code == 0, result.err[-2000:]
    engine = make_engine(default_db_url(tmp_path / "archive"))
    with make_session_factory(engine)() as session:
        failures = {Path(f.uri).name: f.reason for f in queries.list_failures(session)}
        documents = {d.title for d in queries.iter_documents(session)}
    engine.dispose()
    assert "empty" in failures["empty.txt"]
    assert "binary" in failures["picture.txt"].lower()
    assert "too large" in failures["huge.txt"]
    assert "symlink" in failures["escape.txt"]
    assert "unsupported" in failures["report.pdf"]
    assert "Caf\u00e9 owners protest new tax" in documents
    assert "Harbour reopens after storm" in documents
    assert "same text, other place  1" in result.out
    assert "payload revisits        1" in result.out
    assert "failures                5" in result.out
