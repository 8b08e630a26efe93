"""`scrapy export`: formats that say what they are, stdout, and the document filters, on a real
archive (the seeds and the loopback news site's sitemap crawl)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.cli import PROJECT_DIR, Result, archive_env, assert_clean_error, scrapy
from tests.newsite import CRAWL_SETTINGS, NewsSite, db_rows, module_news_site

__all__ = ["module_news_site"]  # a fixture, imported for pytest

SEEDS = PROJECT_DIR / "seeds"


@pytest.fixture(scope="module")
def archive(module_news_site: NewsSite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    archive = tmp_path_factory.mktemp("export") / "archive"
    env = archive_env(archive)
    assert scrapy("crawl", "files", "-a", f"path={SEEDS}", env=env).code == 0
    url = module_news_site.url("/robots.txt")
    assert scrapy("crawl", "sitemap", "-a", f"url={url}", *CRAWL_SETTINGS, env=env).code == 0
    yield archive


def export(archive: Path, *args: str) -> Result:
    return scrapy("export", *args, env=archive_env(archive))


def ids(archive: Path, where: str = "1 = 1") -> list[int]:
    return [
        row[0] for row in db_rows(archive, f"select id from documents where {where} order by id")
    ]


def test_json_is_an_array_jsonl_is_lines_csv_has_a_header(archive: Path, tmp_path: Path) -> None:
    every = ids(archive)
    assert len(every) == 11
    as_json = export(archive, "-o", str(tmp_path / "x.json"))
    assert (
        as_json.code == 0
        and as_json.out == f"exported 11 document(s) to {tmp_path / 'x.json'} (json)\n"
    )
    array = json.loads((tmp_path / "x.json").read_text("utf-8"))
    assert isinstance(array, list) and [row["id"] for row in array] == every
    assert export(archive, "-o", str(tmp_path / "x.jsonl")).code == 0
    lines = (tmp_path / "x.jsonl").read_text("utf-8").splitlines()
    assert [json.loads(line) for line in lines] == array
    assert export(archive, "-o", str(tmp_path / "x.csv")).code == 0
    with (tmp_path / "x.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["id"]) for row in rows] == every
    published = [row["published"] for row in array if row["published"]]
    assert published and all(p.startswith("2024-05-") and p.endswith("+00:00") for p in published)


def test_stdout_in_each_text_format(archive: Path) -> None:
    jsonl = export(archive, "-o", "-")
    assert jsonl.code == 0 and jsonl.err == ""
    assert [json.loads(line)["id"] for line in jsonl.out.splitlines()] == ids(archive)
    array = export(archive, "-o", "-", "--format", "json")
    assert [row["id"] for row in json.loads(array.out)] == ids(archive)
    table = export(archive, "-o", "-", "--format", "csv")
    assert [int(r["id"]) for r in csv.DictReader(io.StringIO(table.out))] == ids(archive)


def test_unknown_extension_needs_a_format(archive: Path, tmp_path: Path) -> None:
    target = tmp_path / "documents.txt"
    assert_clean_error(
        export(archive, "-o", str(target)), "cannot tell the format of 'documents.txt'"
    )
    assert not target.exists()
    assert export(archive, "-o", str(target), "--format", "jsonl").code == 0
    assert len(target.read_text("utf-8").splitlines()) == 11
    assert_clean_error(export(archive, "-o", "-", "--format", "wacz"), "cannot go to stdout")


def test_filters_choose_documents(
    archive: Path, tmp_path: Path, module_news_site: NewsSite
) -> None:
    def exported(*args: str) -> list[int]:
        result = export(archive, "-o", "-", *args)
        assert result.code == 0, result.err
        return [json.loads(line)["id"] for line in result.out.splitlines()]

    site = module_news_site.base.removeprefix("http://")
    web = ids(archive, f"site = '{site}'")
    assert len(web) == 6
    assert exported("--site", site) == web
    day = ids(archive, "published >= '2024-05-14' and published < '2024-05-15'")
    assert day and exported("--since", "2024-05-14", "--until", "2024-05-14") == day
    assert exported("--until", "2024-05-13") == ids(archive, "published < '2024-05-14'")
    story = db_rows(archive, "select story_id from documents where site is null")[0][0]
    seeds = ids(archive, f"story_id = {story}")
    assert len(seeds) == 5 and exported("--story", str(story)) == seeds
    assert exported("--story", str(story), "--site", site) == []
    assert_clean_error(export(archive, "-o", "-", "--story", "x"), "story ID")
    assert_clean_error(
        export(archive, "-o", "-", "--since", "2024-05-15", "--until", "2024-05-14"), "after"
    )


def test_wacz_of_one_story_holds_only_its_records(archive: Path, tmp_path: Path) -> None:
    story = db_rows(archive, "select story_id from documents where site is null")[0][0]
    target = tmp_path / "story.wacz"
    result = export(archive, "-o", str(target), "--story", str(story))
    assert result.code == 0, result.err
    assert result.out.startswith(f"wrote {target}: 1 WARC file(s), 5 page(s), ")
    with zipfile.ZipFile(target) as wacz:
        pages = wacz.read("pages/pages.jsonl").decode().splitlines()[1:]
        [member] = [n for n in wacz.namelist() if n.startswith("archive/")]
        with wacz.open(member) as warc:
            records = [r.rec_headers.get_header("WARC-Record-ID") for r in ArchiveIterator(warc)]
    titles = {json.loads(page)["title"] for page in pages}
    expected_titles = {
        t for (t,) in db_rows(archive, f"select title from documents where story_id = {story}")
    }
    assert titles == expected_titles
    wanted = {
        r
        for (r,) in db_rows(
            archive,
            "select record_id from captures where document_id in"
            f" (select id from documents where story_id = {story})",
        )
    }
    assert set(records) == wanted and len(records) == len(wanted) == 15


def test_stats_json_has_named_fields_and_iso_dates(archive: Path) -> None:
    result = scrapy("stats", "--json", env=archive_env(archive))
    stats = json.loads(result.out)
    assert list(stats) == [
        "documents", "near_duplicates", "stories", "second_sightings", "captures", "revisits",
        "same_text_links", "failures", "failures_by_stage", "by_source", "by_day", "warc_files",
        "warc_bytes", "last_crawl",
    ]  # fmt: skip
    assert stats["documents"] == 11
    assert stats["by_day"][0] == {"day": "2024-05-14", "documents": 6}
    assert {"source": "local", "documents": 5} in stats["by_source"]
    assert all(set(f) == {"name", "bytes"} for f in stats["warc_files"])
    crawl = stats["last_crawl"]
    assert crawl["id"] == 2
    for when in (crawl["started"], crawl["finished"]):
        assert len(when) == 25 and when[10] == "T" and when.endswith("+00:00"), when
