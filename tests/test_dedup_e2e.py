"""End to end: near-duplicates and stories through `scrapy crawl files` and the query commands.

The first crawl archives the five seeds (one event, five outlets) and the unrelated articles of
tests/data/articles. The second crawl re-crawls the same folder after edited copies of the seeds
(built here from the seed files) were added: every copy must be linked to its original.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.db.session import default_db_url
from tests.cli import PROJECT_DIR, Result, archive_env, assert_clean_error, scrapy
from tests.pgdb import fresh_postgres_database

SEEDS = PROJECT_DIR / "seeds"
ARTICLES = PROJECT_DIR / "tests" / "data" / "articles"
EXPECTED = json.loads((PROJECT_DIR / "tests" / "data" / "expected.json").read_text("utf-8"))
SEED_NAMES = sorted(p.name for p in SEEDS.glob("*.txt"))
OTHER_FURNITURE = [
    "Sign up for breaking news alerts",
    "Subscribe to our newsletter for the latest headlines",
    "Share this article on Facebook Twitter WhatsApp",
    "Most read today",
]
PARAGRAPH_WORDS = 20  # blocks with at least this many words are article paragraphs
BLOCK_BREAK = re.compile(r"\n[ \t\u00a0]*\n+")


@dataclass
class Archive:
    folder: Path  # the crawled folder
    env: dict[str, str]
    first: Result
    second: Result
    ids: dict[str, int]  # file name -> document id
    duplicate_of: dict[str, int | None]  # file name -> duplicate_of
    seed_story: int


def _blocks(text: str) -> list[str]:
    return [block.strip() for block in BLOCK_BREAK.split(text) if block.strip()]


def _paragraph_indexes(blocks: list[str]) -> list[int]:
    return [i for i, block in enumerate(blocks) if len(block.split()) >= PARAGRAPH_WORDS]


def _edit_words(block: str, every: int) -> str:
    """Replace every ``every``-th word, as a copy editor's small changes would."""
    words = block.split()
    for i in range(every // 2, len(words), every):
        words[i] = "reportedly" if words[i].islower() else "Reportedly"
    return " ".join(words)


def edited_copy(text: str, title: str, variant: int) -> str:
    """A syndicated copy of one seed: each variant mixes the edits wire copies show."""
    blocks = _blocks(text)
    paragraphs = _paragraph_indexes(blocks)
    assert len(paragraphs) >= 3, "a seed needs at least three paragraphs"
    if variant in (0, 3):  # headline changed
        blocks = [f"{title.split(':')[-1].strip()} - Wire" if b == title else b for b in blocks]
    if variant in (1, 3, 4):  # a paragraph of about 50 words dropped, not the lead or a caption
        drop = min(paragraphs[2:], key=lambda i: abs(len(blocks[i].split()) - 50))
        paragraphs = [i for i in paragraphs if i != drop]
        blocks = [b for i, b in enumerate(blocks) if i != drop]
    if variant in (0, 2, 4):  # small word edits in two paragraphs
        for i in (paragraphs[2], paragraphs[-2]):
            blocks[i] = _edit_words(blocks[i], 40)
    if variant in (0, 4):  # other page furniture around the article
        blocks = OTHER_FURNITURE[:2] + blocks + OTHER_FURNITURE[2:]
    return "\n\n".join(blocks) + "\n"


def copy_name(seed_name: str) -> str:
    return f"copy-{seed_name}"


def write_copies(folder: Path) -> None:
    for variant, name in enumerate(SEED_NAMES):
        text = (SEEDS / name).read_text("utf-8")
        title = EXPECTED["seeds"][name]["title"]
        copy = edited_copy(text, title, variant)
        assert copy != text
        (folder / copy_name(name)).write_text(copy, "utf-8")


def run_ok(*args: str, env: dict[str, str]) -> Result:
    result = scrapy(*args, env=env)
    assert result.code == 0, (args, result.err[-3000:])
    assert "Traceback" not in result.err
    return result


def json_lines(result: Result) -> list[dict[str, object]]:
    return [json.loads(line) for line in result.out.splitlines() if line.strip()]


def build_archive(root: Path, db_url: str | None) -> Archive:
    folder = root / "news"
    folder.mkdir()
    for source in [*SEEDS.glob("*.txt"), *ARTICLES.glob("*.txt")]:
        shutil.copy(source, folder / source.name)
    env = archive_env(root / "archive", db_url)
    first = run_ok("crawl", "files", "-a", f"path={folder}", env=env)
    write_copies(folder)
    second = run_ok("crawl", "files", "-a", f"path={folder}", env=env)
    stories = json_lines(run_ok("stories", "--json", env=env))
    members = {}
    for story in stories:
        for member in json_lines(run_ok("stories", str(story["id"]), "--json", env=env)):
            members[Path(str(member["url"])).name] = (story["id"], member)
    seed_story = members[SEED_NAMES[0]][0]
    return Archive(
        folder=folder,
        env=env,
        first=first,
        second=second,
        ids={name: int(m["id"]) for name, (_, m) in members.items()},
        duplicate_of={name: m["duplicate_of"] for name, (_, m) in members.items()},  # type: ignore[misc]
        seed_story=int(seed_story),  # type: ignore[arg-type]
    )


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def archive(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Archive]:
    root = tmp_path_factory.mktemp("dedup")
    if request.param == "postgresql":
        with fresh_postgres_database("nv_dedup") as url:
            yield build_archive(root, url)
    else:
        built = build_archive(root, None)
        assert Path(default_db_url(root / "archive").removeprefix("sqlite:///")).exists()
        yield built


def story_members(archive: Archive, story_id: int) -> list[dict[str, object]]:
    return json_lines(run_ok("stories", str(story_id), "--json", env=archive.env))


def test_seeds_form_one_story_and_are_not_near_duplicates(archive: Archive) -> None:
    members = story_members(archive, archive.seed_story)
    originals = {Path(str(m["url"])).name for m in members if m["duplicate_of"] is None}
    assert originals == set(SEED_NAMES)
    for name in SEED_NAMES:
        assert archive.duplicate_of[name] is None
        dupes = run_ok("dupes", str(archive.ids[name]), "--json", env=archive.env)
        group = json_lines(dupes)
        assert len(group) == 1
        assert group[0]["canonical"]["id"] == archive.ids[name]  # type: ignore[index]
        # The only near-duplicate of each seed is its edited copy, never another seed.
        assert [m["id"] for m in group[0]["members"]] == [archive.ids[copy_name(name)]]  # type: ignore[index]


def test_each_copy_links_to_its_original(archive: Archive) -> None:
    for name in SEED_NAMES:
        copy = copy_name(name)
        assert archive.duplicate_of[copy] == archive.ids[name], copy
        shown = run_ok("dupes", str(archive.ids[copy]), env=archive.env)
        lines = shown.out.splitlines()
        assert lines[0].startswith(f"[{archive.ids[name]}] ")
        # Both copies state the same date or none: the one fetched first (the seed) is original.
        seed = json_lines(run_ok("show", str(archive.ids[name]), "--json", env=archive.env))[0]
        fetched = str(seed["first_seen"]).removesuffix("+00:00")
        assert f"  (canonical: fetched first ({fetched}Z))  " in lines[0]
        match = re.search(rf"\[{archive.ids[copy]}\] .* similarity (\d\.\d\d) ", shown.out)
        assert match, shown.out
        assert 0.75 <= float(match.group(1)) < 1.0


def test_copies_join_the_seed_story_and_distractors_do_not(archive: Archive) -> None:
    members = story_members(archive, archive.seed_story)
    names = {Path(str(m["url"])).name for m in members}
    assert names == set(SEED_NAMES) | {copy_name(n) for n in SEED_NAMES}
    for article in ARTICLES.glob("*.txt"):
        assert article.name in archive.ids, article.name
        assert article.name not in names
    listed = json_lines(run_ok("stories", "--json", env=archive.env))
    top = listed[0]
    assert top["id"] == archive.seed_story and top["size"] == 10
    assert all(int(story["size"]) <= 2 for story in listed[1:])  # type: ignore[call-overload]
    text = run_ok("stories", env=archive.env).out
    assert f"[{archive.seed_story}] " in text and "10 document(s)" in text


def test_dupes_lists_every_group(archive: Archive) -> None:
    groups = json_lines(run_ok("dupes", "--json", env=archive.env))
    pairs = {(g["canonical"]["id"], m["id"]) for g in groups for m in g["members"]}  # type: ignore[index,union-attr]
    expected = {(archive.ids[n], archive.ids[copy_name(n)]) for n in SEED_NAMES}
    assert pairs == expected
    text = run_ok("dupes", env=archive.env).out
    assert text.count("(canonical: fetched first (") == 5 and text.count("similarity") == 5
    reasons = {str(g["canonical"]["reason"]).split(" (")[0] for g in groups}  # type: ignore[index]
    assert reasons == {"fetched first"}
    limited = json_lines(run_ok("dupes", "--json", "--limit", "2", env=archive.env))
    assert len(limited) == 2
    unrelated = archive.ids[next(iter(sorted(p.name for p in ARTICLES.glob("*.txt"))))]
    alone = run_ok("dupes", str(unrelated), env=archive.env)
    assert f"document {unrelated} has no near-duplicates" in alone.out


def test_search_collapses_copies_unless_all(archive: Archive) -> None:
    seeds = {archive.ids[n] for n in SEED_NAMES}
    copies = {archive.ids[copy_name(n)] for n in SEED_NAMES}
    collapsed = json_lines(run_ok("search", "Shoigu", "--json", "--limit", "50", env=archive.env))
    found = {hit["id"] for hit in collapsed}
    assert seeds <= found and not copies & found
    assert all(hit["duplicate_of"] is None for hit in collapsed)
    every = json_lines(
        run_ok("search", "Shoigu", "--all", "--json", "--limit", "50", env=archive.env)
    )
    assert seeds | copies <= {hit["id"] for hit in every}
    assert len(every) == len(collapsed) + len(copies)
    shown = run_ok("search", "Shoigu", "--all", "--limit", "50", env=archive.env).out
    assert shown.count("(near-duplicate of ") == 5


def test_search_groups_by_story(archive: Archive) -> None:
    out = run_ok("search", "Shoigu", "--stories", "--limit", "50", env=archive.env).out
    sections = re.split(r"^(?=story \d+:|no story:)", out, flags=re.MULTILINE)
    ours = [s for s in sections if s.startswith(f"story {archive.seed_story}:")]
    assert len(ours) == 1
    listed = {int(i) for i in re.findall(r"^\s+\d+\. \[(\d+)\]", ours[0], flags=re.MULTILINE)}
    assert listed == {archive.ids[n] for n in SEED_NAMES}
    others = out.replace(ours[0], "")
    assert "story " in others  # Shoigu's Tehran visit is another story


def test_crawl_summaries_count_near_duplicates_and_stories(archive: Archive) -> None:
    first, second = archive.first.out, archive.second.out
    total = 5 + len(list(ARTICLES.glob("*.txt")))
    assert f"documents added         {total}  (of which near-duplicates: 0)" in first
    assert "documents added         5  (of which near-duplicates: 5)" in second
    assert "payload revisits        " + str(total) in second
    assert "stories touched         1" in second
    assert "failures                0" in second
    stats = run_ok("stats", env=archive.env).out
    assert f"documents                 {total + 5}" in stats
    assert "near-duplicates         5" in stats
    story_count = len(json_lines(run_ok("stories", "--json", "--limit", "1000", env=archive.env)))
    assert f"  stories                 {story_count}" in stats
    as_json = json.loads(run_ok("stats", "--json", env=archive.env).out)
    assert as_json["near_duplicates"] == 5 and as_json["stories"] == story_count


def test_recrawl_again_changes_nothing(archive: Archive) -> None:
    again = run_ok("crawl", "files", "-a", f"path={archive.folder}", env=archive.env)
    assert "documents added         0  (of which near-duplicates: 0)" in again.out
    assert "stories touched         0" in again.out
    groups = json_lines(run_ok("dupes", "--json", env=archive.env))
    assert sum(len(g["members"]) for g in groups) == 5  # type: ignore[arg-type]


BAD_IDS = [
    pytest.param(["abc"], "whole number", id="word"),
    pytest.param(["-5"], "whole number", id="negative"),
    pytest.param(["1", "2"], "one", id="two-ids"),
    pytest.param(["²"], "whole number", id="superscript-digit"),
    pytest.param(["9" * 10_000], "whole number", id="10k-digits"),
    pytest.param(["x" * 10_000], "whole number", id="10kB-word"),
]


@pytest.mark.parametrize("command", ["dupes", "stories"])
@pytest.mark.parametrize(("args", "needle"), BAD_IDS)
def test_bad_ids_are_one_line_exit_2(
    archive: Archive, command: str, args: list[str], needle: str
) -> None:
    result = scrapy(command, *args, env=archive.env)
    assert_clean_error(result, needle)
    assert len(result.err) < 300  # a 10 kB argument is not echoed back whole


@pytest.mark.parametrize(("command", "noun"), [("dupes", "document"), ("stories", "story")])
@pytest.mark.parametrize("number", ["999999", "0"])
def test_unknown_ids_are_one_line_exit_2(
    archive: Archive, command: str, noun: str, number: str
) -> None:
    assert_clean_error(scrapy(command, number, env=archive.env), f"no {noun} with ID {number}")


@pytest.mark.parametrize("command", ["dupes", "stories"])
def test_bad_limit_is_exit_2(archive: Archive, command: str) -> None:
    result = scrapy(command, "--limit", "0", env=archive.env)
    assert result.code == 2 and "Traceback" not in result.err
