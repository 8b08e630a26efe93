"""A per-host delay that holds across all workers of a shared frontier (setting
``ARCHIVE_REDIS_HOST_DELAY``, seconds).

Scrapy's politeness limits (``DOWNLOAD_DELAY``, ``CONCURRENT_REQUESTS_PER_DOMAIN``, AutoThrottle)
live in each process's downloader slots: N workers send up to N times what one would. With this
setting each request first takes the next free time slot of its host from Redis, one script
call: slots are ``delay`` apart and counted on Redis's clock, so requests to one host leave at
most one per ``delay`` over all workers, on any number of machines. Each worker's own limits
still apply on top (they can only space requests further apart).

A request answered without the network (from the archive) never reaches this middleware: it
sits last before the downloader.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from redis.exceptions import RedisError
from scrapy.exceptions import NotConfigured
from scrapy.utils.httpobj import urlparse_cached

from pipeline.crawl.frontier_scrapy import FrontierLink, redis_url

if TYPE_CHECKING:
    from redis import Redis
    from scrapy import Request
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

# The host's next free slot (ms on Redis's clock) moves on by the delay; the answer is how long
# the caller waits for the slot it took. The key expires once the host has been quiet a while.
# Effects replication: TIME is not deterministic (the default from Redis 7, asked for on 5 and 6).
_TAKE_SLOT = """
redis.replicate_commands()
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot < now then slot = now end
local delay = tonumber(ARGV[1])
redis.call('SET', KEYS[1], slot + delay, 'PX', delay + 60000)
return slot - now
"""


class SharedHostDelay:
    """Slots of one host spaced ``delay_ms`` apart, shared through Redis."""

    def __init__(self, server: Redis, prefix: str, delay_ms: int) -> None:
        self.prefix = prefix
        self.delay_ms = delay_ms
        self._take = server.register_script(_TAKE_SLOT)

    def key(self, host: str) -> str:
        return f"{self.prefix}:hostdelay:{host}"

    def wait_ms(self, host: str) -> int:
        """Take ``host``'s next slot; how many milliseconds from now it begins."""
        return int(self._take(keys=[self.key(host)], args=[self.delay_ms]))


class SharedHostDelayMiddleware:
    """Downloader middleware: a request waits for its host's shared slot before it is sent."""

    def __init__(self, crawler: Crawler, delay: SharedHostDelay) -> None:
        self.crawler = crawler
        self.delay = delay

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedHostDelayMiddleware:
        settings = crawler.settings
        seconds = settings.getfloat("ARCHIVE_REDIS_HOST_DELAY", 0.0)
        if not redis_url(settings) or seconds <= 0:
            # Off is the ordinary case: no message, which Scrapy would print as a warning.
            raise NotConfigured
        link = FrontierLink.for_crawler(crawler)
        return cls(crawler, SharedHostDelay(link.server, link.prefix, round(seconds * 1000)))

    async def process_request(self, request: Request) -> None:
        host = (urlparse_cached(request).hostname or "").lower()
        if not host:
            return
        try:
            wait_ms = self.delay.wait_ms(host)
        except RedisError as error:  # Redis away for a moment: this worker's own limits hold
            logger.error("frontier: no shared delay for %s: %s", host, error)
            return
        if wait_ms > 0:
            if self.crawler.stats is not None:
                self.crawler.stats.inc_value("archive/frontier/host_delay_ms", wait_ms)
            await asyncio.sleep(wait_ms / 1000)
