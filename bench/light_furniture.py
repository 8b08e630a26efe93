"""Headlines and furniture of lightly furnished text: clean articles under the top-of-page lines
that take a headline's place.

    .venv/bin/python bench/light_furniture.py [--seeds 1 2 3 4 5] [--copies 8]
    PYTHONPATH=DIR .venv/bin/python bench/light_furniture.py     # another tree's cleaner

Each clean test article (``tests/data/articles``: headline, then paragraphs) is wrapped, per
seed and copy, in a random choice of the lines that stand over a headline in a reader's copy of
a news page (skip links, menus and navigation strips, section names, site date bars, live
tickers of other stories) and under it (bylines, update stamps, reading times), and in a few
footer lines; then ``clean_plain_text`` runs on it. Prints, per seed, the share of exact
headlines, of furniture lines removed and of article lines kept, and every wrong headline.
These are the kinds of furniture the seeds do not show; the strings are this script's own, so
the figures say whether those kinds are handled, not how well unseen wordings of them are.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.extract.devset import article_pages, norm
from pipeline.extract.text import clean_plain_text

ROOT = Path(__file__).resolve().parent.parent
OVER = {
    "date": [
        "Wednesday, 3 December 2026",
        "03.12.2026",
        "Dec 3, 2026 | 14:05 EST",
        "Mittwoch, 3. Dezember 2026",
    ],
    "menu": [
        "News | Sport | Business | Culture | Opinion",
        "Home › Politics › Asia",
        "World · Europe · Politics",
        "Menu",
        "Search",
        "Sign in",
    ],
    "skip link": ["Skip to main content", "Skip to content", "Jump to navigation"],
    "section": ["Politics", "World News", "Asia-Pacific"],
    "ticker": [
        "LIVE: Markets slide as oil prices jump",
        "BREAKING: Storm warning issued for the east coast",
        "Live updates: Election night results as they come in",
    ],
}
UNDER = {
    "stamp": ["Updated 14:32 GMT", "Published 2 hours ago", "Last updated: 3 December 2026 09:12"],
    "byline": ["By Jane Doe, Reuters", "Story by Maria Lopez", "By Staff Reporter"],
    "reading time": ["5 min read", "Reading time: 4 minutes"],
}
FOOTER = [
    "Share on Facebook",
    "Copy link",
    "Related stories",
    "© 2026 Example Media. All rights reserved.",
    "Terms of use | Privacy policy | Contact",
    "Sign up for our newsletter",
]


def wrapped(rng: random.Random, title: str, body: list[str]) -> tuple[str, list[str]]:
    """The page's text and its furniture lines."""
    over = [rng.choice(OVER[kind]) for kind in rng.sample(sorted(OVER), rng.randint(1, 4))]
    under = [rng.choice(UNDER[kind]) for kind in sorted(UNDER) if rng.random() < 0.5]
    footer = rng.sample(FOOTER, rng.randint(0, 3))
    return "\n\n".join([*over, title, *under, *body, *footer]), [*over, *under, *footer]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--copies", type=int, default=8, help="pages per article and seed")
    args = parser.parse_args()
    pages = article_pages(ROOT / "tests/data/articles")
    print("| seed | pages | exact headlines | furniture removed | article kept |")
    print("|---:|---:|---:|---:|---:|")
    wrong: list[str] = []
    for seed in args.seeds:
        rng = random.Random(seed)
        titles = count = removed = furniture_total = kept = content_total = 0
        for _ in range(args.copies):
            for page in pages:
                text, furniture = wrapped(rng, page.title, list(page.content))
                cleaned = clean_plain_text(text)
                out = {norm(line) for line in cleaned.lines}
                count += 1
                if norm(cleaned.title or "") == page.title:
                    titles += 1
                else:
                    wrong.append(f"seed {seed}: {cleaned.title!r} over {page.title!r}")
                furniture_total += len(furniture)
                removed += sum(norm(line) not in out for line in furniture)
                content_total += len(page.content)
                kept += sum(line in out for line in page.content)
        print(
            f"| {seed} | {count} | {titles / count:.3f} | {removed / furniture_total:.3f} "
            f"| {kept / content_total:.3f} |"
        )
    for line in wrong:
        print(f"wrong headline, {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
