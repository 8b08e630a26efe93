"""Headlines and furniture of lightly furnished text: clean articles under the top-of-page lines
that take a headline's place.

    .venv/bin/python bench/light_furniture.py [--seeds 1 2 3 4 5] [--copies 8] [--inside]
    PYTHONPATH=DIR .venv/bin/python bench/light_furniture.py     # another tree's cleaner

Each clean test article (``tests/data/articles``: headline, then paragraphs) is wrapped, per
seed and copy, in a random choice of the lines that stand over a headline in a reader's copy of
a news page (skip links, menus and navigation strips, section names, site date bars, live
tickers of other stories) and under it (bylines, update stamps, reading times), and in a few
footer lines; then ``clean_plain_text`` runs on it. Prints, per seed, the share of exact
headlines, of furniture lines removed and of article lines kept, and every wrong headline.
These are the kinds of furniture the seeds do not show; the strings are this script's own, so
the figures say whether those kinds are handled, not how well unseen wordings of them are.

With ``--inside`` the article also gets the short parts of its own that the line model scores
weakest, between its paragraphs: a list of "label: value" facts or a bulleted list, each under
a heading, and a closing credit line, all article text; and, as furniture, a "read also" inset
in one of the dev set's languages.
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
FACTS = [
    ("In numbers", ["Cost: 2.4 billion", "Jobs: 1,800", "Completion: 2029"]),
    ("Key facts", ["Population: 1.2 million", "Area: 640 sq km"]),
    ("The figures", ["Turnout: 61%", "Seats won: 44", "Majority: 9"]),
    ("Specifications", ["Weight: 1.3 kg", "Battery: 14 hours", "Price: 899 euros"]),
]
BULLETS = [
    ("What we know", ["- Talks resume on Monday", "- Both sides have named negotiators"]),
    ("Key points:", ["• Prices rose for a third month", "• Energy costs drove the increase"]),
    ("What happens next", ["- A vote is due in March", "- The plan needs a two-thirds majority"]),
]
CREDITS = [
    "Reporting by Sam Ortiz; Editing by Ruth Mayer",
    "Additional reporting by Kenji Sato",
    "With files from Reuters",
    "(Reporting by Sam Ortiz; Editing by Ruth Mayer)",
]
READ_ALSO = [
    "Read more: Why the talks failed last year",
    "Lire aussi : Le gouvernement présente son budget",
    "Lesen Sie auch: Was die Reform für Mieter bedeutet",
    "Leggi anche: Il governo presenta la manovra",
    "Lee también: El Gobierno aprueba el presupuesto",
    "Lees ook: Kabinet presenteert begroting",
    "Läs också: Regeringen lägger fram budgeten",
    "Czytaj także: Rząd przedstawia budżet",
]
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


def with_parts(rng: random.Random, body: list[str]) -> tuple[list[str], list[str], list[str]]:
    """The body with a list, a closing credit and a "read also" inset.

    Returns (lines, article lines, furniture lines).
    """
    heading, items = rng.choice(FACTS if rng.random() < 0.5 else BULLETS)
    inset = rng.choice(READ_ALSO)
    credit = rng.choice(CREDITS)
    lines = list(body)
    # Why not first or last: a list and an inset sit between two paragraphs of the article.
    lines.insert(rng.randint(1, max(1, len(lines) - 1)), inset)
    at = rng.randint(1, max(1, len(lines) - 1))
    lines[at:at] = [heading, *items]
    content = [line for line in lines if line != inset]
    return [*lines, credit], [*content, credit], [inset]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--copies", type=int, default=8, help="pages per article and seed")
    parser.add_argument("--inside", action="store_true", help="lists, credits, insets too")
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
                body, content, inset = list(page.content), list(page.content), []
                if args.inside:
                    body, content, inset = with_parts(rng, body)
                text, furniture = wrapped(rng, page.title, body)
                furniture += inset
                cleaned = clean_plain_text(text)
                out = {norm(line) for line in cleaned.lines}
                count += 1
                if norm(cleaned.title or "") == page.title:
                    titles += 1
                else:
                    wrong.append(f"seed {seed}: {cleaned.title!r} over {page.title!r}")
                furniture_total += len(furniture)
                removed += sum(norm(line) not in out for line in furniture)
                content_total += len(content)
                kept += sum(norm(line) in out for line in content)
        print(
            f"| {seed} | {count} | {titles / count:.3f} | {removed / furniture_total:.3f} "
            f"| {kept / content_total:.3f} |"
        )
    for line in wrong:
        print(f"wrong headline, {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
