"""Every newsvault default. Project settings use the ARCHIVE_ prefix.

Each ARCHIVE_* value can be overridden with ``-s NAME=VALUE`` on the command line or by an
environment variable of the same name (``ARCHIVE_DIR``, ``ARCHIVE_DB_URL``, ...).
"""

from __future__ import annotations

import os

from pipeline import __version__

BOT_NAME = "newsvault"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"
COMMANDS_MODULE = "pipeline.commands"

# Where the WARC files (ARCHIVE_DIR/warc) and the default SQLite index live.
ARCHIVE_DIR = os.environ.get("ARCHIVE_DIR", "archive")
# Empty means sqlite:///{ARCHIVE_DIR}/index.sqlite.
ARCHIVE_DB_URL = os.environ.get("ARCHIVE_DB_URL", "")

# WARC output.
ARCHIVE_WARC_PREFIX = os.environ.get("ARCHIVE_WARC_PREFIX", "newsvault")
ARCHIVE_WARC_MAX_SIZE = int(os.environ.get("ARCHIVE_WARC_MAX_SIZE", str(1_000_000_000)))
ARCHIVE_OPERATOR = os.environ.get("ARCHIVE_OPERATOR", "")
ARCHIVE_CONTACT_URL = os.environ.get("ARCHIVE_CONTACT_URL", "https://example.invalid/newsvault")

# Local files larger than this are not read; they end as failure rows.
ARCHIVE_MAX_FILE_SIZE = int(os.environ.get("ARCHIVE_MAX_FILE_SIZE", str(20 * 1024 * 1024)))

# Extraction runs in a process pool; 0 runs it in a worker thread (tests, tiny machines).
ARCHIVE_EXTRACT_WORKERS = int(os.environ.get("ARCHIVE_EXTRACT_WORKERS", str(os.cpu_count() or 1)))

# Near-duplicates and stories (defaults measured by bench/dedup_eval.py).
ARCHIVE_NEAR_DUP_THRESHOLD = float(os.environ.get("ARCHIVE_NEAR_DUP_THRESHOLD", "0.75"))
ARCHIVE_STORY_THRESHOLD = float(os.environ.get("ARCHIVE_STORY_THRESHOLD", "0.30"))
ARCHIVE_STORY_WINDOW_DAYS = int(os.environ.get("ARCHIVE_STORY_WINDOW_DAYS", "7"))

USER_AGENT = f"newsvault/{__version__} (+{ARCHIVE_CONTACT_URL})"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_MAXSIZE = int(os.environ.get("ARCHIVE_DOWNLOAD_MAXSIZE", str(20 * 1024 * 1024)))
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
# crawl's start, progress and summary lines (pipeline/summary.py) are printed whatever the level.
LOG_LEVEL = os.environ.get("ARCHIVE_LOG_LEVEL", "WARNING")
# Seconds between a crawl's progress lines; 0 prints none.
ARCHIVE_PROGRESS_INTERVAL = float(os.environ.get("ARCHIVE_PROGRESS_INTERVAL", "5"))
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

# Scrapy's robots.txt middleware lets the third and later requests waiting for a host's
# robots.txt through unchecked; ours makes every request wait for the rules (pipeline/robots.py).
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "pipeline.robots.RobotsTxtMiddleware": 100,
    # Before robots.txt: what a resumed job archived is answered from the archive (JOBDIR only).
    "pipeline.resume.ResumeFromArchiveMiddleware": 50,
    # Shared frontier only: a requeued request already archived is answered from the archive.
    "pipeline.frontier_scrapy.RequeuedFromArchiveMiddleware": 55,
}

# A job folder (JOBDIR) resumes from the archive, whatever ended the last run (pipeline/resume.py):
# Scrapy's queue, duplicate filter and spider state, saved only on a clean stop, stay in memory.
SCHEDULER = "pipeline.resume.MemoryScheduler"
DUPEFILTER_CLASS = "pipeline.resume.MemoryDupeFilter"

# Scale-out (pipeline/frontier.py): with a Redis URL (redis://host:6379/0) every worker started
# with the same command shares one frontier (scrapy-redis scheduler and duplicate filter); keys
# start with the prefix. Unset: each crawl schedules in memory as above.
ARCHIVE_REDIS_URL = os.environ.get("ARCHIVE_REDIS_URL", "")
ARCHIVE_REDIS_PREFIX = os.environ.get("ARCHIVE_REDIS_PREFIX", "newsvault")
# A worker silent this long (seconds) is dead: live workers requeue what it held.
ARCHIVE_REDIS_WORKER_TIMEOUT = float(os.environ.get("ARCHIVE_REDIS_WORKER_TIMEOUT", "15"))
SPIDER_MIDDLEWARES = {"pipeline.frontier_scrapy.FrontierSeedMiddleware": 10}

EXTENSIONS = {
    "scrapy.extensions.spiderstate.SpiderState": None,
    "pipeline.capture.WarcCaptureExtension": 100,
    "pipeline.frontier_scrapy.FrontierExtension": 150,
    "pipeline.summary.CrawlSummaryExtension": 900,
}

ITEM_PIPELINES = {
    "pipeline.pipelines.ExtractPipeline": 100,
    "pipeline.pipelines.StorePipeline": 300,
}
