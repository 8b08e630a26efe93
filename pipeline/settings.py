"""Every newsvault default. Project settings use the ARCHIVE_ prefix.

Each ARCHIVE_* value can be overridden with ``-s NAME=VALUE`` on the command line or by an
environment variable of the same name (``ARCHIVE_DIR``, ``ARCHIVE_DB_URL``, ...).
"""

from __future__ import annotations

import os

from pipeline.archive_settings import DEFAULT_CONTACT_URL, environment_defaults, user_agent

BOT_NAME = "newsvault"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"
COMMANDS_MODULE = "pipeline.commands"

# Every ARCHIVE_* setting (name, type, default, meaning: pipeline/archive_settings.py): the
# environment variable of the same name as given, else the default. Commands type and check them
# all, -s values included, before anything is written (check_settings).
globals().update(environment_defaults(os.environ))

USER_AGENT = user_agent(os.environ.get("ARCHIVE_CONTACT_URL") or DEFAULT_CONTACT_URL)
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
# From ARCHIVE_DOWNLOAD_MAXSIZE when a command starts (check_settings).
DOWNLOAD_MAXSIZE = 20 * 1024 * 1024
DOWNLOAD_WARNSIZE = 5 * 1024 * 1024
DOWNLOAD_TIMEOUT = 60
RETRY_TIMES = 2
HTTPERROR_ALLOW_ALL = True
REDIRECT_ENABLED = True
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# An archiving crawl needs no remote code-execution console.
REMOTE_CONTROL_ENABLED = False
# Scrapy's own log: warnings and errors unless -L INFO / -L DEBUG (or ARCHIVE_LOG_LEVEL); the
# crawl's start, progress and summary lines (pipeline/crawl/summary.py) are printed whatever
# the level.
LOG_LEVEL = os.environ.get("ARCHIVE_LOG_LEVEL", "WARNING")
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
# Scrapy's check for generator callbacks that return a value parses the callback's source; its
# cache is keyed by bound methods, which die with their request, so it re-parsed the source for
# most responses (milliseconds each). Our callbacks are tested; the check is off.
WARN_ON_GENERATOR_RETURN_VALUE = False
# Outputs of one response handled at once. Under asyncio Scrapy starts this many tasks for every
# response whatever its output (100 by default: a third of the main process's time went there);
# our callbacks yield one item, or one item and the links or entries to follow.
CONCURRENT_ITEMS = 8
# Bytes of responses Scrapy lets its item processing hold before it stops fetching (5 MB by
# default). A response is held until its item is extracted and indexed, and the index writer
# gathers items for up to a quarter of a second: at 30 pages a second of real news pages
# (0.3-2 MB decompressed) 5 MB was too little, and the engine stopped fetching while the
# extraction workers waited (bench/README.md: the crawl 1.18x -> 1.26-1.31x the bare
# extractor; the main process's peak RSS 178 -> 210 MB).
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 32_000_000

# Scrapy's robots.txt middleware lets the third and later requests waiting for a host's
# robots.txt through unchecked; ours makes every request wait for the rules
# (pipeline/crawl/robots.py).
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "pipeline.crawl.robots.RobotsTxtMiddleware": 100,
    # Scrapy's, with gzip inflated by ISA-L (pipeline/crawl/compression.py); same place.
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "pipeline.crawl.compression.HttpCompressionMiddleware": 590,
    # Before robots.txt: what a resumed job archived is answered from the archive (JOBDIR only).
    "pipeline.crawl.resume.ResumeFromArchiveMiddleware": 50,
    # Shared frontier only: a requeued request already archived is answered from the archive.
    "pipeline.crawl.frontier_scrapy.RequeuedFromArchiveMiddleware": 55,
    # Shared frontier with ARCHIVE_REDIS_HOST_DELAY only: last before the network.
    "pipeline.crawl.host_delay.SharedHostDelayMiddleware": 990,
}

# A job folder (JOBDIR) resumes from the archive, whatever ended the last run
# (pipeline/crawl/resume.py): Scrapy's queue, duplicate filter and spider state, saved only on
# a clean stop, stay in memory.
SCHEDULER = "pipeline.crawl.scheduler.ArchiveScheduler"
DUPEFILTER_CLASS = "pipeline.crawl.resume.MemoryDupeFilter"

# Scale-out (pipeline/crawl/frontier.py): with ARCHIVE_REDIS_URL every worker started with the same
# command shares one frontier (scrapy-redis scheduler and duplicate filter). Unset: each crawl
# schedules in memory as above.
SPIDER_MIDDLEWARES = {"pipeline.crawl.frontier_scrapy.FrontierSeedMiddleware": 10}

# HTTP(S) through Scrapy's HTTP/1.1 handler with a tap on its connections, so WARC records hold
# the request and response bytes as they crossed the wire (pipeline/crawl/wire.py).
DOWNLOAD_HANDLERS = {
    "http": "pipeline.crawl.wire.WireTapDownloadHandler",
    "https": "pipeline.crawl.wire.WireTapDownloadHandler",
}

# Scrapy's in-memory stats without its per-lookup deprecation shim (pipeline/crawl/stats.py).
STATS_CLASS = "pipeline.crawl.stats.ArchiveStatsCollector"

EXTENSIONS = {
    "scrapy.extensions.spiderstate.SpiderState": None,
    "pipeline.crawl.capture.WarcCaptureExtension": 100,
    "pipeline.crawl.frontier_scrapy.FrontierExtension": 150,
    "pipeline.crawl.summary.CrawlSummaryExtension": 900,
}

ITEM_PIPELINES = {
    "pipeline.crawl.pipelines.ExtractPipeline": 100,
    "pipeline.crawl.pipelines.StorePipeline": 300,
}
