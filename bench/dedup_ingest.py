"""Ingest benchmark: the dedup + store stage alone, on a fresh archive database.

    python bench/dedup_ingest.py --docs 100000 [--db URL] [--window 10000] [--keep]

Documents come from bench/corpus.py (synthetic articles and their syndication variants) plus
story mates (the same cast and words, other sentences) and the real articles; a few "hot"
names appear in thousands of documents, as a head of state does in a real archive. They pass
through pipeline.analysis.analyse and pipeline.index.batch.index_batch as a crawl's items do
(one transaction per batch of --batch items, as the index writer process commits them), with
synthetic WARC record references: no WARC writing and no extraction. Arrival is 1,000
documents a day, so the story window always holds the same number of documents and the cost
per document must stay flat as the archive grows.

--db: a SQLite URL whose file must not exist yet, or a PostgreSQL server URL under which a new
database is created (and dropped afterwards unless --keep). Default: SQLite in a temp folder.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from bench.corpus import VARIANT_KINDS, Article, load_articles, make_variant, synthetic_articles
from bench.scratch_db import database_bytes
from pipeline.analysis import analyse
from pipeline.db import queries
from pipeline.db.migrate import upgrade_to_head
from pipeline.db.models import Story, StoryKey
from pipeline.db.session import make_engine, make_session_factory, sqlite_path
from pipeline.extract.model import ExtractedDocument
from pipeline.index.batch import index_batch
from pipeline.index.deciding import IndexPolicy
from pipeline.items import ArchiveItem
from pipeline.warc.ref import RecordRef

START = datetime(2023, 1, 1, tzinfo=UTC)
DOCS_PER_DAY = 1000
VARIANT_SHARE = 0.22  # syndicated copies of a recent article
MATE_SHARE = 0.08  # other reports of a recent article's event
HOT_SHARE = 0.3  # originals that name one of the hot names
RECENT = 1500
PROBES = 20
HOT_SYLLABLES = [
    "vra",
    "dim",
    "kor",
    "sel",
    "tan",
    "mir",
    "gol",
    "pes",
]  # copies and mates follow their source within about a day and a half


@dataclass
class Window:
    docs: int = 0
    analyse_s: float = 0.0
    index_s: float = 0.0
    outcomes: Counter[str] = field(default_factory=Counter)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=100_000, help="documents to ingest")
    parser.add_argument("--db", help="SQLite URL (new file) or PostgreSQL server URL")
    parser.add_argument("--window", type=int, default=10_000, help="report every N documents")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--batch", type=int, default=200, help="items per index transaction")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="PostgreSQL: ANALYZE after every window, as autovacuum would (if it is on)",
    )
    args = parser.parse_args(argv)
    if args.docs < 1 or args.window < 1:
        parser.error("--docs and --window must be positive")
    return args


@contextmanager
def fresh_database(url: str | None, keep: bool) -> Iterator[str]:
    """A new, migrated database: never one that holds rows already."""
    if url is None:
        with tempfile.TemporaryDirectory(prefix="nv-bench-") as folder:
            new = f"sqlite:///{Path(folder) / 'index.sqlite'}"
            upgrade_to_head(new)
            yield new
        return
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_path(parsed)
        if path is None or path.exists():
            raise SystemExit(f"--db: give a SQLite file that does not exist yet, not {url!r}")
        upgrade_to_head(url)
        yield url
        return
    import psycopg

    name = f"nv_bench_{uuid.uuid4().hex[:10]}"
    admin = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    new = parsed.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade_to_head(new)
        yield new
    finally:
        if keep:
            print(f"kept database {name}")
        else:
            with psycopg.connect(admin, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def with_hot_name(article: Article, rng: random.Random, hot: list[str]) -> Article:
    """The article's main name replaced by a hot one (Zipf-chosen) everywhere it appears."""
    main = article.title.split()[0]
    name = rng.choices(hot, weights=[1 / (r + 1) for r in range(len(hot))])[0]
    paragraphs = tuple(p.replace(main, name) for p in article.paragraphs)
    return Article(article.name, article.story, article.title.replace(main, name), paragraphs)


def story_mate(article: Article, rng: random.Random, index: int) -> Article:
    """Another outlet's report of the same event: the same words in other sentences."""
    words = " ".join(article.paragraphs).replace(".", "").split()
    rng.shuffle(words)
    paragraphs, step = [], max(20, len(words) // 5)
    for start in range(0, len(words), step):
        chunk = words[start : start + step]
        sentence = " ".join(chunk)
        paragraphs.append(sentence[0].upper() + sentence[1:] + ".")
    title = " ".join(rng.sample(article.title.split(), min(5, len(article.title.split()))))
    return Article(f"{article.name}-mate{index}", article.story, title, tuple(paragraphs))


def documents(count: int, seed: int) -> Iterator[tuple[str, str]]:
    """(title, text) in arrival order: originals, copies and story mates of recent originals."""
    rng = random.Random(seed)
    n_synthetic = max(1, round(count * (1 - VARIANT_SHARE - MATE_SHARE)))
    real = load_articles()
    pool = real + synthetic_articles(n_synthetic, seed)
    hot = ["".join(rng.choices(HOT_SYLLABLES, k=3)).capitalize() + "ov" for _ in range(12)]
    recent: list[Article] = []
    originals = iter(pool)
    for index in range(count):
        roll = rng.random()
        if recent and roll < VARIANT_SHARE:
            source = rng.choice(recent[-RECENT:])
            variant = make_variant(source, rng.choice(VARIANT_KINDS), rng, rng.choice(recent))
            yield variant.title, variant.body
            continue
        if recent and roll < VARIANT_SHARE + MATE_SHARE:
            mate = story_mate(rng.choice(recent[-RECENT:]), rng, index)
            yield mate.title, "\n".join(mate.paragraphs)
            continue
        article = next(originals, None) or rng.choice(pool)
        if article.name.startswith("synthetic") and rng.random() < HOT_SHARE:
            article = with_hot_name(article, rng, hot)
        recent.append(article)
        del recent[: -2 * RECENT]
        yield article.title, "\n".join(article.paragraphs)


def make_item(index: int, title: str, body: str) -> ArchiveItem:
    when = START + timedelta(days=index / DOCS_PER_DAY)
    url = f"https://outlet{index % 97}.example/news/{index}"
    ref = RecordRef(
        record_id=f"<urn:uuid:{uuid.UUID(int=index + 1)}>",
        record_type="resource",
        warc_file=f"bench-{index // 50_000:05d}.warc.gz",
        offset=(index % 50_000) * 4096,
        length=4000,
        target_uri=url,
        date=when,
        payload_digest=f"sha1:BENCH{index:012d}",
    )
    document = ExtractedDocument(source_kind="text", text=body, title=title)
    return ArchiveItem(url=url, fetched_at=when, capture=ref, document=document)


def ingest(url: str, args: argparse.Namespace) -> None:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    policy = IndexPolicy()
    print(f"generating {args.docs:,} documents ...", flush=True)
    corpus = list(documents(args.docs, args.seed))
    print(f"ingesting into {engine.dialect.name} ({make_url(url).database})", flush=True)
    header = "   docs  analyse/s  index/s  dedup/s  index ms/doc  stories  outcomes"
    print(header)
    window, total = Window(), Window()
    batch: list[ArchiveItem] = []
    for index, (title, body) in enumerate(corpus):
        item = make_item(index, title, body)
        assert item.document is not None
        started = time.perf_counter()
        item.analysis = analyse(item.document)
        window.analyse_s += time.perf_counter() - started
        batch.append(item)
        last = index + 1 == args.docs
        if len(batch) < args.batch and (index + 1) % args.window and not last:
            continue
        started = time.perf_counter()
        # The crawl's index writer: one transaction per batch, decisions in order.
        for indexed in index_batch(factory, batch, crawl_id=None, policy=policy):
            window.outcomes[indexed.outcome or f"error: {indexed.error}"] += 1
        window.index_s += time.perf_counter() - started
        window.docs += len(batch)
        batch = []
        if (index + 1) % args.window == 0 or last:
            if args.analyze and engine.dialect.name == "postgresql":
                with engine.connect() as connection:
                    connection.execute(text("ANALYZE"))
                    connection.commit()
            report(index + 1, window, engine)
            total.docs += window.docs
            total.analyse_s += window.analyse_s
            total.index_s += window.index_s
            total.outcomes.update(window.outcomes)
            window = Window()
    print_total(total, engine)
    engine.dispose()


def hot_key_probe(factory: sessionmaker[Session], when: datetime) -> str:
    """Rows of the most frequent story key, and what one candidate lookup with it costs."""
    with factory() as session:
        key, rows = session.execute(
            select(StoryKey.key, func.count().label("n"))
            .group_by(StoryKey.key)
            .order_by(func.count().desc())
            .limit(1)
        ).one()
        window = timedelta(days=IndexPolicy().story_window_days)
        started = time.perf_counter()
        for _ in range(PROBES):
            queries.story_candidates(session, [key], since=when - window, until=when + window)
        lookup_ms = 1000 * (time.perf_counter() - started) / PROBES
    return f"hot key {key} {rows:,} rows {lookup_ms:.2f} ms/lookup"


def report(done: int, window: Window, engine: Engine) -> None:
    with engine.connect() as connection:
        stories = connection.scalar(select(func.count()).select_from(Story))
    outcomes = " ".join(f"{k}={v}" for k, v in sorted(window.outcomes.items()))
    print(
        f"{done:>7,}  {window.docs / window.analyse_s:>9.0f}  {window.docs / window.index_s:>7.0f}"
        f"  {window.docs / (window.analyse_s + window.index_s):>7.0f}"
        f"  {1000 * window.index_s / window.docs:>12.2f}  {stories:>7,}  {outcomes}"
        f"  db={database_bytes(engine) / 1e6:,.0f} MB",
        flush=True,
    )
    when = START + timedelta(days=done / DOCS_PER_DAY)
    print(f"         {hot_key_probe(make_session_factory(engine), when)}", flush=True)


def print_total(total: Window, engine: Engine) -> None:
    seconds = total.analyse_s + total.index_s
    with engine.connect() as connection:
        largest = connection.scalar(select(func.max(Story.size)))
        sizes = connection.execute(
            select(Story.size, func.count()).group_by(Story.size).order_by(Story.size)
        ).all()
    spread = ", ".join(f"{size}:{n}" for size, n in sizes)
    print(f"stories by size (size:count): {spread}; largest {largest}")
    print(
        f"total: {total.docs:,} docs, dedup stage {total.docs / seconds:.0f} docs/s "
        f"(analyse {total.docs / total.analyse_s:.0f}/s, "
        f"index {total.docs / total.index_s:.0f}/s), "
        f"database {database_bytes(engine) / 1e6:,.0f} MB "
        f"({database_bytes(engine) / total.docs / 1e3:.1f} kB/doc)"
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    with fresh_database(args.db, args.keep) as url:
        ingest(url, args)


if __name__ == "__main__":
    main()
