"""The dev set's real news pages as a loopback site: copies that are one document each.

The crawl benchmarks' generated pages are 3.4-50 kB of HTML; the real pages of
``../shared/devsets/fundus`` are 350 kB on average (scripts, styles, menus, teasers), where
trafilatura's own cost per page is three times larger and the crawl's fixed costs per document
weigh less. Copy 0 of a page is the page as saved; copy k > 0 opens each of its lines with
"Edition k." (paragraphs, lines after a <br>, the JSON-LD articleBody), so that every copy is a
distinct payload with distinct article text: a near-duplicate of the others, indexed as a
document of its own, as the crawl benchmarks expect.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

from bench.article_pages import ArticlePage
from bench.loopback_site import Route, Site

ROOT = Path(__file__).resolve().parent.parent
DEVSET = ROOT.parent / "shared" / "devsets" / "fundus"
# Where an article's lines start: a paragraph, a line after a <br>, the JSON-LD articleBody
# (which trafilatura reads on some pages; also where it sits escaped in a script's string).
_LINE_START = re.compile(r"(<p(?:\s[^>]*)?>|<br\s*/?>|articleBody\\?\"\s*:\s*\\?\")", re.IGNORECASE)


def real_pages(copies: int, devset: Path = DEVSET, first: int | None = None) -> list[ArticlePage]:
    """``copies`` copies of every page of the dev set (of its ``first`` pages, by name), page
    after page."""
    sources = sorted(devset.glob("*.html"))[:first]
    if not sources:
        raise SystemExit(f"no dev-set pages in {devset}")
    pages = []
    for copy in range(copies):
        for source in sources:
            html = source.read_text(encoding="utf-8")
            if copy:
                html = _LINE_START.sub(rf"\1Edition {copy}. ", html)
            index = len(pages)
            pages.append(ArticlePage(index, f"/real/{copy}/{source.stem}", source.stem, html))
    return pages


def build_real_site(copies: int, devset: Path = DEVSET) -> Site:
    """The copies served gzip-compressed, every fourth one chunked (as ``build_site`` does)."""
    articles = real_pages(copies, devset)
    routes = {
        page.path: Route(
            gzip.compress(page.html.encode("utf-8"), compresslevel=6, mtime=0),
            gzipped=True,
            chunked=page.index % 4 == 1,
            article=page.index,
        )
        for page in articles
    }
    return Site(f"{devset.name} dev set, {copies} copies", articles, routes)
