"""Labelled plain-text pages for training and scoring the line model.

Three sources, one shape (:class:`LabelledPage`): the dev set of real pages
(``../shared/devsets/fundus/labels.json``: title, content lines, furniture lines), files in the
seeds' format (``expected.json``: title and the furniture lines with their kind; every other line
is article), and clean articles (first line the headline, every other line article text).
Scoring follows ``../shared/devsets/score_text.py``: furniture removed as lines (and, when of four
words or more, not inside the text either), content lines kept anywhere in the text, exact titles.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

HELD_OUT_BUCKETS = 5  # publishers whose name hashes to bucket 0 are held out from training


def norm(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


@dataclass(frozen=True)
class LabelledPage:
    name: str
    group: str  # publisher (dev set) or file: cross-validation never splits a group
    text: str
    title: str
    content: tuple[str, ...]  # normalised article lines
    furniture: tuple[str, ...]  # normalised furniture lines
    source: str  # "devset", "seeds" or "articles"

    @property
    def held_out(self) -> bool:
        """The fixed held-out part: never trained on, scored by the test suite."""
        return (
            self.source in ("devset", "light")
            and zlib.crc32(self.group.encode()) % HELD_OUT_BUCKETS == 0
        )


def publisher(name: str) -> str:
    """``de_FAZ_2024_04_17.txt`` -> ``de_FAZ``."""
    return "_".join(name.split("_")[:2])


def devset_pages(labels_path: Path) -> list[LabelledPage]:
    labels = json.loads(labels_path.read_text(encoding="utf-8"))
    pages = []
    for name, spec in sorted(labels.items()):
        pages.append(
            LabelledPage(
                name=name,
                group=publisher(name),
                text=(labels_path.parent / name).read_text(encoding="utf-8"),
                title=norm(spec["title"]),
                content=tuple(norm(line) for line in spec["content"]),
                furniture=tuple(norm(line) for line in spec["boilerplate"]),
                source="devset",
            )
        )
    return pages


def expected_pages(expected_path: Path, folder: Path) -> list[LabelledPage]:
    """Pages in the seeds' format: every line not the title nor furniture is article text."""
    spec_all = json.loads(expected_path.read_text(encoding="utf-8"))["seeds"]
    pages = []
    for name, spec in sorted(spec_all.items()):
        text = (folder / name).read_text(encoding="utf-8")
        furniture = {norm(line) for line in spec["boilerplate"]}
        title = norm(spec["title"])
        lines = [norm(line) for line in text.splitlines() if norm(line)]
        pages.append(
            LabelledPage(
                name=name,
                group=f"seeds/{name}",
                text=text,
                title=title,
                content=tuple(x for x in lines if x not in furniture and x != title),
                furniture=tuple(x for x in lines if x in furniture),
                source="seeds",
            )
        )
    return pages


def article_pages(folder: Path) -> list[LabelledPage]:
    """Clean articles: the first line is the headline, the rest is article text."""
    pages = []
    for path in sorted(folder.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        lines = [norm(line) for line in text.splitlines() if norm(line)]
        pages.append(
            LabelledPage(
                name=path.name,
                group=f"articles/{path.name}",
                text=text,
                title=lines[0],
                content=tuple(lines[1:]),
                furniture=(),
                source="articles",
            )
        )
    return pages


def repo_pages(root: Path) -> list[LabelledPage]:
    """The seeds, the unseen test articles and the clean test articles of the repository."""
    pages = expected_pages(root / "tests/data/expected.json", root / "seeds")
    for expected in sorted((root / "tests/data/unseen").glob("*.json")):
        pages += expected_pages(expected, expected.parent)
    return pages + article_pages(root / "tests/data/articles")


@dataclass(frozen=True)
class Score:
    pages: int
    removed: float
    kept: float
    titles: float

    def row(self) -> str:
        return f"{self.pages:4d} | {self.removed:.3f} | {self.kept:.3f} | {self.titles:.3f}"


def score(
    pages: Iterable[LabelledPage], clean: Callable[[str], tuple[str | None, Iterable[str]]]
) -> Score:
    """Micro-averaged share of furniture removed, of content kept, and of exact titles."""
    furniture_total = furniture_removed = content_total = content_kept = titles = count = 0
    for page in pages:
        title, lines = clean(page.text)
        kept_lines = [norm(line) for line in lines]
        out_lines = set(kept_lines)
        out_text = " ".join(kept_lines)
        for line in page.furniture:
            furniture_total += 1
            gone = line not in out_lines and (len(line.split()) < 4 or line not in out_text)
            furniture_removed += gone
        for line in page.content:
            content_total += 1
            content_kept += line in out_text
        titles += norm(title or "") == page.title
        count += 1
    return Score(
        pages=count,
        removed=furniture_removed / max(1, furniture_total),
        kept=content_kept / max(1, content_total),
        titles=titles / max(1, count),
    )


def lightly_furnished(page: LabelledPage, margin: int = 3) -> LabelledPage | None:
    """The page cut down to its article and ``margin`` furniture lines around it.

    What a reader's copy of just the article looks like: the seed-like kind of plain text, here
    from publishers the seeds never show. None when the headline or the text cannot be found.
    """
    raw = [line for line in page.text.splitlines() if norm(line)]
    lines = [norm(line) for line in raw]
    content = set(page.content)
    article = [i for i, line in enumerate(lines) if line in content]
    if not article:
        return None
    above = [i for i, line in enumerate(lines[: article[0]]) if line == page.title]
    if not above:
        return None
    low, high = max(0, above[-1] - margin), min(len(lines), article[-1] + margin + 1)
    kept = lines[low:high]
    return LabelledPage(
        name=page.name,
        group=page.group,
        text="\n".join(raw[low:high]),
        title=page.title,
        content=tuple(line for line in kept if line in content),
        furniture=tuple(line for line in kept if line not in content and line != page.title),
        source="light",
    )
