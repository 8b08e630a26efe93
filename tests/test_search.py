"""Full-text search on both engines: syntax, stemming, accents, counts, safety, filters, sync."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.orm import Session, sessionmaker

from pipeline.db import queries as q
from pipeline.db import search_postgresql, search_sqlite
from pipeline.db.models import Document
from pipeline.db.search import MatchCount, QueryError, count_matches, search_documents
from pipeline.db.search_filters import search_filters
from pipeline.db.search_languages import archive_stemmers
from pipeline.db.search_match import IndexQuery, index_query
from pipeline.db.search_query import parse_query

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
Factory = sessionmaker[Session]


def indexed(session: Session, query: str) -> IndexQuery:
    """``query`` as the search runs it: in the index's words, for the archive's languages."""
    return index_query(parse_query(query), archive_stemmers(session))


def add(session: Session, n: int, text: str, **fields: object) -> int:
    values: dict[str, object] = {
        "url": f"https://news.example.com/story/{n}",
        "title": f"Headline {n}",
        "source_kind": "text",
        "text": text,
        "language": "en",
        "text_digest": f"sha256:{n:064d}",
        "first_seen": T0 + timedelta(days=n),
    }
    values.update(fields)
    return q.add_document(session, **values)


@pytest.fixture
def corpus(session_factory: Factory) -> dict[str, int]:
    with session_factory() as s, s.begin():
        ids = {
            "flood2": add(
                s, 1, "The flood rose. Flood warnings everywhere; the flood kept rising."
            ),
            "flood1": add(s, 2, "A quiet town heard about a flood far away and some rain."),
            "budget": add(
                s,
                3,
                "Parliament passed the budget after a long debate on taxes.",
                site="Daily Planet",
                published=datetime(2023, 12, 24, tzinfo=UTC),
            ),
            "budget_copy": add(
                s,
                4,
                "Parliament passed the budget after a long debate on taxes today.",
                url="https://www.mirror.example/copy",
            ),
            "unicode": add(s, 5, "Die Straße in München war überflutet. 東京 news."),
        }
        s.execute(
            update(Document)
            .where(Document.id == ids["budget_copy"])
            .values(duplicate_of=ids["budget"], similarity=0.93)
        )
    return ids


def ids_of(session_factory: Factory, query: str, **kwargs: object) -> list[int]:
    with session_factory() as s:
        return [hit.document_id for hit in search_documents(s, query, **kwargs)]  # type: ignore[arg-type]


def test_ranking_more_mentions_first(session_factory: Factory, corpus: dict[str, int]) -> None:
    assert ids_of(session_factory, "flood") == [corpus["flood2"], corpus["flood1"]]


def test_hit_fields_and_snippet(session_factory: Factory, corpus: dict[str, int]) -> None:
    with session_factory() as s:
        hits = search_documents(s, "rain")
    assert len(hits) == 1
    hit = hits[0]
    assert hit.document_id == corpus["flood1"]
    assert hit.url == "https://news.example.com/story/2"
    assert hit.title == "Headline 2"
    assert hit.first_seen == T0 + timedelta(days=2)
    assert "[rain]" in hit.snippet
    assert hit.score > 0


def test_terms_are_anded_and_phrases_ordered(
    session_factory: Factory, corpus: dict[str, int]
) -> None:
    assert ids_of(session_factory, "flood rain") == [corpus["flood1"]]
    assert ids_of(session_factory, '"passed the budget"') == [corpus["budget"]]
    assert ids_of(session_factory, '"budget the passed"') == []
    assert ids_of(session_factory, "passed-the-budget") == [corpus["budget"]]


def test_title_matches(session_factory: Factory, corpus: dict[str, int]) -> None:
    assert ids_of(session_factory, "headline 3") == [corpus["budget"]]


def test_collapse_duplicates(session_factory: Factory, corpus: dict[str, int]) -> None:
    assert ids_of(session_factory, "parliament") == [corpus["budget"]]
    both = ids_of(session_factory, "parliament", collapse_duplicates=False)
    assert sorted(both) == sorted([corpus["budget"], corpus["budget_copy"]])
    with session_factory() as s:
        copy = search_documents(s, "today", collapse_duplicates=False)
        # --all with no other filter: the count query names its table itself.
        assert count_matches(s, "parliament", collapse_duplicates=False).documents == 2
        assert count_matches(s, "parliament").documents == 1
    assert copy[0].duplicate_of == corpus["budget"]


def test_site_filter(session_factory: Factory, corpus: dict[str, int]) -> None:
    kwargs = {"collapse_duplicates": False}
    assert ids_of(session_factory, "budget", site="daily planet", **kwargs) == [corpus["budget"]]
    assert ids_of(session_factory, "budget", site="mirror.example", **kwargs) == [
        corpus["budget_copy"]
    ]
    assert ids_of(session_factory, "budget", site="https://www.mirror.example/", **kwargs) == [
        corpus["budget_copy"]
    ]
    assert ids_of(session_factory, "flood", site="news.example.com") == [
        corpus["flood2"],
        corpus["flood1"],
    ]
    # Host matching is exact: no suffix or LIKE-wildcard surprises.
    assert ids_of(session_factory, "flood", site="example.com") == []
    assert ids_of(session_factory, "flood", site="news_example.com") == []
    with pytest.raises(QueryError, match="empty site"):
        ids_of(session_factory, "flood", site="  ")


def test_since_until(session_factory: Factory, corpus: dict[str, int]) -> None:
    # "budget" was published 2023-12-24; the flood documents were first seen in March 2024.
    before = datetime(2024, 1, 1, tzinfo=UTC)
    assert ids_of(session_factory, "parliament", until=before) == [corpus["budget"]]
    assert ids_of(session_factory, "parliament", since=before) == []
    day2 = T0 + timedelta(days=2)
    assert ids_of(session_factory, "flood", since=day2) == [corpus["flood1"]]
    assert ids_of(session_factory, "flood", until=day2 - timedelta(seconds=1)) == [corpus["flood2"]]
    assert ids_of(session_factory, "flood", since=day2, until=day2) == [corpus["flood1"]]
    with pytest.raises(QueryError, match="after"):
        ids_of(session_factory, "flood", since=day2, until=T0)


def test_limit(session_factory: Factory, corpus: dict[str, int]) -> None:
    assert ids_of(session_factory, "flood", limit=1) == [corpus["flood2"]]
    with pytest.raises(QueryError, match="limit"):
        ids_of(session_factory, "flood", limit=0)


HOSTILE = [
    '"',
    '"flood',
    'flood"',
    "AND",
    "flood AND",
    "OR flood NOT",
    "*",
    "flo*",
    "NEAR(flood rain)",
    "flood NEAR/2 rain",
    "title:flood",
    "^flood",
    "-flood",
    "flood' OR '1'='1",
    "'; DROP TABLE documents; --",
    "flood) OR (1=1",
    "!flood & rain | (x <-> y):*",
    "\\flood\\",
    "\x00flood",
    "(((",
    "straße",
    "東京",
    "🙂 flood",
    "word " * 2000,
    " ".join(f"w{i}" for i in range(2000)),  # 10 kB of distinct words
    ("flood " + "x" * 10_000),  # one 10 kB word
]


# The only errors a hostile query may cause: nothing left to search for, or a bare prefix.
ACCEPTED_ERRORS = ("empty search query", "nothing to search for", "is too short")


@pytest.mark.parametrize("query", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_queries_never_raise_syntax_errors(
    session_factory: Factory, corpus: dict[str, int], query: str
) -> None:
    with session_factory() as s:
        try:
            hits = search_documents(s, query)
            counted = count_matches(s, query)
        except QueryError as error:
            assert any(accepted in str(error) for accepted in ACCEPTED_ERRORS), str(error)
            hits, counted = [], None
    assert all(hit.document_id in corpus.values() for hit in hits)
    if counted is not None:
        assert counted.documents == len(hits) and counted.exact
    with session_factory() as s:
        assert q.count_rows(s)["documents"] == len(corpus)


def test_hostile_queries_match_as_words(session_factory: Factory, corpus: dict[str, int]) -> None:
    assert ids_of(session_factory, "flood OR") == []  # a trailing OR is the word "or"
    # flood OR the phrase "1 1": the quotes and = are punctuation.
    assert ids_of(session_factory, "flood' OR '1'='1") == [corpus["flood2"], corpus["flood1"]]
    assert ids_of(session_factory, '"flood') == [corpus["flood2"], corpus["flood1"]]
    assert ids_of(session_factory, "straße") == [corpus["unicode"]]
    assert ids_of(session_factory, "STRASSE") == []
    assert ids_of(session_factory, "MÜNCHEN") == [corpus["unicode"]]
    assert ids_of(session_factory, "東京") == [corpus["unicode"]]


@pytest.mark.parametrize("query", ["", "   ", '""', "* ! ?", "-- ;", "\n\t"])
def test_empty_queries(session_factory: Factory, query: str) -> None:
    with session_factory() as s, pytest.raises(QueryError, match=r"^empty search query$"):
        search_documents(s, query)


def test_fts_follows_update_and_delete(session_factory: Factory, corpus: dict[str, int]) -> None:
    with session_factory() as s, s.begin():
        q.update_document(s, corpus["flood1"], text="Now it is about drought.", title="Dry")
    assert ids_of(session_factory, "flood") == [corpus["flood2"]]
    assert ids_of(session_factory, "drought") == [corpus["flood1"]]
    assert ids_of(session_factory, "dry") == [corpus["flood1"]]
    with session_factory() as s, s.begin():
        s.execute(delete(Document).where(Document.id == corpus["flood2"]))
    assert ids_of(session_factory, "flood") == []
    with session_factory() as s, s.begin():
        new = add(s, 9, "A new flood.")
    assert ids_of(session_factory, "flood") == [new]


def test_dedup_updates_keep_documents_searchable(
    session_factory: Factory, corpus: dict[str, int]
) -> None:
    with session_factory() as s, s.begin():
        s.execute(update(Document).where(Document.id == corpus["flood1"]).values(similarity=0.5))
    assert ids_of(session_factory, "rain") == [corpus["flood1"]]


@pytest.fixture
def news(session_factory: Factory) -> dict[str, int]:
    texts = {
        "launch": "North Korea launched two missiles into the sea on Monday.",
        "test": "A missile test was reported by the ministry of defence.",
        "zurich": "Talks in Zürich between the foreign ministers ended without a deal.",
        "geneva": "Negotiators met in Genève; the foreign minister praised the talks.",
        "putin": "Putin received Kim in Vladivostok; the talks lasted four hours.",
        "shoigu": "Shoigu visited Pyongyang and watched a parade with Kim.",
        "market": "Markets rallied after the central bank kept rates unchanged.",
    }
    with session_factory() as s, s.begin():
        return {name: add(s, n, text) for n, (name, text) in enumerate(texts.items(), 10)}


def names(session_factory: Factory, news: dict[str, int], query: str, **kwargs: object) -> set[str]:
    found = set(ids_of(session_factory, query, **kwargs))
    return {name for name, document_id in news.items() if document_id in found}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Stemming: singular finds plural and back; "minister" finds "ministers".
        ("missile", {"launch", "test"}),
        ("missiles", {"launch", "test"}),
        ("launching", {"launch"}),
        ("minister", {"zurich", "geneva"}),
        # Accents: either spelling finds both.
        ("Zurich", {"zurich"}),
        ("zürich", {"zurich"}),
        ("GENEVE", {"geneva"}),
        # OR binds tighter than AND; -word and NOT exclude.
        ("putin OR shoigu", {"putin", "shoigu"}),
        ("kim putin OR shoigu", {"putin", "shoigu"}),
        ("kim -putin", {"shoigu"}),
        ("talks NOT zurich", {"geneva", "putin"}),
        ('talks -"foreign minister"', {"putin"}),
        # Phrases keep word order and adjacency; their words are stemmed too.
        ('"foreign minister"', {"zurich", "geneva"}),
        ('"minister foreign"', set()),
        ('"missile tests"', {"test"}),
        # Prefixes match stems: "negotiators" is indexed as "negoti", so "negotiat*" would
        # miss it (README, Search).
        ("negot*", {"geneva"}),
        ("vladi*", {"putin"}),
        ("pyong* OR vladi*", {"putin", "shoigu"}),
        ("zür*", {"zurich"}),
    ],
)
def test_search_syntax_on_both_engines(
    session_factory: Factory, news: dict[str, int], query: str, expected: set[str]
) -> None:
    assert names(session_factory, news, query) == expected
    with session_factory() as s:
        assert count_matches(s, query).documents == len(expected)


def test_snippets_mark_stemmed_words(session_factory: Factory, news: dict[str, int]) -> None:
    with session_factory() as s:
        (hit,) = search_documents(s, "missile launch")
    assert hit.document_id == news["launch"]
    assert "[launched]" in hit.snippet and "[missiles]" in hit.snippet


def test_count_is_honest_about_limits(session_factory: Factory, news: dict[str, int]) -> None:
    with session_factory() as s:
        assert len(search_documents(s, "the", limit=2)) == 2
        counted = count_matches(s, "the")
        capped = count_matches(s, "the", cap=3)
        assert count_matches(s, "the", cap=6).exact
        with pytest.raises(QueryError, match="cap"):
            count_matches(s, "the", cap=0)
    assert counted.exact and counted.documents == 6
    assert not capped.exact and capped.documents == 3


@pytest.mark.parametrize("engine", [search_sqlite, search_postgresql], ids=["sqlite", "pg"])
def test_ranking_reads_only_the_newest_candidates(
    session_factory: Factory, news: dict[str, int], engine: object
) -> None:
    with session_factory() as s:
        if s.get_bind().dialect.name != engine.__name__.rsplit("_", 1)[-1]:  # type: ignore[attr-defined]
            pytest.skip("engine module of the other database")
        query = indexed(s, "the")
        filters = search_filters(None, None, None, True)
        every = engine.ranked_ids(s, query, filters, 10, candidates=None)  # type: ignore[attr-defined]
        newest = engine.ranked_ids(s, query, filters, 10, candidates=2)  # type: ignore[attr-defined]
    assert len(every) == 6
    newest_two = sorted(document_id for document_id, _ in every)[-2:]
    assert sorted(document_id for document_id, _ in newest) == newest_two
    scores = [score for _, score in newest]
    assert scores == sorted(scores, reverse=True)


def test_planner_settings_do_not_outlive_a_search(
    session_factory: Factory, news: dict[str, int]
) -> None:
    with session_factory() as s:
        if s.get_bind().dialect.name != "postgresql":
            pytest.skip("PostgreSQL planner settings")
        restored = ("max_parallel_workers_per_gather", "jit")
        before = {setting: s.scalar(text(f"SHOW {setting}")) for setting in restored}
        assert search_documents(s, "kim") and count_matches(s, "kim").documents == 2
        for setting in ("enable_seqscan", "enable_indexscan", "enable_bitmapscan"):
            assert s.scalar(text(f"SHOW {setting}")) == "on"
        # The search turns parallel workers and JIT off while it runs, then back to what they were.
        assert {setting: s.scalar(text(f"SHOW {setting}")) for setting in restored} == before


def test_sqlite_scores_rare_terms_only(
    session_factory: Factory, news: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_factory() as s:
        if s.get_bind().dialect.name != "sqlite":
            pytest.skip("bm25 document counts are SQLite's")
        query = indexed(s, "kim OR the")
        filters = search_filters(None, None, None, True)
        # Every term rare: the candidates' scores are the scores of ranking every match.
        every = search_sqlite.ranked_ids(s, query, filters, 10, candidates=None)
        newest = search_sqlite.ranked_ids(s, query, filters, 10)
        # "the" (6 documents) is now common, "kim" (2) still rare.
        monkeypatch.setattr(search_sqlite, "SCORED_TERM_MAX_DOCUMENTS", 3)
        rare_only = search_sqlite.ranked_ids(s, query, filters, 10)
        common_only = search_sqlite.ranked_ids(s, indexed(s, "the"), filters, 10)
    assert [(i, round(score, 9)) for i, score in newest] == [
        (i, round(score, 9)) for i, score in every
    ]
    assert len(every) == 7
    assert {i for i, _ in rare_only[:2]} == {news["putin"], news["shoigu"]}
    assert all(score > 0 for _, score in rare_only[:2])
    unscored = rare_only[2:]
    assert [i for i, _ in unscored] == sorted((i for i, _ in unscored), reverse=True)
    assert {score for _, score in unscored} == {0.0}
    assert [i for i, _ in common_only] == sorted(
        (i for i, _ in every if i != news["shoigu"]), reverse=True
    )
    assert {score for _, score in common_only} == {0.0}


def test_postgresql_scores_only_queries_with_few_matches(
    session_factory: Factory, news: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_factory() as s:
        if s.get_bind().dialect.name != "postgresql":
            pytest.skip("planner estimates are PostgreSQL's")
        # The estimates come from the table's statistics, as on a real archive.
        s.execute(text("ANALYZE documents"))
        filters = search_filters(None, None, None, True)
        scored = search_postgresql.ranked_ids(s, indexed(s, "the"), filters, 10)
        every = search_postgresql.ranked_ids(s, indexed(s, "the"), filters, 10, candidates=None)
        # "the" (6 documents) is now common, "kim" (2) still rare.
        monkeypatch.setattr(search_postgresql, "SCORED_TERM_MAX_DOCUMENTS", 4)
        common = search_postgresql.ranked_ids(s, indexed(s, "the"), filters, 3)
        counted = count_matches(s, "the")
        rare = search_postgresql.ranked_ids(s, indexed(s, "kim"), filters, 10)
        # The estimate counts the filters (with their parameters): no document is on this site.
        on_one_site = search_filters("nowhere.example", None, None, True)
        estimates = [
            search_postgresql._estimated_matches(s, indexed(s, "the"), chosen)
            for chosen in (filters, on_one_site)
        ]
        filtered = search_postgresql.ranked_ids(s, indexed(s, "the"), on_one_site, 10)
    assert sorted(scored) == sorted(every) and len(every) == 6
    assert all(score > 0 for _, score in scored)
    newest_three = sorted((i for i, _ in every), reverse=True)[:3]
    assert common == [(i, 0.0) for i in newest_three]
    assert counted.exact and counted.documents == 6
    assert {i for i, _ in rare} == {news["putin"], news["shoigu"]}
    assert all(score > 0 for _, score in rare)
    assert estimates[1] < estimates[0] and filtered == []


def analysed_reports(s: Session, stormy: Callable[[int], bool]) -> list[int]:
    """400 daily weather reports, a storm in those ``stormy`` picks, and fresh statistics."""
    with s.begin():
        ids = [
            add(s, n, f"Daily report {n} on the weather." + (" A storm." if stormy(n) else ""))
            for n in range(400)
        ]
    # The planner's estimates come from the table's statistics, as on a real archive.
    s.execute(text("ANALYZE documents"))
    return ids


def test_postgresql_walks_newest_first_only_for_words_its_statistics_count(
    session_factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_factory() as s:
        if s.get_bind().dialect.name != "postgresql":
            pytest.skip("planner estimates are PostgreSQL's")
        analysed_reports(s, stormy=lambda n: False)
        filters = search_filters(None, None, None, True)
        monkeypatch.setattr(search_postgresql, "SCORED_TERM_MAX_DOCUMENTS", 1)
        # "weather" is in every document's statistics; "hurricane" in none, so its estimate
        # is the planner's default guess (0.5 % of the rows): walking newest first for it
        # would read the whole table to find nothing.
        weather = search_postgresql._estimate(s, indexed(s, "weather"), filters).common
        hurricane = search_postgresql._estimate(s, indexed(s, "hurricane"), filters).common
        estimate = search_postgresql._estimated_matches(s, indexed(s, "hurricane"), filters)
    assert weather and not hurricane and estimate >= 1


def test_postgresql_newest_window_falls_back_to_every_id(session_factory: Factory) -> None:
    with session_factory() as s:
        if s.get_bind().dialect.name != "postgresql":
            pytest.skip("planner estimates are PostgreSQL's")
        # The first 100 reports alone mention a storm.
        ids = analysed_reports(s, stormy=lambda n: n < 100)
        filters = search_filters(None, None, None, True)
        storm = indexed(s, "storm")
        window = search_postgresql._estimate(s, storm, filters).window(2)
        # Two candidates: the newest ids that should hold them hold no storm at all.
        stormy = search_postgresql.ranked_ids(s, storm, filters, 3, candidates=2)
        every_storm = search_postgresql.ranked_ids(s, storm, filters, 3, candidates=None)
        weather = search_postgresql.ranked_ids(s, indexed(s, "weather"), filters, 3, candidates=2)
        prefix = search_postgresql.ranked_ids(s, indexed(s, "weat*"), filters, 3)
    assert window is not None and window < 300
    # The newest two storms, ranked: the window's answer was thrown away, not returned short.
    assert {i for i, _ in stormy} == set(ids[98:100])
    assert {i for i, _ in every_storm} <= set(ids[:100]) and len(every_storm) == 3
    assert {i for i, _ in weather} == set(ids[-2:])
    assert all(score > 0 for _, score in stormy + weather)
    # Prefixes only are not scored, as on SQLite: the newest matches, score 0.
    assert prefix == [(i, 0.0) for i in reversed(ids[-3:])]


def test_postgresql_counts_common_words_newest_first_within_its_time(
    session_factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_factory() as s:
        if s.get_bind().dialect.name != "postgresql":
            pytest.skip("counting by ranges of ids is PostgreSQL's")
        analysed_reports(s, stormy=lambda n: n % 2 == 1)
        monkeypatch.setattr(search_postgresql, "SCORED_TERM_MAX_DOCUMENTS", 1)
        monkeypatch.setattr(search_postgresql, "COUNT_FIRST_IDS", 7)
        # Ranges of 7, 14, 28 ... ids, newest first, down to the oldest document.
        every = count_matches(s, "weather", seconds=None)
        storms = count_matches(s, "storm", seconds=None)
        capped = count_matches(s, "weather", cap=100, seconds=None)
        # No time at all: the first range is counted, then counting stops and says so.
        stopped = count_matches(s, "weather", seconds=0)
        # The cap reached within the first range: exact as ever, not stopped.
        reached = count_matches(s, "weather", cap=5, seconds=0)
    assert every == MatchCount(400, exact=True) and storms == MatchCount(200, exact=True)
    assert capped == MatchCount(100, exact=False)
    assert stopped == MatchCount(7, exact=False, stopped=True)
    assert reached == MatchCount(5, exact=False)
