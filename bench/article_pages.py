"""Generated news article pages for the crawl benchmarks: realistic structure, distinct payloads.

Text comes from a word-bigram chain trained on real news text: the English article paragraphs of
the Fundus development set (``../shared/devsets/fundus/labels.json``) when it is there, else the
repository's own real articles (``seeds/``, ``tests/data/articles``). Sentences therefore have a
real word distribution and every page's text is different, so no page is a duplicate or a
near-duplicate of another. Each page carries the furniture of a news site (head metadata and
JSON-LD, navigation, breadcrumb, share and newsletter boxes, teasers of other stories, footer,
consent banner) and is sized to a target between 2 and 50 kB of HTML.
"""

from __future__ import annotations

import html
import itertools
import json
import math
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUNDUS_LABELS = ROOT.parent / "shared" / "devsets" / "fundus" / "labels.json"
# Fundus country codes of English-language publishers.
ENGLISH_SOURCES = ("us_", "uk_", "ca_", "za_", "na_", "tz_", "in_", "au_")
MIN_PAGE_BYTES = 2_000
MAX_PAGE_BYTES = 50_000
MEDIAN_PAGE_BYTES = 16_000
SECTIONS = ("world", "politics", "business", "technology", "science", "health", "sport", "culture")
SENTENCE_END = (".", "!", "?")
FIRST_DAY = datetime(2024, 3, 1, 6, 0, tzinfo=UTC)
CONSENT = """<div class="consent" role="dialog"><p>We use cookies to personalise content and ads
and to analyse our traffic.</p><button>Accept all</button><button>Manage settings</button></div>
"""
SHARE_AND_PHOTO = """<ul class="share"><li><a href="#">Facebook</a></li><li><a href="#">X</a></li>
<li><a href="#">WhatsApp</a></li><li><a href="#">Email</a></li></ul>
<figure><img src="/img/{index}.jpg" alt=""><figcaption>Photo: Loopback Herald archive</figcaption>
</figure>
"""
NEWSLETTER = """<aside class="newsletter"><h3>The morning briefing</h3><p>The day's top stories in
your inbox every weekday.</p><form><input type="email" placeholder="Your email"><button>Sign up
</button></form></aside>
"""


@dataclass(frozen=True)
class ArticlePage:
    """One generated article: its path on the site and its HTML."""

    index: int
    path: str
    title: str
    html: str


def training_paragraphs() -> tuple[str, list[str]]:
    """(name of the source, paragraphs of real English news text)."""
    if FUNDUS_LABELS.is_file():
        labels = json.loads(FUNDUS_LABELS.read_text(encoding="utf-8"))
        paragraphs = [
            line
            for name, page in sorted(labels.items())
            if name.startswith(ENGLISH_SOURCES)
            for line in page["content"]
            if len(line.split()) >= 8
        ]
        if paragraphs:
            return "fundus English articles", paragraphs
    files = sorted((ROOT / "seeds").glob("*.txt")) + sorted(
        (ROOT / "tests" / "data" / "articles").glob("*.txt")
    )
    paragraphs = [
        line.strip()
        for path in files
        for line in path.read_text(encoding="utf-8").splitlines()
        if len(line.split()) >= 8
    ]
    if not paragraphs:
        raise FileNotFoundError(f"no training text under {ROOT / 'seeds'} or {FUNDUS_LABELS}")
    return "repository articles (seeds, tests/data/articles)", paragraphs


class WordChain:
    """A word-bigram Markov chain: each next word is drawn with its observed frequency."""

    def __init__(self, paragraphs: list[str]) -> None:
        followers: dict[str, list[str]] = defaultdict(list)
        starts: list[str] = []
        for paragraph in paragraphs:
            words = paragraph.split()
            starts.append(words[0])
            for current, following in itertools.pairwise(words):
                followers[current].append(following)
                if current.endswith(SENTENCE_END) and following[:1].isupper():
                    starts.append(following)
        self.followers = dict(followers)
        self.starts = starts

    def sentence(self, rng: random.Random, min_words: int = 8, max_words: int = 40) -> str:
        words = [rng.choice(self.starts)]
        while len(words) < max_words:
            last = words[-1]
            if len(words) >= min_words and last.endswith(SENTENCE_END):
                break
            options = self.followers.get(last)
            words.append(rng.choice(options) if options else rng.choice(self.starts))
        text = " ".join(words)
        return text if text.endswith(SENTENCE_END) else text.rstrip(",;:") + "."

    def paragraph(self, rng: random.Random) -> str:
        return " ".join(self.sentence(rng) for _ in range(rng.randint(2, 5)))

    def headline(self, rng: random.Random) -> str:
        words = self.sentence(rng, min_words=5, max_words=rng.randint(6, 13)).split()
        headline = " ".join(words).rstrip(".!?,;:")
        return headline[:1].upper() + headline[1:]


def page_size(rng: random.Random) -> int:
    """A target size in bytes: log-normal around the median, clipped to 2-50 kB."""
    size = int(MEDIAN_PAGE_BYTES * math.exp(rng.gauss(0.0, 0.7)))
    return max(MIN_PAGE_BYTES, min(MAX_PAGE_BYTES, size))


def article_path(index: int, section: str, published: datetime, title: str) -> str:
    slug = "-".join(
        "".join(ch for ch in word.lower() if ch.isascii() and ch.isalnum())
        for word in title.split()[:6]
    ).strip("-")
    return f"/{section}/{published:%Y/%m/%d}/{slug or 'story'}-{index}.html"


def planned_articles(count: int, seed: int, chain: WordChain) -> list[tuple[str, str, datetime]]:
    """(path, title, published) of every article, so pages can link to each other."""
    rng = random.Random(f"plan-{seed}")
    plans = []
    for index in range(count):
        title = chain.headline(rng)
        section = rng.choice(SECTIONS)
        published = FIRST_DAY + timedelta(minutes=index * 37 + rng.randint(0, 30))
        plans.append((article_path(index, section, published, title), title, published))
    return plans


def generate_pages(
    count: int, seed: int = 1, hub_paths: tuple[str, ...] = ()
) -> tuple[str, list[ArticlePage]]:
    """(text source, ``count`` distinct article pages); the same seed gives the same pages."""
    source, paragraphs = training_paragraphs()
    chain = WordChain(paragraphs)
    plans = planned_articles(count, seed, chain)
    pages = []
    for index, (path, title, published) in enumerate(plans):
        rng = random.Random(f"page-{seed}-{index}")
        section = path.split("/")[1]
        builder = _PageBuilder(rng, chain, plans, hub_paths)
        document = builder.build(index, title, section, published, page_size(rng))
        pages.append(ArticlePage(index, path, title, document))
    return source, pages


class _PageBuilder:
    def __init__(
        self,
        rng: random.Random,
        chain: WordChain,
        plans: list[tuple[str, str, datetime]],
        hub_paths: tuple[str, ...],
    ) -> None:
        self.rng = rng
        self.chain = chain
        self.plans = plans
        self.hub_paths = hub_paths or tuple(f"/{section}/" for section in SECTIONS)

    def build(self, index: int, title: str, section: str, published: datetime, target: int) -> str:
        rng = self.rng
        # Article text is roughly half to two thirds of a page; furniture fills the rest.
        text_budget = int(target * rng.uniform(0.45, 0.65))
        paragraphs = [self.chain.paragraph(rng)]
        while sum(len(p) + 8 for p in paragraphs) < text_budget:
            paragraphs.append(self.chain.paragraph(rng))
        related = self._teaser(index)
        teasers: list[str] = []
        footer_links: list[str] = []
        # Short pages (briefs) come without the heavier boxes, or they could not be 2 kB.
        render = (index, title, section, published, paragraphs, related, target >= 6_000)
        missing = target - len(self._render(*render, teasers, footer_links).encode())
        while missing > 0:
            if len(teasers) < 24:
                teasers.append(self._teaser(index))
                missing -= len(teasers[-1].encode())
            else:
                footer_links.append(self._footer_link(len(footer_links)))
                missing -= len(footer_links[-1].encode())
        return self._render(*render, teasers, footer_links)

    def _teaser(self, own_index: int) -> str:
        other = self.rng.randrange(len(self.plans))
        if other == own_index:
            other = (other + 1) % len(self.plans)
        path, title, published = self.plans[other]
        summary = html.escape(self.chain.sentence(self.rng, 8, 22))
        return (
            f'<li class="teaser"><a href="{path}"><span class="kicker">'
            f"{path.split('/')[1].title()}</span> {html.escape(title)}</a>"
            f'<p class="teaser-summary">{summary}</p>'
            f'<time datetime="{published:%Y-%m-%dT%H:%M}Z">{published:%d %b %Y}</time></li>'
        )

    def _footer_link(self, number: int) -> str:
        label = " ".join(self.chain.sentence(self.rng, 2, 4).split()[:3]).rstrip(".,;:!?")
        return f'<li><a href="/info/page-{number}.html">{html.escape(label)}</a></li>'

    def _render(
        self,
        index: int,
        title: str,
        section: str,
        published: datetime,
        paragraphs: list[str],
        related: str,
        boxes: bool,
        teasers: list[str],
        footer_links: list[str],
    ) -> str:
        rng = random.Random(f"furniture-{index}")  # stable while the page grows
        escaped = html.escape(title)
        author = rng.choice(("Jane Carter", "Tomas Okafor", "Mei Lin", "Ruth Adeyemi", "Sam Hale"))
        body = []
        for number, paragraph in enumerate(paragraphs):
            if number and number % 5 == 0:
                body.append(f"<h2>{html.escape(paragraph.split('.')[0][:70])}</h2>")
            if number == 3:
                body.append(f'<aside class="related"><strong>Read more:</strong> {related}</aside>')
            body.append(f"<p>{html.escape(paragraph)}</p>")
        nav = "".join(
            f'<li><a href="{path}">{path.strip("/").split("/")[-1].split(".")[0].title()}</a></li>'
            for path in self.hub_paths[:12]
        )
        jsonld = json.dumps(
            {
                "@context": "https://schema.org",
                "@type": "NewsArticle",
                "headline": title,
                "datePublished": f"{published:%Y-%m-%dT%H:%M:%S}Z",
                "author": {"@type": "Person", "name": author},
                "articleSection": section,
            }
        )
        return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{escaped} | The Loopback Herald</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="description" content="{html.escape(paragraphs[0][:150])}">
<meta property="og:type" content="article"><meta property="og:title" content="{escaped}">
<meta property="og:site_name" content="The Loopback Herald">
<meta property="article:published_time" content="{published:%Y-%m-%dT%H:%M:%S}Z">
<link rel="stylesheet" href="/static/site.css">
<script type="application/ld+json">{jsonld}</script>
<script>window.dataLayer=window.dataLayer||[];dataLayer.push({{"section":"{section}","id":{index}}});</script>
</head><body class="article-page">
{CONSENT if boxes else ""}<header class="masthead"><a class="logo" href="/">The Loopback Herald</a>
<nav class="primary"><ul>{nav}</ul></nav>
<form class="search" action="/search"><input name="q" placeholder="Search"></form>
<a class="subscribe" href="/subscribe">Subscribe</a></header>
<nav class="breadcrumb"><a href="/">Home</a> &rsaquo;
<a href="/{section}/">{section.title()}</a></nav>
<main><article>
<h1>{escaped}</h1>
<div class="byline">By <a href="/authors/{author.split()[0].lower()}">{author}</a>
<time datetime="{published:%Y-%m-%dT%H:%M:%S}Z">{published:%d %B %Y, %H:%M}</time></div>
{SHARE_AND_PHOTO.format(index=index) if boxes else ""}{"".join(body)}
</article>
{NEWSLETTER if boxes else ""}<section class="more"><h3>More from {section.title()}</h3>
<ul>{"".join(teasers)}</ul></section>
</main>
<footer><ul class="links"><li><a href="/about">About us</a></li><li><a href="/contact">Contact</a>
</li><li><a href="/privacy">Privacy</a></li><li><a href="/terms">Terms of use</a></li>
{"".join(footer_links)}</ul>
<p class="copyright">&copy; 2024 The Loopback Herald. All rights reserved.</p></footer>
</body></html>
"""
