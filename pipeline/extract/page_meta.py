"""A page's title, author, site name and description, as trafilatura's metadata reads them.

trafilatura's ``extract_metadata`` also looks for the page's categories, tags, licence and date,
which the archive does not use (its date comes from pipeline.extract.stated_dates): on real news
pages (350 kB of HTML on average) those take about 3 ms of its 4.6 ms a page. This is its
sequence for the four fields we keep, from its own functions and in its order, so the values
are the ones it gives; ``tests/test_page_meta.py`` compares them with ``extract_metadata`` on
real pages, so that an upgrade of trafilatura that changes its sequence is seen.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from lxml.html import HtmlElement
from trafilatura.metadata import (
    META_URL,
    examine_meta,
    extract_author,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
)

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class PageMeta:
    title: str | None
    author: str | None
    sitename: str | None
    description: str | None


def page_meta(tree: HtmlElement, url: str | None) -> PageMeta:
    """The fields of ``extract_metadata(tree, url)`` the archive keeps (``tree`` is not changed)."""
    found = examine_meta(tree)
    # trafilatura's rule: a one-word author from the meta tags is a handle, not a name.
    if found.author and " " not in found.author:
        found.author = None
    try:
        found = extract_meta_json(tree, found)
    # As trafilatura does: its JSON-LD reading fails on odd but harmless markup.
    except Exception as error:
        LOGGER.debug("JSON-LD metadata not read: %s", error)
    if not found.title:
        found.title = extract_title(tree)
    if not found.author:
        found.author = extract_author(tree)
    if not found.url:
        found.url = extract_url(tree, url)
    if not found.sitename:
        found.sitename = extract_sitename(tree)
    if found.sitename:
        found.sitename = found.sitename.lstrip("@")
        if found.sitename and "." not in found.sitename and not found.sitename[0].isupper():
            found.sitename = found.sitename.title()
    elif found.url:
        match = META_URL.match(found.url)
        if match:
            found.sitename = match[1]
    found.clean_and_trim()
    return PageMeta(found.title, found.author, found.sitename, found.description)
