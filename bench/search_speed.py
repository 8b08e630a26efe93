"""Search speed on a large index: p50/p95 of ranked search and match counting.

    python bench/search_speed.py [--docs 1000000] [--db URL] [--queries 40] [--baseline 10]

Builds (or reuses) an index of synthetic documents and times ``pipeline.db.search`` as the
``search`` command calls it: ``search_documents`` (top 20 with snippets) and ``count_matches``,
for rare words, common words, several words, phrases of common words, OR and prefix queries.
Two baselines, measured in the same run on the same index for the first ``--baseline N``
queries of each kind, right after "again", the search timed once more on those queries (the
timed search read them first, so their pages are cached for the baselines): "every" ranks
every match (the search before RANK_CANDIDATES); on SQLite
"bm25new" is the search before scored terms: bm25() of the whole query on the newest
RANK_CANDIDATES matches in one statement, which makes FTS5 count every document holding each
query term, however common.

Text: title and body words drawn from a Zipf-Mandelbrot distribution (exponent 1.0, shift 2.7)
over a vocabulary of ~150 English function and news words followed by a million pseudo-words,
so "the" is in every document and most pseudo-words in a handful; bodies of 50 to 600 words
(mean ~250), sentences of 15 words. 5 % of the documents are near-duplicates (``duplicate_of``
set), which the default search hides. Languages as in a mostly English archive with some
German and French (LANGUAGE_SHARES): documents are stemmed for theirs, and every query word is
stemmed three ways (English, German, French; unknown counts as English).

--db: a SQLite URL or a PostgreSQL database URL. An index that already holds documents is
reused as it is (build once, time often); an empty one is built; without --db a temporary
SQLite file is built and deleted afterwards. Building is a bulk load: SQLite inserts in large
transactions (the FTS5 triggers index each row as a crawl's inserts do); PostgreSQL COPYs the
rows with their search vectors (made in Python, as the writer makes them) with the GIN index
dropped, recreates it with the migration's definition, then ANALYZEs.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bench.scratch_db import database_bytes
from pipeline.db import search_snippet
from pipeline.db.migrate import upgrade_to_head
from pipeline.db.models import Document
from pipeline.db.search import count_matches, search_documents
from pipeline.db.search_languages import archive_stemmers
from pipeline.db.search_match import IndexQuery, index_query
from pipeline.db.search_query import SearchQuery, parse_query
from pipeline.db.search_words import pg_search_vector
from pipeline.db.session import make_engine, make_session_factory

# The head of the distribution: English function words, then a few news words.
FUNCTION_WORDS = """
the of and to a in that is was he for it with as his on be at by i this had not are but
from or have an they which one you were her all she there would their we him been has
when who will more no if out so said what up its about into than them can only other
new some could time these two may then do first any my now such like our over man me
even most made after also did many before must through back years where much your way
well down should because each just those people how too little state good very make
world still own see men work long get here between both life being under never day same
another know while last might us great old year off come since against go came right
used take three minister government president missile missiles talks election police
court
""".split()  # noqa: SIM905
VOCABULARY = 1_000_000
ZIPF_EXPONENT = 1.0
ZIPF_SHIFT = 2.7
SENTENCE_WORDS = 15
TITLE_WORDS = 8
DUPLICATE_SHARE = 0.05
SITES = [f"outlet{n}.example" for n in range(50)]
LANGUAGE_SHARES = (("en", 0.85), ("de", 0.08), ("fr", 0.04), (None, 0.03))
START = datetime(2020, 1, 1, tzinfo=UTC)
BATCH = 10_000
RESULTS = 20


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=1_000_000, help="documents to build")
    parser.add_argument("--db", help="SQLite or PostgreSQL database URL (reused if filled)")
    parser.add_argument("--queries", type=int, default=40, help="timed queries per kind")
    parser.add_argument("--baseline", type=int, default=10, help="baseline queries per kind")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.docs < 1000 or args.queries < 1 or args.baseline < 0:
        parser.error("--docs must be at least 1000, --queries positive, --baseline >= 0")
    return args


def pseudo_words(count: int, rng: random.Random) -> list[str]:
    """Distinct pronounceable pseudo-words, some with Latin accents (folded by search)."""
    onsets = ["b", "d", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "st", "gr", "ch"]
    vowels = ["a", "e", "i", "o", "u", "ä", "é", "ö"]
    seen: set[str] = set(FUNCTION_WORDS)
    out: list[str] = []
    while len(out) < count:
        word = "".join(
            rng.choice(onsets) + rng.choice(vowels) for _ in range(rng.choice((2, 3, 3, 4)))
        )
        word += rng.choice(("", "n", "s", "r", "t"))
        if word not in seen:
            seen.add(word)
            out.append(word)
    return out


class Corpus:
    def __init__(self, seed: int) -> None:
        rng = random.Random(seed)
        self.words = np.array(FUNCTION_WORDS + pseudo_words(VOCABULARY, rng), dtype=object)
        ranks = np.arange(1, len(self.words) + 1, dtype=np.float64)
        weights = 1.0 / (ranks + ZIPF_SHIFT) ** ZIPF_EXPONENT
        self.cdf = np.cumsum(weights / weights.sum())
        self.rng = np.random.default_rng(seed)

    def draw(self, count: int) -> np.ndarray:
        # Sorted keys make the binary searches walk the table in order (cache-friendly); the
        # permutation puts the words back in random order.
        uniform = self.rng.random(count)
        order = np.argsort(uniform)
        picks = np.empty(count, dtype=np.int64)
        picks[order] = np.searchsorted(self.cdf, uniform[order])
        return self.words[np.minimum(picks, len(self.words) - 1)]

    def documents(self, count: int) -> Iterator[tuple[str, str]]:
        for start in range(0, count, BATCH):
            yield from self._batch(min(BATCH, count - start))

    def _batch(self, count: int) -> Iterator[tuple[str, str]]:
        # One draw per batch: per-document numpy calls would cost more than the words.
        lengths = np.clip(self.rng.normal(250, 100, count), 50, 600).astype(int)
        words = self.draw(int(lengths.sum()) + TITLE_WORDS * count)
        words[SENTENCE_WORDS - 1 :: SENTENCE_WORDS] += "."
        drawn: list[str] = words.tolist()
        at = 0
        for length in lengths.tolist():
            title = " ".join(drawn[at : at + TITLE_WORDS]).replace(".", "").capitalize()
            body = " ".join(drawn[at + TITLE_WORDS : at + TITLE_WORDS + length])
            at += TITLE_WORDS + length
            yield title, body.capitalize().rstrip(".") + "."


Row = tuple[int, str, str, str, str, str, str, int, datetime, int | None, str | None]


def rows(corpus: Corpus, count: int) -> Iterator[Row]:
    rng = random.Random(1)
    languages = [language for language, _ in LANGUAGE_SHARES]
    shares = [share for _, share in LANGUAGE_SHARES]
    for n, (title, body) in enumerate(corpus.documents(count), 1):
        duplicate = rng.randrange(1, n) if n > 1 and rng.random() < DUPLICATE_SHARE else None
        site = rng.choice(SITES)
        yield (
            n,
            f"https://{site}/news/{n}",
            title,
            site,
            "html",
            body,
            f"sha256:{n:064x}",
            body.count(" ") + 1,
            START + timedelta(minutes=n),
            duplicate,
            rng.choices(languages, shares)[0],
        )


COLUMNS = (
    "id, url, title, site, source_kind, text, text_digest, word_count, first_seen, duplicate_of, "
    "language"
)


def build_sqlite(engine: Engine, corpus: Corpus, count: int) -> None:
    placeholders = ", ".join("?" * len(COLUMNS.split(",")))
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute("PRAGMA synchronous = OFF")
        batch: list[Row] = []
        for row in rows(corpus, count):
            batch.append(row)
            if len(batch) == BATCH:
                cursor.executemany(
                    f"INSERT INTO documents ({COLUMNS}) VALUES ({placeholders})", batch
                )
                connection.commit()
                batch.clear()
                progress(row[0], count)
        if batch:
            cursor.executemany(f"INSERT INTO documents ({COLUMNS}) VALUES ({placeholders})", batch)
        connection.commit()
        cursor.execute("INSERT INTO documents_fts(documents_fts) VALUES ('optimize')")
        connection.commit()
        cursor.execute("ANALYZE")
        connection.commit()
    finally:
        connection.close()


def build_postgresql(engine: Engine, corpus: Corpus, count: int) -> None:
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        index = cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_documents_search_vector'"
        ).fetchone()[0]
        cursor.execute("DROP INDEX ix_documents_search_vector")
        with cursor.copy(f"COPY documents ({COLUMNS}, search_vector) FROM STDIN") as copy:
            for row in rows(corpus, count):
                copy.write_row((*row, pg_search_vector(row[2], row[5], row[10])))
                if row[0] % BATCH == 0:
                    progress(row[0], count)
        connection.commit()
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute(index)
        cursor.execute("SELECT setval(pg_get_serial_sequence('documents', 'id'), %s)", (count,))
        connection.commit()
        connection.driver_connection.autocommit = True  # type: ignore[union-attr]
        cursor.execute("VACUUM ANALYZE documents")
    finally:
        connection.close()


def progress(done: int, total: int) -> None:
    if done % (BATCH * 10) == 0:
        print(f"  loaded {done:,} / {total:,}", flush=True)


def document_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(Document)) or 0)


def query_sets(corpus: Corpus, per_kind: int, seed: int) -> dict[str, list[str]]:
    rng = random.Random(seed)
    words = corpus.words
    head = len(FUNCTION_WORDS)

    def ranked(low: int, high: int) -> str:
        return str(words[rng.randrange(low, high)])

    kinds: dict[str, Callable[[], str]] = {
        "rare": lambda: ranked(200_000, VOCABULARY),
        "common": lambda: ranked(0, 60),
        "medium": lambda: ranked(head, head + 2_000),
        "two words": lambda: f"{ranked(0, 200)} {ranked(head, head + 5_000)}",
        "three words": lambda: " ".join(ranked(0, 3_000) for _ in range(3)),
        "phrase": lambda: f'"{ranked(0, 30)} {ranked(0, 30)}"',
        "OR, -word": lambda: f"{ranked(head, 3_000)} OR {ranked(head, 3_000)} -{ranked(0, 50)}",
        "prefix": lambda: ranked(head, 20_000)[:4] + "*",
    }
    return {kind: [make() for _ in range(per_kind)] for kind, make in kinds.items()}


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def rank_every_match(session: Session, query: str) -> None:
    """The baseline: search_documents' work with every match scored (no candidate bound)."""
    from pipeline.db import search_postgresql, search_sqlite
    from pipeline.db.search_filters import search_filters

    sqlite = session.get_bind().dialect.name == "sqlite"
    engine = search_sqlite if sqlite else search_postgresql
    parsed, indexed = parsed_and_indexed(session, query)
    filters = search_filters(None, None, None, collapse=True)
    ranked = engine.ranked_ids(session, indexed, filters, RESULTS, candidates=None)
    snippets_of(session, parsed, [document_id for document_id, _ in ranked])


def parsed_and_indexed(session: Session, query: str) -> tuple[SearchQuery, IndexQuery]:
    parsed = parse_query(query)
    return parsed, index_query(parsed, archive_stemmers(session))


def snippets_of(session: Session, parsed: SearchQuery, ids: list[int]) -> None:
    columns = (Document.id, Document.text, Document.language)
    found = session.execute(select(*columns).where(Document.id.in_(ids)))
    search_snippet.snippets({row.id: (row.text, row.language) for row in found}, parsed)


def rank_newest_whole_query(session: Session, query: str) -> None:
    """SQLite's ranking before scored terms: bm25 of every query term on the newest matches."""
    from sqlalchemy import text

    from pipeline.db.search_match import fts5_match
    from pipeline.db.search_settings import RANK_CANDIDATES, TITLE_WEIGHT

    parsed, indexed = parsed_and_indexed(session, query)
    statement = text(
        "SELECT id, score FROM (SELECT documents_fts.rowid AS id, "
        "-bm25(documents_fts, :weight, 1.0) AS score FROM documents_fts "
        "WHERE documents_fts MATCH :match AND EXISTS (SELECT 1 FROM documents "
        "INDEXED BY ix_documents_duplicate_of WHERE documents.duplicate_of IS NULL "
        "AND documents.id = documents_fts.rowid) ORDER BY documents_fts.rowid DESC "
        "LIMIT :candidates) ORDER BY score DESC, id LIMIT :limit"
    )
    parameters = {
        "weight": TITLE_WEIGHT,
        "match": fts5_match(indexed),
        "candidates": RANK_CANDIDATES,
        "limit": RESULTS,
    }
    snippets_of(session, parsed, [int(row.id) for row in session.execute(statement, parameters)])


def measure(engine: Engine, queries: dict[str, list[str]], baseline: int) -> None:
    factory = make_session_factory(engine)
    sqlite = engine.dialect.name == "sqlite"
    print(f"load average before timing: {os.getloadavg()[0]:.1f} (2 cores shared)")
    print(
        f"\n{'kind':<12} {'search p50':>10} {'p95':>7} {'count p50':>10} {'p95':>7} "
        f"{'both p95':>9} {'matches (capped)':>17} {'again p50':>10} {'p95':>8}"
        f" {'every p50':>10} {'p95':>8}" + (f" {'bm25new p50':>10} {'p95':>8}" if sqlite else "")
    )
    with factory() as session:
        for kind, texts in queries.items():
            for query in texts[:3]:  # warm the caches and the connection
                search_documents(session, query, limit=RESULTS)
            search_ms: list[float] = []
            count_ms: list[float] = []
            both_ms: list[float] = []
            matches: list[int] = []
            for query in texts:
                started = time.perf_counter()
                search_documents(session, query, limit=RESULTS)
                searched = time.perf_counter()
                matches.append(count_matches(session, query).documents)
                counted = time.perf_counter()
                search_ms.append((searched - started) * 1000)
                count_ms.append((counted - searched) * 1000)
                both_ms.append((counted - started) * 1000)
            line = (
                f"{kind:<12} {statistics.median(search_ms):>10.1f} "
                f"{percentile(search_ms, 0.95):>7.1f} {statistics.median(count_ms):>10.1f} "
                f"{percentile(count_ms, 0.95):>7.1f} {percentile(both_ms, 0.95):>9.1f} "
                f"{int(statistics.median(matches)):>17,}"
            )
            # The baselines run on queries the timed search has just read (their pages are
            # cached); "again" times the search once more on them, for a like-for-like ratio.
            again: list[float] = []
            every: list[float] = []
            newest: list[float] = []
            for query in texts[:baseline]:
                again.append(timed(partial(search_documents, session, query, limit=RESULTS)))
                every.append(timed(partial(rank_every_match, session, query)))
                if sqlite:
                    newest.append(timed(partial(rank_newest_whole_query, session, query)))
            for values in (again, every, newest):
                if values:
                    line += f" {statistics.median(values):>10.1f} {percentile(values, 0.95):>8.1f}"
            print(line, flush=True)


def run(url: str, args: argparse.Namespace) -> None:
    upgrade_to_head(url)
    engine = make_engine(url)
    try:
        corpus = Corpus(args.seed)
        present = document_count(engine)
        if present == 0:
            print(f"building {args.docs:,} documents in {engine.dialect.name} ...", flush=True)
            started = time.perf_counter()
            build = build_sqlite if engine.dialect.name == "sqlite" else build_postgresql
            build(engine, corpus, args.docs)
            elapsed = time.perf_counter() - started
            print(f"built in {elapsed:.0f} s ({args.docs / elapsed:,.0f} documents/s)")
            present = args.docs
        else:
            print(f"reusing the index at {url} ({present:,} documents)")
        size = database_bytes(engine) / 1e9
        print(f"{engine.dialect.name}: {present:,} documents, database {size:.2f} GB")
        measure(engine, query_sets(corpus, args.queries, args.seed), args.baseline)
        print(f"load average after timing: {os.getloadavg()[0]:.1f}")
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.db:
        run(args.db, args)
        return
    with tempfile.TemporaryDirectory(prefix="nv-search-") as folder:
        run(f"sqlite:///{Path(folder) / 'index.sqlite'}", args)


if __name__ == "__main__":
    main()
