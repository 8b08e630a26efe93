"""URL helpers shared by the index's pure parts and its queries; no database imports.

Why a module of its own: the extraction workers read credit lines (index/credits.py), which name
outlets by host; importing the database package there cost each worker some 35 MB and 0.3 s.
"""

from __future__ import annotations

from urllib.parse import urlsplit


def url_host(url: str) -> str:
    """The URL's host without "www.", or "" for a URL that does not parse."""
    try:
        return (urlsplit(url).hostname or "").removeprefix("www.")
    except ValueError:
        return ""
