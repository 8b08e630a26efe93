"""Extraction entry point: bytes of one captured document in, ExtractedDocument out.

Pure functions, no Scrapy imports, so the pipeline can run them in worker processes.
"""

from __future__ import annotations

from dataclasses import replace

from pipeline.extract.decode import charset_from_content_type, decode_bytes, meta_charset
from pipeline.extract.html import html_document
from pipeline.extract.model import ExtractedDocument, ExtractionError
from pipeline.extract.sniff import data_content_type, sniff_text_kind
from pipeline.extract.text import text_document


def extract_document(
    data: bytes, *, url: str, filename: str | None = None, content_type: str | None = None
) -> ExtractedDocument:
    """Sniff, decode (charset from Content-Type or <meta charset>), then extract HTML or text.

    Raises ExtractionError with the reason for empty, binary or article-less input, and for
    data served as such (JSON, XML, scripts, ...) unless its bytes are unmistakably HTML.
    """
    if not data:
        raise ExtractionError("empty file")
    # The HTTP header's charset wins, as in browsers, unless it cannot decode the bytes.
    decoded = decode_bytes(data, charset_from_content_type(content_type), meta_charset(data))
    kind = sniff_text_kind(decoded.text, filename=filename, content_type=content_type)
    if kind == "empty":
        raise ExtractionError("empty file")
    if kind == "html":
        document = html_document(decoded.text, url=url)
    elif (data_type := data_content_type(content_type)) is not None:
        raise ExtractionError(f"not article text: {data_type} content")
    else:
        document = text_document(decoded.text, encoding=decoded.encoding)
    return _with_encoding(document, decoded.encoding)


def _with_encoding(document: ExtractedDocument, encoding: str) -> ExtractedDocument:
    if document.encoding == encoding:
        return document
    return replace(document, encoding=encoding)
