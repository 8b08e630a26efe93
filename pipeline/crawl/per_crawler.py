"""One object per running crawler, shared by the components Scrapy builds for it."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

from scrapy.crawler import Crawler

Shared = TypeVar("Shared")


class PerCrawler(Generic[Shared]):
    """Makes one ``Shared`` for a crawler on first use; it goes when the crawler does.

    Scrapy builds the scheduler, the pipelines and the extensions apart, each from the crawler;
    what they must share (the archive's runtime, the Redis frontier link) hangs off the crawler
    here. Weak keys: a finished crawler is not kept alive by it. Locked: extensions may be
    built from other threads.
    """

    def __init__(self, make: Callable[[Crawler], Shared]) -> None:
        self._make = make
        self._made: weakref.WeakKeyDictionary[Crawler, Shared] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def __call__(self, crawler: Crawler) -> Shared:
        with self._lock:
            shared = self._made.get(crawler)
            if shared is None:
                shared = self._made[crawler] = self._make(crawler)
            return shared
