"""`scrapy search` as a user runs it: the syntax, honest counts, one-line errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipeline.commands.search import match_line
from pipeline.db.search import MatchCount
from tests.cli import archive_env, assert_clean_error, scrapy
from tests.text_archive import write_text_archive

TEXTS = [
    "Kim met Shoigu in Pyongyang; the missiles were on parade.",
    "Kim and Putin held talks in Vladivostok about a missile deal.",
    "Kim inspected a launch site; Shoigu was not there.",
    "Kim spoke in Zürich? No: the report from Genève was wrong about Kim.",
    "Kim visited a factory. Kim, Kim and more Kim in the headline.",
    "Markets rallied in Zurich after the central bank decision.",
]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    archive = tmp_path_factory.mktemp("archive")
    write_text_archive(archive, TEXTS)
    return archive_env(Path(archive))


def listed_ids(out: str) -> list[int]:
    return [int(i) for i in re.findall(r"^\s+\d+\. \[(\d+)\]", out, flags=re.MULTILINE)]


def test_limit_does_not_change_the_count(env: dict[str, str]) -> None:
    result = scrapy("search", "kim", "--limit", "2", env=env)
    assert result.code == 0, result.err
    assert result.out.splitlines()[0] == "5 document(s) match 'kim', the best 2 shown:"
    assert len(listed_ids(result.out)) == 2
    every = scrapy("search", "kim", env=env)
    assert every.out.splitlines()[0] == "5 document(s) match 'kim':"
    assert sorted(listed_ids(every.out)) == [1, 2, 3, 4, 5]
    # Prefixes are not scored: the results are the newest matches, and the line says so.
    prefix = scrapy("search", "zur*", "--limit", "1", env=env)
    assert prefix.out.splitlines()[0] == "2 document(s) match 'zur*', the newest 1 shown:"
    assert listed_ids(prefix.out) == [6]


def test_syntax_from_the_command_line(env: dict[str, str]) -> None:
    either = scrapy("search", "putin", "OR", "shoigu", env=env)
    assert sorted(listed_ids(either.out)) == [1, 2, 3]
    # A quoted query or words after -- may start with "-": they are exclusions, not options.
    for args in (("kim -shoigu -putin",), ("--", "kim", "-shoigu", "-putin")):
        result = scrapy("search", *args, env=env)
        assert result.code == 0, result.err
        assert sorted(listed_ids(result.out)) == [4, 5]
    phrase = scrapy("search", '"launch site"', "--json", env=env)
    assert [json.loads(line)["id"] for line in phrase.out.splitlines()] == [3]
    assert "[launch site]" in phrase.out or "[launch] [site]" in phrase.out
    accents = scrapy("search", "zurich", env=env)
    assert sorted(listed_ids(accents.out)) == [4, 6]
    assert "[Zurich]" in accents.out and "[Zürich]" in accents.out
    stems = scrapy("search", "missile", env=env)
    assert sorted(listed_ids(stems.out)) == [1, 2]


@pytest.mark.parametrize(
    ("query", "message"),
    [("-kim", "nothing to search for"), ("kim OR -putin", "OR"), ("ki*", "too short")],
)
def test_unsearchable_queries_are_one_line_errors(
    env: dict[str, str], query: str, message: str
) -> None:
    assert_clean_error(scrapy("search", query, env=env), message)


def test_match_line_says_what_counting_knows() -> None:
    exact = match_line("kim", MatchCount(2, exact=True), 2)
    capped = match_line("the", MatchCount(5000, exact=False), 20)
    stopped = match_line("the", MatchCount(1500, exact=False, stopped=True), 20)
    # Stopped before the results shown were counted: they match all the same.
    shown_more = match_line("the", MatchCount(3, exact=False, stopped=True), 20)
    assert exact == "2 document(s) match 'kim':"
    assert capped.startswith("more than 5,000 document(s) match 'the', the best 20 ")
    assert stopped.startswith("at least 1,500 document(s) match 'the', the best 20 ")
    assert shown_more.startswith("at least 20 document(s) match 'the', the best 20 ")
    newest = match_line("the", MatchCount(5000, exact=False), 20, scored=False)
    assert newest == "more than 5,000 document(s) match 'the', the newest 20 shown:"
