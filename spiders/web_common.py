"""What the HTTP spiders share: argument parsing, URL lists, redirects followed one hop at a time.

Redirects are followed by the spiders, not by RedirectMiddleware, so every hop (301, 302, ...) is an
item of its own: its response record gets an index row instead of lying in the WARC unreferenced.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeAlias, TypeVar
from urllib.parse import quote, urljoin, urlsplit

import scrapy
from scrapy import signals
from scrapy.http import Response
from scrapy.settings import BaseSettings
from twisted.python.failure import Failure

from pipeline.crawl.archived_answers import FailedEarlier
from pipeline.crawl.spider_arguments import SpiderArgumentError
from pipeline.items import ArchiveItem
from spiders.article_signals import judge_article
from spiders.base import archive_item, error_item, failure_item

META_REDIRECTS = "archive_redirects"
META_REDIRECT_CHAIN = "archive_redirect_chain"  # the URLs of a redirect chain so far
# Scrapy's URLLENGTH_LIMIT default: longer URLs are dropped by its UrlLengthMiddleware.
MAX_URL_LENGTH = 2083
META_DEPTH = "archive_depth"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
URI_SAFE = ":/?#[]@!$&'()*+,;=%~"
FORWARDED_META = frozenset({"dont_redirect", "depth", META_DEPTH})
# Start requests handed to the scheduler at a time once the engine is busy (~0.1-0.2 MB of them).
START_REQUEST_BATCH = 100

SpiderOutput: TypeAlias = Iterator[ArchiveItem | scrapy.Request]
SpiderT = TypeVar("SpiderT", bound=scrapy.Spider)
P = ParamSpec("P")
T = TypeVar("T")


class ArgumentError(SpiderArgumentError):
    """A spider argument (-a name=value) is unusable; the message names the argument."""


def check_http_url(url: str, what: str = "url") -> str:
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        # Scrapy's UrlLengthMiddleware would drop it without a trace.
        raise ArgumentError(f"{what}: URL longer than {MAX_URL_LENGTH} characters ({len(url)})")
    try:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ArgumentError(f"{what}: not an absolute http(s) URL: {url!r}")
        scrapy.Request(url)  # what Scrapy refuses later (and would drop) is refused here
    except ValueError as error:  # "Invalid IPv6 URL", a bad port, ...
        if isinstance(error, ArgumentError):
            raise
        raise ArgumentError(f"{what}: not a valid URL ({error}): {url!r}") from None
    return url


def input_uri(text: str) -> str:
    """A failure row's URI for bad input text: WARC-Target-URI allows no spaces and no empty
    value, so spaces are percent-encoded (the reason keeps the text as given)."""
    cleaned = quote(text.strip(), safe=URI_SAFE)
    return cleaned or "about:blank"


def input_failure(text: str, reason: str) -> ArchiveItem:
    return failure_item(input_uri(text), "input", reason)


def parse_bool(value: str | bool, name: str) -> bool:
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ArgumentError(f"{name}: expected true or false, got {value!r}")


def parse_int(value: str | int, name: str, minimum: int = 0) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ArgumentError(f"{name}: expected a whole number, got {value!r}") from None
    if number < minimum:
        raise ArgumentError(f"{name}: must be at least {minimum}, got {number}")
    return number


def parse_regex(value: str | None, name: str) -> re.Pattern[str] | None:
    if not value:
        return None
    try:
        return re.compile(value)
    except re.error as error:
        raise ArgumentError(f"{name}: invalid regular expression {value!r}: {error}") from None


def parse_when(value: str | None, name: str) -> datetime | None:
    """An ISO date or date-time; naive values are taken as UTC."""
    if not value:
        return None
    parsed = parse_w3c_date(value)
    if parsed is None:
        raise ArgumentError(f"{name}: expected an ISO date like 2024-05-14, got {value!r}")
    return parsed


def parse_w3c_date(value: str) -> datetime | None:
    """W3C datetime as in sitemaps (YYYY, YYYY-MM-DD, with time and zone); None if unreadable."""
    text = value.strip().replace("Z", "+00:00")
    if re.fullmatch(r"\d{4}(-\d{2})?", text):
        text = (text + "-01-01")[:10] if len(text) == 4 else text + "-01"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def read_url_lines(path: str) -> Iterator[tuple[int, str]]:
    """(line number, text) of each non-blank, non-comment line of a URL list file."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise ArgumentError(f"urls: no such file: {path}")
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise ArgumentError(f"urls: {path} is not UTF-8 text: {error}") from None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            yield number, stripped


def web_request(
    url: str,
    callback: Callable[..., Any],
    errback: Callable[[Failure], Any],
    meta: dict[str, Any] | None = None,
    **kwargs: Any,
) -> scrapy.Request:
    """A request whose redirects come back to the spider (see the module docstring)."""
    return scrapy.Request(
        url,
        callback=callback,
        errback=errback,
        meta={"dont_redirect": True, **(meta or {})},
        **kwargs,
    )


def next_hop(
    response: Response, max_hops: int, hosts: frozenset[str] | None = None
) -> scrapy.Request | str | None:
    """The next hop for a 3xx response with a Location; why it is not followed (a loop, too
    many hops, an unusable Location, another host than ``hosts``); None if not a redirect."""
    location = response.headers.get(b"Location")
    if response.status not in REDIRECT_STATUSES or not location:
        return None
    hops = int(response.meta.get(META_REDIRECTS, 0)) + 1
    if hops > max_hops:
        return f"redirect not followed: more than {max_hops} hops"
    text = location.decode("latin-1").strip()
    try:
        target = check_http_url(urljoin(response.url, text), "Location")
    except (ArgumentError, ValueError) as error:
        return f"redirect not followed: unusable Location: {error}"
    chain = [*response.meta.get(META_REDIRECT_CHAIN, ()), response.url]
    if target in chain:
        return f"redirect loop: {' -> '.join([*chain, target])}"
    if hosts is not None and (urlsplit(target).netloc.lower() not in hosts):
        return f"redirect to another host not followed (same_host=true): {target}"
    request = response.request
    assert request is not None
    # Only the keys the spiders set travel on: capture refs and Scrapy's per-download keys
    # belong to this hop's response.
    meta = {k: v for k, v in response.meta.items() if k in FORWARDED_META}
    meta[META_REDIRECTS] = hops
    meta[META_REDIRECT_CHAIN] = chain
    return request.replace(url=target, meta=meta)


def redirect_request(response: Response, max_hops: int) -> scrapy.Request | None:
    """The next hop for a 3xx response with a Location, or None (not a redirect, or not
    followed)."""
    following = next_hop(response, max_hops)
    return following if isinstance(following, scrapy.Request) else None


def handle_redirect(
    response: Response, max_hops: int, hosts: frozenset[str] | None = None
) -> Iterator[ArchiveItem | scrapy.Request]:
    """A 3xx: its item (captured, not an article) and the next hop, or a failure saying why the
    chain ends there (every input ends as a document or a failure row)."""
    item = archive_item(response, index_as_article=False)
    following = next_hop(response, max_hops, hosts)
    if isinstance(following, str):
        item.fail("fetch", following)
    yield item
    if isinstance(following, scrapy.Request):
        yield following


def redirect_hosts(spider: scrapy.Spider) -> frozenset[str] | None:
    """The hosts a spider's redirects may lead to (site with same_host), None for any."""
    if not getattr(spider, "same_host", False):
        return None
    return frozenset(getattr(spider, "hosts", ()))


def is_redirect(response: Response) -> bool:
    return response.status in REDIRECT_STATUSES


def follows_redirects(
    callback: Callable[Concatenate[SpiderT, Response, P], SpiderOutput],
) -> Callable[Concatenate[SpiderT, Response, P], SpiderOutput]:
    """A generator callback that hands 3xx responses to handle_redirect before its own code runs.

    The wrapper is a plain function, so the decorated callback stays a method of the spider and
    JOBDIR can still store requests that name it."""

    @functools.wraps(callback)
    def wrapper(
        spider: SpiderT, response: Response, /, *args: P.args, **kwargs: P.kwargs
    ) -> SpiderOutput:
        if is_redirect(response):
            max_hops = spider.settings.getint("REDIRECT_MAX_TIMES", 20)
            yield from handle_redirect(response, max_hops, redirect_hosts(spider))
            return
        yield from callback(spider, response, *args, **kwargs)

    return wrapper


class ErrbackMixin:
    """``on_error`` as a spider method: JOBDIR can only store requests whose callbacks and
    errbacks are methods of the spider, others stay in memory and are lost on interruption."""

    def on_error(self, failure: Failure) -> ArchiveItem | None:
        if failure.check(FailedEarlier):
            return None  # its failure row is in the index already
        return error_item(failure)


class WebSpider(ErrbackMixin, scrapy.Spider):
    """Base of the HTTP spiders (feed, sitemap, site, urls): requests whose redirects come back
    to the spider, input rejected as failure items, captured-only documents parsed or failed."""

    argument_error: str | None = None  # set by __init__ when an argument is unusable
    _start_batch_left = 0  # start requests that may still go without waiting

    @classmethod
    def check_arguments(cls, settings: BaseSettings, **arguments: Any) -> None:
        """Before the crawl: raise ArgumentError for what ``__init__`` finds unusable."""
        spider = cls(**arguments)
        if spider.argument_error:
            raise ArgumentError(spider.argument_error)

    def request(
        self, url: str, callback: Callable[..., Any], meta: dict[str, Any] | None = None
    ) -> scrapy.Request:
        return web_request(url, callback, self.on_error, meta=meta)

    async def room_for_a_start_request(self) -> None:
        """Wait until the engine can take more start requests (Scrapy's lazy start pattern).

        Scrapy keeps reading ``start()`` while the engine is busy, parking each request in the
        scheduler: a list of 100,000 URLs held 1-2 kB of Request per URL in memory from the
        crawl's first minute. Here, once the engine backs out, the next requests wait until
        the scheduler is empty, then come in a batch: memory does not grow with the list, and
        the wait (a signal handler connected and fired) is paid once a batch, not once a URL.
        A shared Redis frontier is where a list belongs, and there other workers may be waiting
        for the seeding to finish, so it is seeded at once.
        """
        if self._start_batch_left > 0:
            self._start_batch_left -= 1
            return
        if self.crawler.settings.get("ARCHIVE_REDIS_URL"):
            return
        engine = self.crawler.engine
        if engine is not None and engine.needs_backout():
            await self.crawler.signals.wait_for(signals.scheduler_empty)
        self._start_batch_left = START_REQUEST_BATCH - 1

    def checked_request(
        self, url: str, what: str, callback: Callable[..., Any]
    ) -> scrapy.Request | ArchiveItem:
        """A request for a URL found in a document, or an input failure if it is not http(s)."""
        try:
            return self.request(check_http_url(url, what), callback)
        except ArgumentError as error:
            return input_failure(url, str(error))

    def rejected(self, text: str, reason: str) -> ArchiveItem:
        """The failure item for an unusable spider argument, logged as an error."""
        self.logger.error("%s: %s", self.name, reason)
        return input_failure(text, reason)

    def parse_captured(
        self, response: Response, parse: Callable[[Response], T], error: type[Exception]
    ) -> tuple[ArchiveItem, T | None]:
        """The item of a document archived but not indexed (feed, sitemap) and what ``parse``
        read from it; None when the fetch failed or ``parse`` raised ``error`` (the item then
        fails at stage "parse", so the unreadable document is still on record)."""
        item = archive_item(response, index_as_article=False)
        if item.failure:
            return item, None
        try:
            return item, parse(response)
        except error as problem:
            self.logger.warning("%s: %s: %s", self.name, response.url, problem)
            item.fail("parse", str(problem))
            return item, None

    @follows_redirects
    def parse_page(self, response: Response) -> SpiderOutput:
        """A page found by discovery (sitemap entry, feed entry)."""
        yield page_item(response)


def page_item(response: Response) -> ArchiveItem:
    """The item for a page found by discovery (sitemap, feed, site crawl): HTML pages are indexed
    as articles only when their content says so (spiders.article_signals)."""
    content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1").lower()
    html = "html" in content_type or (not content_type and b"<html" in response.body[:2048].lower())
    if not html or not 200 <= response.status < 300:
        return archive_item(response)
    return archive_item(response, index_as_article=judge_article(response.body).is_article)
