"""Archive first: every downloaded body goes into the WARC file before anything else looks at it.

Scrapy sends ``response_downloaded`` straight from the download handler, before the downloader
middlewares (HttpCompressionMiddleware among them) change the response, so the bytes written here
are the bytes as received. The record references travel on in ``request.meta``.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
from datetime import UTC, datetime
from http import HTTPStatus
from typing import TYPE_CHECKING

from scrapy import signals
from w3lib.url import file_uri_to_path

from pipeline.crawl.archived_answers import META_FROM_ARCHIVE
from pipeline.crawl.runtime import ArchiveRuntime
from pipeline.crawl.wire import META_WIRE, WireExchange
from pipeline.items import ArchiveItem
from pipeline.warc.http_wire import WireMessage, request_message, response_message
from pipeline.warc.reading import payload_sha1
from pipeline.warc.ref import RecordRef

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Headers, Response

    from pipeline.warc.writer import WarcWriter

logger = logging.getLogger(__name__)

META_CAPTURE = "archive_capture"
META_REQUEST_RECORD = "archive_request_record"
META_REVISIT_OF = "archive_revisit_of"
META_CAPTURE_ERROR = "archive_capture_error"
META_FETCHED_AT = "archive_fetched_at"
META_SKIP = "archive_skip"


def http_headers(headers: Headers) -> list[tuple[str, str]]:
    """Scrapy Headers as (name, value) text pairs, every value of repeated headers kept."""
    pairs: list[tuple[str, str]] = []
    for name in list(headers):
        for value in headers.getlist(name):
            pairs.append((name.decode("latin-1"), value.decode("latin-1")))
    return pairs


def reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def http_version(protocol: str | None) -> str:
    """Scrapy reports "HTTP/1.1", or "h2" from its HTTP/2 handler; WARC wants "HTTP/x"."""
    if protocol and protocol.upper().startswith("HTTP/"):
        return protocol.upper()
    if protocol and protocol.lower() == "h2":
        return "HTTP/2"
    return "HTTP/1.1"


def lost_chunked_framing(
    request: Request, response: Response, protocol: str, headers: list[tuple[str, str]]
) -> bool:
    """Twisted strips Transfer-Encoding (and Content-Length, which Scrapy puts back when known).

    An HTTP/1.1 response with a body and no Content-Length therefore came chunked (the rare
    close-delimited response is recorded the same way).
    """
    if protocol != "HTTP/1.1" or request.method == "HEAD":
        return False
    if response.status < 200 or response.status in (204, 304):
        return False
    return not any(name.lower() in ("content-length", "transfer-encoding") for name, _ in headers)


def wire_messages(request: Request) -> tuple[WireMessage, WireMessage] | None:
    """The request and response as they crossed the wire (pipeline.crawl.wire), when the
    exchange was recorded and both frame completely; None otherwise (non-HTTP/1.1 handlers, a
    download stopped early), and the record is built from Scrapy's Response instead."""
    exchange: WireExchange | None = request.meta.pop(META_WIRE, None)
    if exchange is None:
        return None
    sent = request_message(bytes(exchange.sent))
    received = response_message(bytes(exchange.received), request.method)
    # The connection may wait in the pool holding the exchange: free its bytes now.
    exchange.sent.clear()
    exchange.received.clear()
    if sent is None or received is None:
        return None
    return sent, received


def is_robots_request(request: Request) -> bool:
    return bool(request.meta.get("dont_obey_robotstxt")) and request.url.endswith("/robots.txt")


def request_target(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


class WarcCaptureExtension:
    def __init__(self, crawler: Crawler, runtime: ArchiveRuntime) -> None:
        self.crawler = crawler
        self.runtime = runtime
        # robots.txt items being indexed: kept referenced until their rows commit.
        self.robots_tasks: set[asyncio.Task[None]] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcCaptureExtension:
        extension = cls(crawler, ArchiveRuntime.for_crawler(crawler))
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(extension.response_downloaded, signal=signals.response_downloaded)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        self.runtime.open_or_close_spider(spider)

    def spider_closed(self, spider: Spider, reason: str = "finished") -> None:
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        self.runtime.close(stats, reason)

    def response_downloaded(self, response: Response, request: Request, spider: Spider) -> None:
        if request.meta.get(META_SKIP) or request.meta.get(META_FROM_ARCHIVE):
            request.meta.pop(META_WIRE, None)
            return
        request.meta[META_FETCHED_AT] = datetime.now(UTC)
        try:
            self._capture(response, request)
        except Exception as error:
            # An unwritable archive must surface per item, not kill the crawl.
            logger.error("archive: could not write WARC record for %s: %s", request.url, error)
            request.meta[META_CAPTURE_ERROR] = f"WARC write failed: {error}"
            self._inc("capture/errors")
            self.runtime.stop_if_disk_full(error)

    def _capture(self, response: Response, request: Request) -> None:
        writer = self.runtime.writer
        if writer is None:
            self.runtime.open(self.crawler.spider)
            writer = self.runtime.writer
        assert writer is not None
        is_file = request.url.startswith("file:")
        wire = None if is_file else wire_messages(request)
        body = wire[1].body if wire else response.body
        original = self._original_for(body, response.status, is_file)
        if is_file:
            ref = self._capture_file(writer, request, body, original)
        elif wire:
            ref = self._capture_wire(writer, request, response, wire, original)
        else:
            ref = self._capture_http(writer, request, response, original)
        if original is not None:
            request.meta[META_REVISIT_OF] = original
        else:
            self.runtime.remember_payload(ref)
        request.meta[META_CAPTURE] = ref
        self._inc(f"records/{ref.record_type}")
        self._inc("warc/bytes", ref.length)
        if is_robots_request(request):
            self._index_robots(request, ref, response.status)

    def _index_robots(self, request: Request, ref: RecordRef, status: int) -> None:
        """robots.txt never reaches a spider callback; it is indexed as captured-only here."""
        item = ArchiveItem(
            url=request.url,
            fetched_at=request.meta.get(META_FETCHED_AT) or datetime.now(UTC),
            capture=ref,
            request_record=request.meta.get(META_REQUEST_RECORD),
            http_status=status,
            revisit_of=request.meta.get(META_REVISIT_OF),
            index_as_article=False,
        )
        self._inc("inputs/robots_txt")  # an input of its own in the summary's count
        task = asyncio.get_running_loop().create_task(self.runtime.store(item, self.crawler.stats))
        self.robots_tasks.add(task)
        task.add_done_callback(self.robots_tasks.discard)

    def _original_for(self, body: bytes, status: int, is_file: bool) -> RecordRef | None:
        # Empty bodies and error pages share payloads by accident: only content is deduplicated.
        if not body or not (is_file or 200 <= status < 300):
            return None
        return self.runtime.original_for_payload(payload_sha1(body))

    def _capture_file(
        self, writer: WarcWriter, request: Request, body: bytes, original: RecordRef | None
    ) -> RecordRef:
        if original is not None:
            return writer.write_revisit(request.url, original=original, resource=True)
        path = file_uri_to_path(request.url)
        content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
        return writer.write_resource(request.url, body, content_type=content_type)

    def _capture_wire(
        self,
        writer: WarcWriter,
        request: Request,
        response: Response,
        wire: tuple[WireMessage, WireMessage],
        original: RecordRef | None,
    ) -> RecordRef:
        sent, received = wire
        head = received.archived_head()
        status = received.status or response.status
        if original is not None:
            ref = writer.write_wire_revisit(
                response.url, original=original, head=head, status=status
            )
        else:
            ip_address = str(response.ip_address) if response.ip_address else None
            ref = writer.write_wire_response(
                response.url, head=head, body=received.body, status=status, ip_address=ip_address
            )
        request_ref = writer.write_wire_request(
            request.url, head=sent.head, body=sent.body, concurrent_to=ref.record_id
        )
        request.meta[META_REQUEST_RECORD] = request_ref
        self._inc("records/request")
        return ref

    def _capture_http(
        self, writer: WarcWriter, request: Request, response: Response, original: RecordRef | None
    ) -> RecordRef:
        headers = http_headers(response.headers)
        protocol = http_version(getattr(response, "protocol", None))
        if lost_chunked_framing(request, response, protocol, headers):
            # The writer keeps it as X-Archive-Orig-Transfer-Encoding with a true Content-Length.
            headers.append(("Transfer-Encoding", "chunked"))
        ip_address = str(response.ip_address) if getattr(response, "ip_address", None) else None
        if original is not None:
            ref = writer.write_revisit(
                response.url,
                original=original,
                status=response.status,
                reason=reason_phrase(response.status),
                headers=headers,
            )
        else:
            ref = writer.write_response(
                response.url,
                status=response.status,
                reason=reason_phrase(response.status),
                headers=headers,
                body=response.body,
                http_version=protocol,
                ip_address=ip_address,
            )
        request_ref = writer.write_request(
            request.url,
            method=request.method,
            target=request_target(request.url),
            headers=http_headers(request.headers),
            body=request.body,
            concurrent_to=ref.record_id,
        )
        request.meta[META_REQUEST_RECORD] = request_ref
        self._inc("records/request")
        return ref

    def _inc(self, key: str, count: int = 1) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"archive/{key}", count)
