"""End to end: in a site crawl, the original of a near-duplicate group is the earliest published
copy, whichever copy the crawl fetched first; `dupes` says why; reindex rebuilds the same groups.

The loopback site chains each story's copies by links (hub -> first copy -> next copy), so the
crawl fetches them in that order however many requests run at once:
- chips: a wire copy (published 11:00) before the outlet's original (published 09:30);
- fukushima: two partner copies with dates and rel=canonical to the outlet's original, which has
  no date and comes last;
- lavrov: two copies published at the same minute; the one fetched first stays canonical;
- rhodes: a partner copy stating an earlier time than the outlet's original, but ending in
  "This article originally appeared on The Harbour Times" (the original's site name).
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli import PROJECT_DIR, Result, archive_env, scrapy
from tests.newsite import CRAWL_SETTINGS, Page, start_site
from tests.pgdb import fresh_postgres_database

ARTICLES = PROJECT_DIR / "tests" / "data" / "articles"


@dataclass(frozen=True)
class Copy:
    path: str
    source: str  # file in tests/data/articles: title line, then paragraphs
    published: str | None
    canonical: str | None  # path of the rel=canonical target
    credit: str  # the copy's own last paragraph, so that no two copies have the same text
    next_path: str | None  # the copy linked from this one
    site: str | None = None  # og:site_name


COPIES = [
    Copy("/wire/chips.html", "chip-export-oct2023.txt", "2024-05-14T11:00:00Z", None,
         "Distributed by the Newswire agency to its partner sites.", "/news/chips.html"),
    Copy("/news/chips.html", "chip-export-oct2023.txt", "2024-05-14T09:30:00Z", None,
         "Our correspondent in Washington contributed to this report.", None),
    Copy("/wire/fukushima.html", "fukushima-water-aug2023.txt", "2024-06-01T10:00:00Z",
         "/news/fukushima.html", "Distributed by the Newswire agency to its partner sites.",
         "/partner/fukushima.html"),
    Copy("/partner/fukushima.html", "fukushima-water-aug2023.txt", "2024-06-01T08:00:00Z",
         "/news/fukushima.html", "Republished by a partner site under licence.",
         "/news/fukushima.html"),
    Copy("/news/fukushima.html", "fukushima-water-aug2023.txt", None,
         "/news/fukushima.html", "Our correspondent in Tokyo contributed to this report.", None),
    Copy("/wire/lavrov.html", "lavrov-pyongyang-oct2023.txt", "2024-07-02T12:00:00Z", None,
         "Distributed by the Newswire agency to its partner sites.", "/news/lavrov.html"),
    Copy("/news/lavrov.html", "lavrov-pyongyang-oct2023.txt", "2024-07-02T12:00:00Z", None,
         "Our correspondent in Seoul contributed to this report.", None),
    Copy("/partner/rhodes.html", "rhodes-fires-jul2023.txt", "2024-08-01T08:00:00Z", None,
         "This article originally appeared on The Harbour Times.", "/news/rhodes.html",
         "Coastal Daily"),
    Copy("/news/rhodes.html", "rhodes-fires-jul2023.txt", "2024-08-01T10:00:00Z", None,
         "Our correspondent in Athens contributed to this report.", None, "The Harbour Times"),
]  # fmt: skip
FIRST_COPIES = ["/wire/chips.html", "/wire/fukushima.html", "/wire/lavrov.html",
                "/partner/rhodes.html"]  # fmt: skip


def copy_html(copy: Copy, base: str) -> bytes:
    lines = [line.strip() for line in (ARTICLES / copy.source).read_text("utf-8").splitlines()]
    title, paragraphs = lines[0], [line for line in lines[1:] if line]
    head = ""
    if copy.published:
        head += f'<meta property="article:published_time" content="{copy.published}">'
    if copy.canonical:
        head += f'<link rel="canonical" href="{base}{copy.canonical}">'
    if copy.site:
        head += f'<meta property="og:site_name" content="{html.escape(copy.site)}">'
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in [*paragraphs, copy.credit])
    related = f'<p><a href="{copy.next_path}">More on this story</a></p>' if copy.next_path else ""
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta property="og:type" content="article">{head}</head><body>
<article><h1>{html.escape(title)}</h1>
{body}
</article>{related}</body></html>
"""
    return page.encode("utf-8")


def routes(base: str) -> dict[str, Page]:
    links = "".join(f'<li><a href="{path}">Story</a></li>' for path in FIRST_COPIES)
    hub = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>News</title>
<meta property="og:type" content="website"></head><body><ul>{links}</ul></body></html>"""
    pages = {"/": Page(body=hub.encode("utf-8"))}
    pages.update({copy.path: Page(body=copy_html(copy, base)) for copy in COPIES})
    return pages


@dataclass
class Crawled:
    base: str
    env: dict[str, str]
    hits: list[str]
    groups: list[dict[str, object]]  # dupes --json after the crawl
    rebuilt: list[dict[str, object]]  # dupes --json after reindex


def run_ok(*args: str, env: dict[str, str]) -> Result:
    result = scrapy(*args, env=env)
    assert result.code == 0, (args, result.err[-3000:])
    assert "Traceback" not in result.err, result.err[-4000:]
    return result


def json_lines(result: Result) -> list[dict[str, object]]:
    return [json.loads(line) for line in result.out.splitlines() if line.strip()]


def crawl_site(root: Path, db_url: str | None) -> Crawled:
    site, server = start_site(routes)
    try:
        env = archive_env(root / "archive", db_url)
        run_ok("crawl", "site", "-a", f"url={site.url('/')}", "-a", "max_depth=4",
               *CRAWL_SETTINGS, env=env)  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
    groups = json_lines(run_ok("dupes", "--json", env=env))
    run_ok("reindex", env=env)
    rebuilt = json_lines(run_ok("dupes", "--json", env=env))
    return Crawled(site.base, env, list(site.hits), groups, rebuilt)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def crawled(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Crawled]:
    root = tmp_path_factory.mktemp("original")
    if request.param == "postgresql":
        with fresh_postgres_database("nv_original") as url:
            yield crawl_site(root, url)
    else:
        yield crawl_site(root, None)


def group_of(crawled: Crawled, groups: list[dict[str, object]], path: str) -> dict[str, object]:
    url = crawled.base + path
    found = [
        group
        for group in groups
        if group["canonical"]["url"] == url  # type: ignore[index]
        or any(member["url"] == url for member in group["members"])  # type: ignore[attr-defined]
    ]
    assert len(found) == 1, (path, groups)
    return found[0]


def shape(crawled: Crawled, group: dict[str, object]) -> tuple[str, str, list[str]]:
    """(canonical path, reason, member paths sorted) of a dupes --json group."""
    canonical = group["canonical"]
    members = sorted(str(m["url"]).removeprefix(crawled.base) for m in group["members"])  # type: ignore[attr-defined]
    return canonical["url"].removeprefix(crawled.base), canonical["reason"], members  # type: ignore[index]


def document_id(crawled: Crawled, path: str) -> int:
    for group in crawled.groups:
        for entry in [group["canonical"], *group["members"]]:  # type: ignore[misc]
            if entry["url"] == crawled.base + path:
                return int(entry["id"])
    raise AssertionError(f"{path} is in no group")


def test_each_copy_was_fetched_after_the_one_linking_to_it(crawled: Crawled) -> None:
    for copy in COPIES:
        if copy.next_path and copy.next_path != copy.path:
            assert crawled.hits.index(copy.path) < crawled.hits.index(copy.next_path)
    assert len(crawled.groups) == 4


def test_earliest_published_copy_is_canonical_though_fetched_last(crawled: Crawled) -> None:
    group = group_of(crawled, crawled.groups, "/wire/chips.html")
    assert shape(crawled, group) == (
        "/news/chips.html",
        "published earliest (2024-05-14T09:30Z)",
        ["/wire/chips.html"],
    )
    member = group["members"][0]  # type: ignore[index]
    assert 0.75 <= member["similarity"] < 1.0
    original = document_id(crawled, "/news/chips.html")
    copy = document_id(crawled, "/wire/chips.html")
    shown = run_ok("dupes", str(copy), env=crawled.env).out.splitlines()
    assert shown[0] == (
        f"[{original}] US tightens curbs on exports of advanced AI chips to China  "
        f"(canonical: published earliest (2024-05-14T09:30Z))  {crawled.base}/news/chips.html"
    )
    assert shown[1] == (
        f"   [{copy}] US tightens curbs on exports of advanced AI chips to China  "
        f"similarity {member['similarity']:.2f}  {crawled.base}/wire/chips.html"
    )
    assert len(shown) == 2
    search = json_lines(run_ok("show", str(copy), "--json", env=crawled.env))
    assert search[0]["duplicate_of"] == original


def test_copies_declaring_rel_canonical_make_the_undated_original_canonical(
    crawled: Crawled,
) -> None:
    group = group_of(crawled, crawled.groups, "/news/fukushima.html")
    assert shape(crawled, group) == (
        "/news/fukushima.html",
        "rel=canonical of 2 members",
        ["/partner/fukushima.html", "/wire/fukushima.html"],
    )
    # Each member's similarity is to the new canonical, not to the canonical it had before.
    for member in group["members"]:  # type: ignore[attr-defined]
        assert 0.75 <= member["similarity"] < 1.0


def test_fetch_time_breaks_a_tie_of_publication_times(crawled: Crawled) -> None:
    group = group_of(crawled, crawled.groups, "/news/lavrov.html")
    first = json_lines(run_ok("show", str(document_id(crawled, "/wire/lavrov.html")), "--json",
                              env=crawled.env))[0]  # fmt: skip
    fetched = str(first["first_seen"]).removesuffix("+00:00")
    assert shape(crawled, group) == (
        "/wire/lavrov.html",
        f"fetched first ({fetched}Z)",
        ["/news/lavrov.html"],
    )


def test_a_copy_crediting_the_original_outlet_outranks_its_own_earlier_time(
    crawled: Crawled,
) -> None:
    group = group_of(crawled, crawled.groups, "/partner/rhodes.html")
    assert shape(crawled, group) == (
        "/news/rhodes.html",
        "credited as first published by 1 member",
        ["/partner/rhodes.html"],
    )


def test_reindex_rebuilds_the_same_groups_and_reasons(crawled: Crawled) -> None:
    assert crawled.rebuilt == crawled.groups
