"""Deterministic labelled corpus for near-duplicate and story evaluation.

Sources: the seed articles (five outlets on one event), tests/data/articles (real-looking
news on overlapping and unrelated topics; files ``<story>_<letter>.txt`` share a story) and
synthetic articles from a pseudo-word vocabulary for scale. Every source gets variants like
those syndication produces. Each document knows its source article (``family``) and its
event (``story``); :func:`true_jaccard` gives the exact word-shingle Jaccard of two texts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from pipeline.dedup.digests import normalise_text
from pipeline.dedup.stopwords import STOPWORDS

ROOT = Path(__file__).resolve().parent.parent
SEEDS_DIR = ROOT / "seeds"
ARTICLES_DIR = ROOT / "tests" / "data" / "articles"
SEED_STORY = "kim-shoigu-jul2023"

FURNITURE = [
    "- Advertisement -",
    "Subscribe to our newsletter for the latest headlines",
    "Share this article on Facebook Twitter WhatsApp",
    "Read more: Markets rally as investors weigh central bank comments",
    "We use cookies to improve your experience. Accept all",
    "Home | World | Politics | Business | Sport | Opinion",
    "Most read today",
    "Copyright 2023 Global Wire Services. All rights reserved.",
    "Sign up for breaking news alerts",
    "Related: Five things to know this morning",
]
VARIANT_KINDS = ("furniture", "headline", "drop", "add", "edits", "truncate", "combined")


@dataclass(frozen=True)
class Article:
    name: str
    story: str
    title: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class Document:
    doc_id: int
    family: str  # the source article every variant derives from
    story: str  # the event the article reports
    kind: str  # "original" or a VARIANT_KINDS entry
    title: str
    text: str  # headline, blank line, body

    @property
    def body(self) -> str:
        return self.text.split("\n\n", 1)[-1]


def _read_article(path: Path, story: str) -> Article:
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if line]
    if len(lines) < 2:
        raise ValueError(f"{path}: needs a headline line and at least one paragraph")
    return Article(path.stem, story, lines[0], tuple(lines[1:]))


def load_articles() -> list[Article]:
    """The seeds (one story) and every tests/data/articles file (story = stem before '_')."""
    seeds = [_read_article(p, SEED_STORY) for p in sorted(SEEDS_DIR.glob("*.txt"))]
    own = [_read_article(p, p.stem.rsplit("_", 1)[0]) for p in sorted(ARTICLES_DIR.glob("*.txt"))]
    if not seeds or not own:
        raise FileNotFoundError(f"no articles under {SEEDS_DIR} or {ARTICLES_DIR}")
    return seeds + own


def _pseudo_word(rng: random.Random) -> str:
    syllables = ["ka", "lo", "mi", "ter", "sun", "dra", "vel", "po", "rin", "gas", "tu", "ne"]
    return "".join(rng.choice(syllables) for _ in range(rng.randint(1, 4)))


def synthetic_articles(count: int, seed: int = 7) -> list[Article]:
    """Articles of English function words and a topic of pseudo-words with a few names each.

    Function words are drawn Zipf-like, as in real text; each article's content words come
    from its own topic (drawn from a shared vocabulary, so topics overlap a little).
    """
    rng = random.Random(seed)
    vocab = list(dict.fromkeys(_pseudo_word(rng) for _ in range(12000)))
    names = [_pseudo_word(rng).capitalize() + _pseudo_word(rng) for _ in range(3000)]
    function = sorted(STOPWORDS)
    weights = [1.0 / (rank + 1) for rank in range(len(function))]
    articles = []
    for index in range(count):
        cast, topic = rng.sample(names, 4), rng.sample(vocab, 60)
        paragraphs = []
        for _ in range(rng.randint(4, 8)):
            sentences = []
            for _ in range(rng.randint(2, 4)):
                length = rng.randint(8, 20)
                words = [
                    rng.choice(topic) if rng.random() < 0.5 else rng.choices(function, weights)[0]
                    for _ in range(length)
                ]
                words[rng.randrange(length)] = rng.choice(cast)
                sentence = " ".join(words)
                sentences.append(sentence[0].upper() + sentence[1:] + ".")
            paragraphs.append(" ".join(sentences))
        title = " ".join([rng.choice(cast), *rng.sample(topic, 6)])
        articles.append(
            Article(f"synthetic-{index}", f"synthetic-{index}", title, tuple(paragraphs))
        )
    return articles


def _edit_words(paragraphs: list[str], rng: random.Random, rate: float) -> list[str]:
    out = []
    for paragraph in paragraphs:
        words = paragraph.split()
        for _ in range(max(0, round(len(words) * rate))):
            i = rng.randrange(len(words))
            words[i] = rng.choice(["the", "a", "its", "this", "new", "reported", "also"])
        out.append(" ".join(words))
    return out


def make_variant(article: Article, kind: str, rng: random.Random, other: Article) -> Document:
    """One syndication-style variant of ``article`` (doc_id filled in by the caller)."""
    title, body = article.title, list(article.paragraphs)
    if kind in ("furniture", "combined"):
        body = rng.sample(FURNITURE, 2) + body + rng.sample(FURNITURE, 2)
    if kind in ("headline", "combined"):
        title = f"{article.title.split(':')[-1].strip()} - {rng.choice(['Wire', 'Daily', 'Post'])}"
    if kind == "drop" and len(body) > 3:
        del body[rng.randrange(1, len(body) - 1)]
    if kind == "add":
        body.insert(rng.randrange(1, len(body)), rng.choice(other.paragraphs))
    if kind in ("edits", "combined"):
        body = _edit_words(body, rng, 0.01)
    if kind in ("truncate", "combined") and len(body) > 3:
        body = body[:-1]
    text = "\n\n".join(body)
    return Document(-1, article.name, article.story, kind, title, f"{title}\n\n{text}")


def build_corpus(n_synthetic: int = 200, variants: int = 3, seed: int = 13) -> list[Document]:
    """Originals plus ``variants`` random variants of each, in a seeded shuffled order."""
    rng = random.Random(seed)
    articles = load_articles() + synthetic_articles(n_synthetic, seed)
    docs: list[Document] = []
    for article in articles:
        text = f"{article.title}\n\n" + "\n\n".join(article.paragraphs)
        docs.append(Document(-1, article.name, article.story, "original", article.title, text))
        for kind in rng.sample(VARIANT_KINDS, min(variants, len(VARIANT_KINDS))):
            docs.append(make_variant(article, kind, rng, rng.choice(articles)))
    rng.shuffle(docs)
    return [Document(i, d.family, d.story, d.kind, d.title, d.text) for i, d in enumerate(docs)]


def shingle_set(text: str, size: int) -> frozenset[tuple[str, ...]]:
    """Word ``size``-grams of the normalised text (one shingle if it is shorter)."""
    words = normalise_text(text).split()
    if len(words) <= size:
        return frozenset([tuple(words)])
    return frozenset(tuple(words[i : i + size]) for i in range(len(words) - size + 1))


def true_jaccard(a: frozenset[tuple[str, ...]], b: frozenset[tuple[str, ...]]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 1.0
