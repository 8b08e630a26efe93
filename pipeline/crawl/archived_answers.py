"""Answering a request from the archive: the page a job already archived, as the Scrapy
response the spider saw when it was fetched, marked so that nothing is written or indexed again.
Used by the resume middleware (``pipeline/crawl/resume.py``) and by the shared frontier's workers.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes

from pipeline.crawl.job_state import ArchivedPage, stored_source
from pipeline.warc.reading import StoredRecord, decoded_http_payload

if TYPE_CHECKING:
    from scrapy import Request

    from pipeline.crawl.runtime import ArchiveRuntime

logger = logging.getLogger(__name__)

META_FROM_ARCHIVE = "archive_from_archive"
# Framing headers describe the stored bytes, not the decoded body handed to the spider.
_FRAMING = frozenset({"content-encoding", "transfer-encoding", "content-length"})


class FailedEarlier(IgnoreRequest):
    """The request ended as a failure row in an earlier run of this job: it is not tried again
    (its errback makes no second row). A new job, or a crawl without JOBDIR, tries it again."""


def archived_response(stored: StoredRecord, request: Request) -> Response:
    """A Scrapy response as the spider saw it when the page was first fetched."""
    if stored.http_headers is None:  # a resource record: a local file
        content_type = stored.ref.content_type or "application/octet-stream"
        headers = Headers({"Content-Type": content_type})
        status, body = 200, stored.payload
    else:
        headers = Headers()
        for name, value in stored.http_headers:
            if name.lower() not in _FRAMING:
                headers.appendlist(name, value)
        status = stored.http_status or 200
        body = decoded_http_payload(stored.http_headers, stored.payload)
    response_class = responsetypes.from_args(headers=headers, url=request.url, body=body)
    return response_class(
        url=request.url,
        status=status,
        headers=headers,
        body=body,
        request=request,
        flags=["archived"],
    )


def serve_from_archive(
    runtime: ArchiveRuntime, request: Request, page: ArchivedPage
) -> Response | None:
    """The archived page as the response to ``request`` (marked so that nothing is written or
    indexed again), or None when its record cannot be read: the page is fetched instead."""
    try:
        with runtime.session() as session:
            stored = stored_source(session, runtime.config.warc_dir, page)
        response = archived_response(stored, request)
    except Exception as error:  # an unreadable record: fetch the page again instead
        logger.warning("resume: %s: cannot serve from the archive (%s)", request.url, error)
        return None
    request.meta[META_FROM_ARCHIVE] = True
    return response
