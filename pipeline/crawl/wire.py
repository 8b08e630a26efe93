"""The bytes of every HTTP exchange as they crossed the wire, for the WARC records.

Scrapy's HTTP/1.1 download handler, with one change: its connections record what they write
and what they receive. The tap sits on Twisted's HTTP11ClientProtocol, above TLS, so HTTPS is
recorded as plaintext HTTP. A connection carries one request at a time (HTTP/1.1 without
pipelining), so the bytes between one ``request()`` and the next belong to that exchange.

The exchange reaches the capture extension in ``request.meta[META_WIRE]``; everything else
(timeouts, DOWNLOAD_MAXSIZE, proxies, the compression middleware) is Scrapy's own code.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from scrapy.core.downloader.handlers.http11 import (
    HTTP11DownloadHandler,
    _LenientHTTP11ClientFactory,
    _LenientHTTP11ClientProtocol,
    _ScrapyAgent,
)
from scrapy.exceptions import ResponseDataLossError
from scrapy.utils._download_handlers import get_dataloss_msg, wrap_twisted_exceptions
from scrapy.utils.defer import maybe_deferred_to_future

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.internet.defer import Deferred
    from twisted.internet.interfaces import IAddress
    from twisted.web._newclient import HTTP11ClientProtocol
    from twisted.web._newclient import Request as TxRequest
    from twisted.web.iweb import IResponse

logger = logging.getLogger(__name__)

META_WIRE = "archive_wire"
_WIRE_ATTR = "_newsvault_wire"


@dataclass
class WireExchange:
    """What one request wrote to its connection and what came back until the next request."""

    sent: bytearray = field(default_factory=bytearray)
    received: bytearray = field(default_factory=bytearray)


class _RecordingTransport:
    """The connection's transport, keeping a copy of every byte written through it."""

    def __init__(self, transport: Any, sent: bytearray) -> None:
        self._transport = transport
        self._sent = sent

    def write(self, data: bytes) -> None:
        self._sent += data
        self._transport.write(data)

    def writeSequence(self, data: Iterable[bytes]) -> None:
        parts = list(data)
        self._sent += b"".join(parts)
        self._transport.writeSequence(parts)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class _RecordedRequest:
    """Twisted's request object, writing itself through a recording transport."""

    def __init__(self, request: TxRequest, sent: bytearray) -> None:
        self._request = request
        self._sent = sent

    def writeTo(self, transport: Any) -> Any:
        return self._request.writeTo(_RecordingTransport(transport, self._sent))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._request, name)


class WireTapProtocol(_LenientHTTP11ClientProtocol):
    _wire: WireExchange | None = None

    def request(self, request: TxRequest) -> Deferred[IResponse]:
        exchange = self._wire = WireExchange()
        recorded = cast("TxRequest", _RecordedRequest(request, exchange.sent))
        deferred = super().request(recorded)

        def attach(response: IResponse) -> IResponse:
            setattr(response, _WIRE_ATTR, exchange)
            return response

        return deferred.addCallback(attach)

    def dataReceived(self, data: bytes) -> None:
        if self._wire is not None:
            self._wire.received += data
        super().dataReceived(data)


class WireTapClientFactory(_LenientHTTP11ClientFactory):
    def buildProtocol(self, addr: IAddress | None) -> HTTP11ClientProtocol:
        return WireTapProtocol(self._quiescentCallback)  # type: ignore[no-untyped-call]


class _WireTapAgent(_ScrapyAgent):
    def _cb_bodyready(self, txresponse: Any, request: Request) -> Any:
        exchange = getattr(txresponse, _WIRE_ATTR, None)
        if exchange is not None:
            request.meta[META_WIRE] = exchange
        return super()._cb_bodyready(txresponse, request)


class WireTapDownloadHandler(HTTP11DownloadHandler):
    """HTTP11DownloadHandler whose exchanges carry their bytes as sent and received."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._pool._factory = WireTapClientFactory

    async def download_request(self, request: Request) -> Response:
        request.meta.pop(META_WIRE, None)  # a redirect's copy of the meta holds the last hop's
        agent = _WireTapAgent(
            contextFactory=self._contextFactory,
            bindAddress=self._bind_address,
            pool=self._pool,
            maxsize=self._default_maxsize,
            warnsize=self._default_warnsize,
            fail_on_dataloss=self._fail_on_dataloss,
            crawler=self._crawler,
            tls_verbose_logging=self._tls_verbose_logging,
        )
        # As HTTP11DownloadHandler.download_request, with the agent above.
        try:
            with wrap_twisted_exceptions():
                return await maybe_deferred_to_future(agent.download_request(request))
        except ResponseDataLossError:
            if not self._fail_on_dataloss_warned:
                logger.warning(get_dataloss_msg(request.url))
                self._fail_on_dataloss_warned = True
            raise
