"""Every ARCHIVE_* setting in one place: name, type, default and meaning.

A setting comes from ``-s NAME=VALUE`` or from the environment variable of the same name (the
settings module reads the environment; ``-s`` wins). ``check_settings`` types and checks them
all when a command starts, before anything is written: a size such as ``1GB``, a threshold in
its range, a URL that parses, and no ARCHIVE_* name that is not one of ours. The README's
settings table is this table (``python -m pipeline.archive_settings`` prints it;
tests/test_archive_settings.py keeps the two in step). No Scrapy imports.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol
from urllib.parse import urlsplit

from pipeline import __version__
from pipeline.cli.suggest import closest
from pipeline.db.session import DatabaseError, parse_url

DEFAULT_CONTACT_URL = "https://example.invalid/newsvault"
# The extraction processes are the crawl's parallel stage: below the reactor and the index
# writer, whose single processes every page passes through, they take the CPU those leave.
DEFAULT_EXTRACT_NICENESS = 5
MAX_NICENESS = 19
# Environment variables of the test suite (ARCHIVE_TEST_POSTGRES_URL, ...), not settings.
TEST_SUITE_PREFIX = "ARCHIVE_TEST_"
# Scrapy's priority of the settings module; -s (cmdline) is higher, so what it sets wins.
PROJECT_PRIORITY = 20

_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?", re.IGNORECASE)
_UNITS = {
    "": 1, "b": 1,
    "k": 10**3, "kb": 10**3, "kib": 2**10, "ki": 2**10,
    "m": 10**6, "mb": 10**6, "mib": 2**20, "mi": 2**20,
    "g": 10**9, "gb": 10**9, "gib": 2**30, "gi": 2**30,
    "t": 10**12, "tb": 10**12, "tib": 2**40, "ti": 2**40,
}  # fmt: skip
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingError(ValueError):
    """An ARCHIVE_* setting is unknown or its value unusable; ``str()`` is one line for users."""


class SettingsSource(Protocol):
    """Scrapy's settings, as far as the check needs them."""

    def __iter__(self) -> Any: ...
    def get(self, name: str, default: Any = None) -> Any: ...
    def getpriority(self, name: str) -> int | None: ...
    def set(self, name: str, value: Any, priority: int | str = "project") -> None: ...


@dataclass(frozen=True)
class Setting:
    name: str
    parse: Callable[[str], Any]  # the value as given (text) -> typed value; ValueError if unusable
    default: Any
    shown_default: str  # the default as the README shows it
    meaning: str


def text(value: str) -> str:
    return value.strip()


def nonempty(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value.strip()


def file_prefix(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9._-]+", value.strip()):
        raise ValueError(f"expected letters, digits, '.', '_' or '-', got {value!r}")
    return value.strip()


def size(minimum: int) -> Callable[[str], int]:
    def parse_size(value: str) -> int:
        match = _SIZE.fullmatch(value.strip())
        number = None
        if match:
            try:
                number = Decimal(match[1]) * _UNITS[(match[2] or "").lower()]
            except InvalidOperation:
                number = None
        if number is None or number != number.to_integral_value():
            raise ValueError(f"not a size: {value!r} (bytes, or 500MB, 1GB, 2GiB)")
        if number < minimum:
            raise ValueError(f"must be at least {minimum}, got {value!r}")
        return int(number)

    return parse_size


def whole(minimum: int) -> Callable[[str], int]:
    def parse_whole(value: str) -> int:
        if not re.fullmatch(r"[+-]?\d+", value.strip()):
            raise ValueError(f"expected a whole number, got {value!r}")
        number = int(value)
        if number < minimum:
            raise ValueError(f"must be at least {minimum}, got {number}")
        return number

    return parse_whole


def niceness(value: str) -> int:
    number = whole(0)(value)
    if number > MAX_NICENESS:
        raise ValueError(f"must be at most {MAX_NICENESS}, got {number}")
    return number


def _number(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"expected a number, got {value!r}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"expected a number, got {value!r}")
    return number


def fraction(value: str) -> float:
    number = _number(value)
    if not 0 < number <= 1:
        raise ValueError(f"must be more than 0 and at most 1, got {value.strip()}")
    return number


def seconds(value: str) -> float:
    number = _number(value)
    if number <= 0:
        raise ValueError(f"must be more than 0 seconds, got {value.strip()}")
    return number


def seconds_or_off(value: str) -> float:
    number = _number(value)
    if number < 0:
        raise ValueError(f"must be 0 (off) or more seconds, got {value.strip()}")
    return number


def database_url(value: str) -> str:
    if not value.strip():
        return ""  # the archive folder's index.sqlite
    try:
        parse_url(value.strip())
    except DatabaseError as error:
        raise ValueError(str(error)) from None
    return value.strip()


def redis_url(value: str) -> str:
    if not value.strip():
        return ""  # no shared frontier
    parts = urlsplit(value.strip())
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    db = parts.path.strip("/")
    if (
        parts.scheme not in ("redis", "rediss")
        or not parts.hostname
        or not port_ok
        or (db and not db.isdigit())
    ):
        raise ValueError(f"not a Redis URL: {value!r} (use redis://HOST:PORT/DB)")
    return value.strip()


def contact_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if (parts.scheme in ("http", "https") and parts.hostname) or (
        parts.scheme == "mailto" and "@" in parts.path
    ):
        return value.strip()
    raise ValueError(f"not an absolute http(s) or mailto: URL: {value!r}")


def log_level(value: str) -> str:
    level = value.strip().upper()
    if level not in _LOG_LEVELS:
        raise ValueError(f"expected one of {', '.join(_LOG_LEVELS)}, got {value!r}")
    return level


SETTINGS: tuple[Setting, ...] = (
    Setting("ARCHIVE_DIR", nonempty, "archive", "`archive`",
            "where `warc/*.warc.gz` and the default `index.sqlite` live (`--archive DIR` on "
            "the command line)"),
    Setting("ARCHIVE_DB_URL", database_url, "", "`sqlite:///$ARCHIVE_DIR/index.sqlite`",
            "the index; `postgresql://user@host/db` for PostgreSQL"),
    Setting("ARCHIVE_WARC_PREFIX", file_prefix, "newsvault", "`newsvault`",
            "WARC file name prefix"),
    Setting("ARCHIVE_WARC_MAX_SIZE", size(1), 1_000_000_000, "`1GB`",
            "rotate to a new WARC file past this size (bytes, or `500MB`, `1GB`, `2GiB`)"),
    Setting("ARCHIVE_MAX_FILE_SIZE", size(1), 20 * 2**20, "`20MiB`",
            "local files, and payloads of imported WARC records, larger than this are not read "
            "(failure row)"),
    Setting("ARCHIVE_DOWNLOAD_MAXSIZE", size(0), 20 * 2**20, "`20MiB`",
            "web responses larger than this are not downloaded (failure row); `0`: no limit"),
    Setting("ARCHIVE_EXTRACT_WORKERS", whole(0), os.cpu_count() or 1, "CPU count",
            "extraction processes; `0` extracts in a thread"),
    Setting("ARCHIVE_EXTRACT_NICENESS", niceness, DEFAULT_EXTRACT_NICENESS,
            f"`{DEFAULT_EXTRACT_NICENESS}`",
            "how much lower the extraction processes' CPU priority is than the crawl's "
            f"(`nice`, 0-{MAX_NICENESS}): when the CPU is short, fetching and indexing go first"),
    Setting("ARCHIVE_NEAR_DUP_THRESHOLD", fraction, 0.75, "`0.75`",
            "estimated Jaccard (more than 0, at most 1) from which a text is a near-duplicate"),
    Setting("ARCHIVE_STORY_THRESHOLD", fraction, 0.30, "`0.30`",
            "story similarity (more than 0, at most 1) from which a document joins a story"),
    Setting("ARCHIVE_STORY_WINDOW_DAYS", whole(0), 7, "`7`",
            "how many days apart two reports of one story may be"),
    Setting("ARCHIVE_CONTACT_URL", contact_url, DEFAULT_CONTACT_URL, f"`{DEFAULT_CONTACT_URL}`",
            "an http(s) or mailto: URL named in the User-Agent (so in each WARC's warcinfo)"),
    Setting("ARCHIVE_OPERATOR", text, "", "`$USER@host`",
            "who runs the crawl, named in each WARC's warcinfo"),
    Setting("ARCHIVE_REDIS_URL", redis_url, "", "",
            "a Redis URL: share one frontier among workers ([Scaling out](#scaling-out))"),
    Setting("ARCHIVE_REDIS_PREFIX", nonempty, "newsvault", "`newsvault`",
            "prefix of the frontier's Redis keys"),
    Setting("ARCHIVE_REDIS_WORKER_TIMEOUT", seconds, 15.0, "`15`",
            "seconds without a heartbeat after which a worker counts as dead"),
    Setting("ARCHIVE_REDIS_HOST_DELAY", seconds_or_off, 0.0, "`0` (off)",
            "seconds between two requests to one host over all workers of a shared frontier"),
    Setting("ARCHIVE_LOG_LEVEL", log_level, "WARNING", "`WARNING`",
            "the level of Scrapy's log on stderr (`-L` overrides it); the crawl's own lines print "
            "at any level"),
    Setting("ARCHIVE_PROGRESS_INTERVAL", seconds_or_off, 5.0, "`5`",
            "seconds between a crawl's progress lines; `0` prints none"),
)  # fmt: skip
BY_NAME: dict[str, Setting] = {setting.name: setting for setting in SETTINGS}


def user_agent(contact: str) -> str:
    return f"newsvault/{__version__} (+{contact})"


def environment_defaults(environ: Mapping[str, str]) -> dict[str, Any]:
    """The settings module's ARCHIVE_* values: the environment's text, else the default."""
    return {s.name: environ.get(s.name, s.default) for s in SETTINGS}


def typed(name: str, value: Any) -> Any:
    """``value`` of setting ``name`` typed and checked (text as given, or a typed default)."""
    setting = BY_NAME[name]
    if value is None:
        return setting.default
    try:
        return setting.parse(str(value))
    except ValueError as error:
        raise SettingError(f"{name}: {error}") from None


def unknown_name(names: Iterable[str], where: str) -> None:
    for name in sorted(names):
        if name.startswith("ARCHIVE_") and name not in BY_NAME:
            # Compared without the prefix every name shares, which would make all look alike.
            short = closest(
                name.removeprefix("ARCHIVE_"), [n.removeprefix("ARCHIVE_") for n in BY_NAME]
            )
            hint = f"; did you mean ARCHIVE_{short}?" if short else " (see README, Settings)"
            raise SettingError(f"unknown {where} {name}{hint}")


def check_settings(settings: SettingsSource, environ: Mapping[str, str]) -> None:
    """Type and check every ARCHIVE_* setting in place; raises SettingError.

    Also derives the Scrapy settings that follow from ours (User-Agent, download size limit,
    log level) unless they were given themselves.
    """
    unknown_name((n for n in environ if not n.startswith(TEST_SUITE_PREFIX)), "environment "
                 "variable")  # fmt: skip
    unknown_name(settings, "setting")
    for setting in SETTINGS:
        value = typed(setting.name, settings.get(setting.name))
        settings.set(setting.name, value, priority=settings.getpriority(setting.name) or 0)
    settings.set("USER_AGENT", user_agent(settings.get("ARCHIVE_CONTACT_URL")), "project")
    settings.set("DOWNLOAD_MAXSIZE", settings.get("ARCHIVE_DOWNLOAD_MAXSIZE"), "project")
    given = settings.getpriority("ARCHIVE_LOG_LEVEL") or 0
    if "ARCHIVE_LOG_LEVEL" in environ or given > PROJECT_PRIORITY:
        settings.set("LOG_LEVEL", settings.get("ARCHIVE_LOG_LEVEL"), "project")


def markdown_table() -> str:
    """The README's settings table."""
    lines = ["| setting | default | meaning |", "|---|---|---|"]
    lines += [f"| `{s.name}` | {s.shown_default} | {s.meaning} |" for s in SETTINGS]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
