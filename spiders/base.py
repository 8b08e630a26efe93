"""What every spider hands to the item pipelines: one ArchiveItem per input, success or not."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import (
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)

from pipeline.crawl.archived_answers import META_FROM_ARCHIVE
from pipeline.crawl.capture import (
    META_CAPTURE,
    META_CAPTURE_ERROR,
    META_FETCHED_AT,
    META_REQUEST_RECORD,
    META_REVISIT_OF,
)
from pipeline.items import ArchiveItem

if TYPE_CHECKING:
    from scrapy.http import Response
    from twisted.python.failure import Failure

META_FILENAME = "archive_filename"


def archive_item(response: Response, *, index_as_article: bool = True) -> ArchiveItem:
    """The item for a downloaded response; its WARC records were written at download time."""
    meta = response.meta
    content_type = response.headers.get(b"Content-Type")
    item = ArchiveItem(
        url=response.url,
        fetched_at=meta.get(META_FETCHED_AT) or datetime.now(UTC),
        capture=meta.get(META_CAPTURE),
        request_record=meta.get(META_REQUEST_RECORD),
        body=response.body,
        content_type=content_type.decode("latin-1") if content_type else None,
        http_status=None if response.url.startswith("file:") else response.status,
        revisit_of=meta.get(META_REVISIT_OF),
        index_as_article=index_as_article,
        filename=meta.get(META_FILENAME),
    )
    if meta.get(META_FROM_ARCHIVE):
        item.from_archive = True  # a resumed job's page, answered from the WARC files
    elif meta.get(META_CAPTURE_ERROR):
        item.fail("capture", meta[META_CAPTURE_ERROR])
    else:
        item.fail_on_http_error()
    return item


def failure_item(url: str, stage: str, reason: str) -> ArchiveItem:
    item = ArchiveItem(url=url, fetched_at=datetime.now(UTC))
    item.fail(stage, reason)
    return item


def describe_failure(failure: Failure) -> str:
    error = failure.value
    if failure.check(DNSLookupError, CannotResolveHostError):
        return f"DNS lookup failed: {error}"
    if failure.check(ConnectionRefusedError, DownloadConnectionRefusedError):
        return "connection refused"
    if failure.check(TimeoutError, TCPTimedOutError, DownloadTimeoutError):
        return "timed out"
    if failure.check(ResponseDataLossError):
        return f"connection lost before the whole body arrived: {error}"
    if failure.check(IgnoreRequest) and "robots.txt" in str(error):
        return "forbidden by robots.txt"
    if failure.check(HttpError):
        return f"HTTP {error.response.status}"
    if isinstance(error, FileNotFoundError):
        return f"file not found: {error.filename}"
    if isinstance(error, PermissionError):
        return f"permission denied: {error.filename}"
    if isinstance(error, IsADirectoryError):
        return f"is a directory: {error.filename}"
    text = str(error) or type(error).__name__
    if "maxsize" in text.lower() or "warnsize" in text.lower() or "larger than" in text.lower():
        return f"too large: {text}"
    return f"{type(error).__name__}: {text}"


def error_item(failure: Failure) -> ArchiveItem:
    """Errback result: a failure row with the reason, plus the capture if the body was archived."""
    request = getattr(failure, "request", None)
    url = request.url if request is not None else "unknown"
    item = failure_item(url, "fetch", describe_failure(failure))
    if request is not None:
        item.capture = request.meta.get(META_CAPTURE)
        item.request_record = request.meta.get(META_REQUEST_RECORD)
        item.filename = request.meta.get(META_FILENAME)
    return item
