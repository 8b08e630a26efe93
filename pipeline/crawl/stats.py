"""The crawl's stats collector: Scrapy's in-memory one, with plain attribute lookups."""

from __future__ import annotations

from scrapy.statscollectors import MemoryStatsCollector


class ArchiveStatsCollector(MemoryStatsCollector):
    """Scrapy's MemoryStatsCollector, the same counters, without its deprecation shim.

    Scrapy's StatsCollector routes every attribute lookup through a Python ``__getattribute__``
    that wraps the stats methods in a check for a deprecated ``spider`` argument, and raises and
    catches an AttributeError for every other attribute (``self._stats`` inside each
    ``inc_value`` among them). A crawl makes some 25 stats calls per page (Scrapy's own
    middlewares and extensions, and ours), each paying that: plain lookups here. No code in the
    project passes ``spider``; the methods still accept it.
    """

    __getattribute__ = object.__getattribute__
