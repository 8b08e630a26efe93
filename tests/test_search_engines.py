"""SQLite (FTS5) and PostgreSQL index the same words and match the same documents.

The same corpus (the real articles of tests/data and the seeds, plus sentences in other
languages and scripts, each with its language) goes into a fresh database on each engine; every
document must yield the words ``search_words`` makes, stemmed for its language, at the same
positions on both (FTS5's vocabulary vs PostgreSQL's tsvector), and every query must match the
same documents.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from pipeline.db import queries as q
from pipeline.db.migrate import upgrade_to_head
from pipeline.db.search import count_matches, search_documents
from pipeline.db.search_words import (
    MAX_POSITIONS_PER_WORD,
    TITLE_TEXT_GAP,
    index_words,
    stemmer_name,
)
from pipeline.db.session import make_engine, make_session_factory

DATA = Path(__file__).resolve().parent / "data"
SEEDS = Path(__file__).resolve().parent.parent / "seeds"
# Each sentence with the language a crawl would give it; the last two have none.
MULTILINGUAL = [
    "Die Straßen in München waren überflutet; die größten Schäden seit 2002. Zürich meldete "
    "Hochwasser, Bürgermeister Müller sprach von einer Katastrophe.",
    "Le président français a déclaré que l'économie se redressait. Les élèves étaient très "
    "inquiets à Genève; « c'est grave », a-t-il dit.",
    "El presidente habló en la ciudad de México sobre las elecciones y la niñez.",
    "Prezydent Łukasz Wałęsa przemawiał w Gdańsku; żołnierze stali na ulicy.",
    "Президент России выступил в Москве; новости о ракетных испытаниях и йогурте.",
    "Ο πρωθυπουργός της Ελλάδας μίλησε στην Αθήνα για την οικονομία.",
    "Türkiye Cumhurbaşkanı İstanbul'da konuştu; ığdır şehrinde deprem oldu.",
    "Thủ tướng Việt Nam phát biểu tại Hà Nội về kinh tế.",
    "भारत के प्रधानमंत्री ने दिल्ली में भाषण दिया।",
    "قال الرئيس في القاهرة إن الاقتصاد يتحسن.",
    "東京で地震があり、北京でも報道された。中国外交部发言人表示。",
    "Missiles were launched; missile launches, running, runners. Ministers' well-known e-mail: "
    "press@example.com, see http://example.org/a_b?c=1 (3.5% of 1,000; 1e5) naïve café "
    "coöperation Søren Ærø Œuvre <b>bold</b> &amp; C++ don't O'Neill U.S.A. #tag @handle",
]
LANGUAGES = ["de", "fr", "es", "pl", "ru", "el", "tr", "vi", "hi", "ar", None, None]
QUERIES = [
    "shoigu",
    "missile",
    "missiles",
    "kim putin OR shoigu",
    "kim -putin",
    '"north korea"',
    '"foreign minister"',
    "minist*",
    "earthquake OR quake",
    "ministry -morocco",
    "zurich",
    "Zürich",
    "muller",
    "geneve",
    "elecciones",
    "Łukasz",
    "wałesa",
    "новости",
    "viet nam",
    "istanbul",
    "北京でも報道された",
    "example",
    "org",
    "don",
    "neill",
    "coöperation",
    "cooperation",
    "naive cafe",
    "the",
    "said NOT korea",
    '"the" -"said the"',
    # Stemmed for the document's language: German, French, Spanish, Russian, Polish.
    "Straße",
    "schaden",
    "katastrophen",
    "élève",
    "inquiet",
    "eleccion",
    "новость",
    "żołnierz",
]


def corpus() -> list[tuple[str, str, str | None]]:
    documents: list[tuple[str, str, str | None]] = [
        (path.stem, path.read_text(encoding="utf-8"), "en")
        for folder in (DATA / "articles", SEEDS)
        for path in sorted(folder.glob("*.txt"))
    ]
    documents += [
        (f"multilingual {n}", body, language)
        for n, (body, language) in enumerate(zip(MULTILINGUAL, LANGUAGES, strict=True))
    ]
    return documents


def fill(url: str) -> None:
    upgrade_to_head(url)
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session, session.begin():
            for n, (title, body, language) in enumerate(corpus()):
                q.add_document(
                    session,
                    url=f"https://example.org/{n}",
                    title=title,
                    source_kind="text",
                    text=body,
                    language=language,
                    text_digest=f"sha256:{n:064d}",
                    first_seen=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=n),
                )
    finally:
        engine.dispose()


@pytest.fixture
def both(tmp_path: Path, pg_url: str) -> Iterator[tuple[Session, Session]]:
    sqlite_url = f"sqlite:///{tmp_path / 'index.sqlite'}"
    fill(sqlite_url)
    fill(pg_url)
    lite, pg = make_engine(sqlite_url), make_engine(pg_url)
    try:
        with make_session_factory(lite)() as s1, make_session_factory(pg)() as s2:
            yield s1, s2
    finally:
        lite.dispose()
        pg.dispose()


def sqlite_words(session: Session) -> dict[tuple[int, str], dict[int, str]]:
    session.execute(
        text("CREATE VIRTUAL TABLE temp.words USING fts5vocab(main, documents_fts, instance)")
    )
    words: dict[tuple[int, str], dict[int, str]] = {}
    for term, doc, column, offset in session.execute(
        text("SELECT term, doc, col, offset FROM temp.words")
    ):
        words.setdefault((doc, column), {})[offset + 1] = term
    return words


def postgresql_words(session: Session) -> dict[tuple[int, str], dict[int, str]]:
    """The tsvector's words by field (weight A: title, B: text) and 1-based field position."""
    placed: dict[tuple[int, str], dict[int, str]] = {}
    rows = session.execute(
        text(
            "SELECT d.id, v.lexeme, v.positions, v.weights "
            "FROM documents d, unnest(d.search_vector) v"
        )
    )
    for document_id, lexeme, positions, weights in rows:
        for position, weight in zip(positions, weights, strict=True):
            column = {"A": "title", "B": "text"}[weight]
            placed.setdefault((document_id, column), {})[position] = lexeme
    # The text's positions follow the title's last one after a gap.
    words: dict[tuple[int, str], dict[int, str]] = {}
    for (document_id, column), by_position in placed.items():
        title_words = len(placed.get((document_id, "title"), {}))
        shift = 0 if column == "title" else title_words + TITLE_TEXT_GAP - 1
        words[(document_id, column)] = {p - shift: w for p, w in by_position.items()}
    return words


def python_words(session: Session) -> dict[tuple[int, str], dict[int, str]]:
    """What search_words makes of each stored title and text."""
    words: dict[tuple[int, str], dict[int, str]] = {}
    for row in session.execute(text("SELECT id, title, text, language FROM documents")):
        stemmer = stemmer_name(row.language)
        for column, value in (("title", row.title), ("text", row.text)):
            made = index_words(value, stemmer)
            if made:
                words[(row.id, column)] = dict(enumerate(made, 1))
    return words


def at_most_positions_a_word(
    words: dict[tuple[int, str], dict[int, str]], most: int
) -> dict[tuple[int, str], dict[int, str]]:
    kept: dict[tuple[int, str], dict[int, str]] = {}
    for field, by_position in words.items():
        seen: dict[str, int] = {}
        for position, word in sorted(by_position.items()):
            seen[word] = seen.get(word, 0) + 1
            if seen[word] <= most:
                kept.setdefault(field, {})[position] = word
    return kept


def test_both_engines_index_the_same_words(both: tuple[Session, Session]) -> None:
    lite, pg = both
    expected = python_words(lite)
    assert len(expected) == 2 * len(corpus())
    assert sqlite_words(lite) == expected
    # PostgreSQL keeps a word's first MAX_POSITIONS_PER_WORD positions (to_tsvector did too).
    assert postgresql_words(pg) == at_most_positions_a_word(expected, MAX_POSITIONS_PER_WORD)
    assert python_words(pg) == expected
    # Stemmed for each document's language, and never across languages.
    german = expected[(len(corpus()) - len(MULTILINGUAL) + 1, "text")]
    assert {"strass", "munch", "schad"} <= set(german.values())
    # A language without a stemmer keeps its words; an unknown one is stemmed as English.
    vietnamese = expected[(len(corpus()) - len(MULTILINGUAL) + 8, "text")]
    assert {"tuong", "phat", "bieu"} <= set(vietnamese.values())
    unknown = expected[(len(corpus()), "text")]
    assert {"missil", "run", "runner"} <= set(unknown.values())


def test_both_engines_match_the_same_documents(both: tuple[Session, Session]) -> None:
    lite, pg = both
    for query in QUERIES:
        on_sqlite = {hit.document_id for hit in search_documents(lite, query, limit=1000)}
        on_postgresql = {hit.document_id for hit in search_documents(pg, query, limit=1000)}
        assert on_sqlite == on_postgresql, query
        assert count_matches(lite, query) == count_matches(pg, query), query
        assert on_sqlite, f"{query!r} should match something in this corpus"
