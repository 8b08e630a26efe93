"""Extraction speed, run as a whole process: `python bench/extract_speed.py`.

Cleans a 100 kB plain-text page built from the seeds and the unseen test articles (the cleaner
alone, then the whole document with its date and language), and extracts a generated HTML news
page of growing size (and one without a declared language), reporting the best of several
CPU-time runs.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from pipeline.extract.document import extract_document
from pipeline.extract.text import clean_plain_text, text_document

ROOT = Path(__file__).resolve().parent.parent


def plain_text_corpus(size: int) -> str:
    paths = sorted((ROOT / "seeds").glob("*.txt")) + sorted(
        (ROOT / "tests/data/unseen").glob("*.txt")
    )
    article = "\n\n".join(p.read_text(encoding="utf-8") for p in paths)
    return (article * (size // len(article) + 1))[:size]


def html_page(paragraphs: int) -> bytes:
    body = "".join(
        f"<p>Paragraph {i} of the harbour report, with enough words to be a paragraph.</p>\n"
        for i in range(paragraphs)
    )
    return (
        "<html lang='en'><head><title>Harbour report</title></head><body><nav><a href='/'>Home</a>"
        f"</nav><article><h1>Harbour report</h1>{body}</article><footer>(c) Example</footer>"
        "</body></html>"
    ).encode()


def best_cpu_seconds(function: object, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.process_time()
        function()  # type: ignore[operator]
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    text = plain_text_corpus(100_000)
    clean_plain_text("Warm up\n\nThe rules are compiled once.")
    seconds = best_cpu_seconds(lambda: clean_plain_text(text), args.runs)
    print(f"plain text, 100 kB: {seconds * 1000:.1f} ms CPU (best of {args.runs})")
    # The whole plain-text document: cleaning, then the stamp's date and the language.
    start = time.process_time()
    text_document(plain_text_corpus(5_000))  # the first document loads the language model
    print(f"plain-text document, first of the process: {time.process_time() - start:.3f} s CPU")
    seconds = best_cpu_seconds(lambda: text_document(text), args.runs)
    print(f"plain-text document, 100 kB: {seconds * 1000:.1f} ms CPU (best of {args.runs})")
    for paragraphs in (100, 1_000, 10_000):
        page = html_page(paragraphs)
        seconds = best_cpu_seconds(
            lambda page=page: extract_document(page, url="https://example.invalid/a"), 3
        )
        print(f"HTML, {len(page) / 1e6:.2f} MB ({paragraphs} paragraphs): {seconds:.3f} s CPU")
    undeclared = html_page(1_000).replace(b"<html lang='en'>", b"<html>")
    seconds = best_cpu_seconds(lambda: extract_document(undeclared, url="https://x.invalid/a"), 3)
    print(f"HTML, 1000 paragraphs, no lang declared: {seconds:.3f} s CPU")


if __name__ == "__main__":
    main()
