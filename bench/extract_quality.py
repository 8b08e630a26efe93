"""Extraction quality on labelled pages, run as a whole process: `python bench/extract_quality.py`.

Scores what the crawl stores (``pipeline.analysis.extract_and_analyse``, in-process) against the
line labels of the dev set ``../shared/devsets/fundus`` (each page as HTML and as the plain text a
copy of it gives), the seeds (``seeds/`` with ``../shared/seeds/expected.json``) and the unseen
plain-text articles of ``tests/data/unseen``, and prints the table of issue 10: furniture removed,
content kept, exact titles, overall and per language (of the labelled text). Bare trafilatura on the
HTML is printed for reference. Scoring follows ``../shared/devsets/score_text.py``: a furniture line
counts as removed when it is gone as a line (and, with 4+ words, gone inside paragraphs too), a
content line as kept when it occurs in the text, a title as exact when equal after collapsing
whitespace; a page that fails to extract loses all its lines. ``--export DIR`` writes the JSONL
exports that ``score_text.py`` reads, to cross-check.

The dev set is split by publisher (a hash of the name): ``holdout`` (17 pages, 12 publishers)
was never looked at while the extraction rules were written, ``dev`` is the rest; ``suite`` is
the fixed third that tests/test_extract_quality.py asserts the targets on (``--part``).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: `python bench/extract_quality.py`
    sys.path.insert(0, str(ROOT))

from pipeline.analysis import extract_and_analyse  # noqa: E402
from pipeline.extract.language import identify_language  # noqa: E402

DEVSET = ROOT.parent / "shared" / "devsets" / "fundus"
SEED_LABELS = ROOT.parent / "shared" / "seeds" / "expected.json"
SEEDS = ROOT / "seeds"
UNSEEN = ROOT / "tests" / "data" / "unseen"
PARTS = ("all", "dev", "holdout", "suite")


@dataclass(frozen=True)
class Page:
    """One labelled page: the file to extract and what its text should be."""

    name: str  # the labelled .txt name (the key of labels.json)
    path: Path
    title: str
    content: tuple[str, ...]
    furniture: tuple[str, ...]
    language: str


@dataclass(frozen=True)
class Output:
    """What one extractor gave for one page; ``title``/``text`` are None when it failed."""

    title: str | None
    text: str | None
    error: str | None = None


@dataclass
class Score:
    furniture_total: int = 0
    furniture_removed: int = 0
    content_total: int = 0
    content_kept: int = 0
    pages: int = 0
    titles: int = 0
    failed: int = 0
    lost: list[str] = field(default_factory=list)  # content lines missing from the text
    leaked: list[str] = field(default_factory=list)  # furniture lines left in the text

    def add(self, other: Score) -> None:
        self.furniture_total += other.furniture_total
        self.furniture_removed += other.furniture_removed
        self.content_total += other.content_total
        self.content_kept += other.content_kept
        self.pages += other.pages
        self.titles += other.titles
        self.failed += other.failed

    @property
    def removed(self) -> float:
        return self.furniture_removed / self.furniture_total if self.furniture_total else 1.0

    @property
    def kept(self) -> float:
        return self.content_kept / self.content_total if self.content_total else 1.0

    @property
    def exact_titles(self) -> float:
        return self.titles / self.pages if self.pages else 1.0


def norm(line: str) -> str:
    """Whitespace collapsed, no-break spaces as spaces: as score_text.py compares lines."""
    return re.sub(r"\s+", " ", line.replace("\u00a0", " ")).strip()


def score_page(page: Page, output: Output) -> Score:
    score = Score(pages=1)
    score.furniture_total = len(page.furniture)
    score.content_total = len(page.content)
    if output.text is None:
        score.failed = 1
        score.lost = list(page.content)
        return score
    text = output.text
    out_lines = {norm(line) for line in text.splitlines() if norm(line)}
    out_text = norm(text)
    for line in page.furniture:
        gone = norm(line) not in out_lines and (len(line.split()) < 4 or norm(line) not in out_text)
        score.furniture_removed += gone
        if not gone:
            score.leaked.append(line)
    for line in page.content:
        kept = norm(line) in out_text
        score.content_kept += kept
        if not kept:
            score.lost.append(line)
    score.titles = int(norm(output.title or "") == norm(page.title))
    return score


def publisher(name: str) -> str:
    """`de_Spiegel_2023_...txt` -> `Spiegel`: pages of one publisher share the held-out part."""
    parts = name.split("_")
    return parts[1] if len(parts) > 2 else name


def _publisher_hash(name: str) -> bytes:
    return hashlib.sha1(publisher(name).encode()).digest()


def in_suite_part(name: str) -> bool:
    """The fixed third of the publishers (by hash) on which tests/ asserts the targets."""
    return _publisher_hash(name)[0] % 3 == 0


def is_held_out(name: str) -> bool:
    """Half of the suite's third: publishers never looked at while the rules were written."""
    return in_suite_part(name) and _publisher_hash(name)[1] % 2 == 1


def in_part(name: str, part: str) -> bool:
    if part == "holdout":
        return is_held_out(name)
    if part == "dev":
        return not is_held_out(name)
    if part == "suite":
        return in_suite_part(name)
    return True


def devset_pages(kind: str, part: str = "all", devset: Path = DEVSET) -> list[Page]:
    """The dev set's pages as ``kind`` ('html' or 'txt'), restricted to ``part`` of PARTS."""
    labels = json.loads((devset / "labels.json").read_text(encoding="utf-8"))
    pages = []
    for name, label in sorted(labels.items()):
        if not in_part(name, part):
            continue
        path = devset / (name[: -len(".txt")] + "." + kind)
        pages.append(
            Page(
                name=name,
                path=path,
                title=label["title"],
                content=tuple(label["content"]),
                furniture=tuple(label["boilerplate"]),
                # The labels name the publisher's country (a German paper in Mallorca is "es"):
                # group by the language of the labelled article text instead.
                language=identify_language("\n".join(label["content"])) or label["language"],
            )
        )
    return pages


def seed_like_pages(labels_path: Path, folder: Path) -> list[Page]:
    """Pages of an expected.json (the seeds' format): every other non-empty line is content."""
    labels = json.loads(labels_path.read_text(encoding="utf-8"))["seeds"]
    pages = []
    for name, label in sorted(labels.items()):
        path = folder / name
        lines = [norm(line) for line in path.read_text(encoding="utf-8").splitlines()]
        furniture = {norm(line) for line in label["boilerplate"]}
        title = norm(label["title"])
        pages.append(
            Page(
                name=name,
                path=path,
                title=label["title"],
                content=tuple(line for line in lines if line and line not in furniture | {title}),
                furniture=tuple(line for line in lines if line in furniture),
                language="seeds",
            )
        )
    return pages


def unseen_pages(folder: Path = UNSEEN) -> list[Page]:
    pages: list[Page] = []
    for labels in sorted(folder.glob("*.json")):
        pages += seed_like_pages(labels, folder)
    return pages


def product(page: Page) -> Output:
    """What `scrapy crawl files` stores for the file: the crawl's own extraction call."""
    result = extract_and_analyse(page.path.read_bytes(), page.path.as_uri(), str(page.path), None)
    if result.document is None:
        return Output(None, None, result.error)
    return Output(result.document.title, result.document.text)


def bare_trafilatura(page: Page) -> Output:
    """trafilatura's defaults on the HTML, for reference."""
    from trafilatura import bare_extraction
    from trafilatura.settings import Document

    result = bare_extraction(page.path.read_text(encoding="utf-8"), with_metadata=True)
    if not isinstance(result, Document):
        return Output(None, None, "trafilatura returned nothing")
    return Output(result.title, result.text)


Extractor = Callable[[Page], Output]


def previous_html_document(data: bytes) -> Output:
    """HTML extraction as it was before issue 10, for the cost comparison: the same parse and
    markup facts, trafilatura with favor_precision=True and its title, no headline vote and no
    recovery of dropped lines."""
    from trafilatura import bare_extraction
    from trafilatura.settings import Document

    from pipeline.extract.decode import decode_bytes, meta_charset
    from pipeline.extract.html import (
        _furniture_segments,
        canonical_url,
        page_language,
        stated_date,
    )
    from pipeline.extract.html_parse import parse_html

    tree = parse_html(decode_bytes(data, meta_charset(data)).text)
    if tree is None:
        return Output(None, None, "unparsable")
    stated_date(tree), page_language(tree), canonical_url(tree, None), _furniture_segments(tree)
    result = bare_extraction(
        tree,
        favor_precision=True,
        include_comments=False,
        with_metadata=True,
        target_language=None,
        date_extraction_params={"original_date": True, "extensive_search": False},
    )
    if not isinstance(result, Document):
        return Output(None, None, "no text")
    lines = [" ".join(line.split()) for line in (result.text or "").splitlines()]
    return Output(result.title, "\n".join(line for line in lines if line))


def cost_comparison(documents: list[bytes], repeats: int = 3) -> tuple[float, float]:
    """CPU seconds per document of the HTML extraction before and now, measured document by
    document in turn (best of ``repeats`` each), so both see the same machine load."""
    from pipeline.extract.html import html_document
    from pipeline.extract.model import ExtractionError

    def current(data: bytes) -> None:
        with contextlib.suppress(ExtractionError):
            html_document(data)

    before = now = 0.0
    for data in documents:
        best_before = best_now = float("inf")
        for _ in range(repeats):
            start = time.process_time()
            previous_html_document(data)
            best_before = min(best_before, time.process_time() - start)
            start = time.process_time()
            current(data)
            best_now = min(best_now, time.process_time() - start)
        before += best_before
        now += best_now
    n = max(len(documents), 1)
    return before / n, now / n


def cost_table(pages: list[Page]) -> str:
    from bench.extract_speed import html_page

    rows = [
        "| documents | before ms/doc | now ms/doc | now / before |",
        "|---|---:|---:|---:|",
    ]
    inputs = [(f"dev set pages ({len(pages)})", [p.path.read_bytes() for p in pages])]
    inputs += [
        (f"extract_speed page, {n} paragraphs", [html_page(n)]) for n in (100, 1_000, 10_000)
    ]
    for label, documents in inputs:
        before, now = cost_comparison(documents)
        rows.append(f"| {label} | {1000 * before:.1f} | {1000 * now:.1f} | {now / before:.2f} |")
    return "\n".join(rows)


@dataclass
class Run:
    label: str
    pages: list[Page]
    outputs: list[Output]
    seconds: float

    def scores(self) -> list[Score]:
        return [score_page(page, out) for page, out in zip(self.pages, self.outputs, strict=True)]

    def total(self, language: str | None = None) -> Score:
        total = Score()
        for page, score in zip(self.pages, self.scores(), strict=True):
            if language is None or page.language == language:
                total.add(score)
        return total


def run(label: str, pages: list[Page], extractor: Extractor) -> Run:
    start = time.process_time()
    outputs = [extractor(page) for page in pages]
    return Run(label, pages, outputs, time.process_time() - start)


def table(runs: Iterable[Run]) -> str:
    rows = [
        "| input | pages | furniture removed | content kept | exact titles | failed | ms/page |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        s = r.total()
        ms = 1000 * r.seconds / max(len(r.pages), 1)
        rows.append(
            f"| {r.label} | {s.pages} | {s.removed:.3f} | {s.kept:.3f} | {s.exact_titles:.3f} "
            f"| {s.failed} | {ms:.0f} |"
        )
    return "\n".join(rows)


def language_table(runs: list[Run]) -> str:
    languages = sorted({page.language for r in runs for page in r.pages})
    labels = " | ".join(f"{r.label} (removed / kept / titles)" for r in runs)
    head = "| language | pages | " + labels
    rows = [head + " |", "|---|---:|" + "---|" * len(runs)]
    for language in languages:
        cells = []
        count = 0
        for r in runs:
            s = r.total(language)
            count = s.pages
            cells.append(f"{s.removed:.2f} / {s.kept:.2f} / {s.exact_titles:.2f}")
        rows.append(f"| {language} | {count} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def details(r: Run) -> str:
    """Per page: wrong titles, lost content and leaked furniture, to see which kinds fail."""
    out = [f"## {r.label}: pages with errors"]
    for page, output, score in zip(r.pages, r.outputs, r.scores(), strict=True):
        wrong_title = score.titles == 0
        if not (wrong_title or score.lost or score.leaked or output.error):
            continue
        out.append(f"- {page.name}" + (f" FAILED: {output.error}" if output.error else ""))
        if wrong_title:
            out.append(f"    title want: {page.title!r}\n    title got:  {output.title!r}")
        out += [f"    lost:   {line[:110]!r}" for line in score.lost]
        out += [f"    leaked: {line[:110]!r}" for line in score.leaked]
    return "\n".join(out)


def export(r: Run, path: Path) -> None:
    """JSONL that ../shared/devsets/score_text.py scores (url ends in the labelled name)."""
    with path.open("w", encoding="utf-8") as out:
        for page, output in zip(r.pages, r.outputs, strict=True):
            if output.text is not None:
                record = {"url": f"file:///{page.name}", "title": output.title, "text": output.text}
                out.write(json.dumps(record, ensure_ascii=False) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=PARTS, default="all", help="part of the dev set")
    parser.add_argument("--no-reference", action="store_true", help="skip bare trafilatura")
    parser.add_argument("--no-languages", action="store_true", help="skip the per-language table")
    parser.add_argument("--only", choices=("html", "text"), help="score only this input")
    parser.add_argument("--details", action="store_true", help="list the errors page by page")
    parser.add_argument("--export", type=Path, help="write score_text.py exports to this folder")
    parser.add_argument("--devset", type=Path, default=DEVSET, help="folder with labels.json")
    parser.add_argument(
        "--cost",
        action="store_true",
        help="only compare HTML extraction CPU before issue 10 and now, on the dev set pages "
        "and extract_speed.py's generated pages, interleaved in this run",
    )
    args = parser.parse_args()
    if not (args.devset / "labels.json").is_file():
        parser.error(f"dev set not found: {args.devset / 'labels.json'}")
    devset = args.devset
    if args.cost:
        print(cost_table(devset_pages("html", args.part, devset)))
        return

    dev_runs: list[Run] = []
    if args.only != "text":
        dev_runs.append(
            run("HTML, crawl extraction", devset_pages("html", args.part, devset), product)
        )
    if args.only != "html":
        text = devset_pages("txt", args.part, devset)
        dev_runs.append(run("plain text of the same pages", text, product))
    if not args.no_reference and args.only != "text":
        html = devset_pages("html", args.part, devset)
        dev_runs.append(run("bare trafilatura on the HTML (reference)", html, bare_trafilatura))
    other_runs = []
    if args.only != "html":
        other_runs.append(run("seeds", seed_like_pages(SEED_LABELS, SEEDS), product))
        other_runs.append(run("tests/data/unseen", unseen_pages(), product))

    print(f"# dev set {devset}, part: {args.part}\n")
    print(table(dev_runs))
    if other_runs:
        print("\n# lightly furnished plain text\n")
        print(table(other_runs))
    if not args.no_languages:
        print("\n# per language (dev set, identified from the labelled text by py3langid)\n")
        print(language_table(dev_runs))
    if args.details:
        for r in dev_runs + other_runs:
            print("\n" + details(r))
    if args.export:
        args.export.mkdir(parents=True, exist_ok=True)
        for r in dev_runs + other_runs:
            slug = re.sub(r"[^a-z0-9]+", "-", r.label.lower()).strip("-")
            export(r, args.export / f"{slug}.jsonl")
        print(f"\nexports written to {args.export}")


if __name__ == "__main__":
    main()
