"""An item's derived records built in the extraction worker are the ones the crawl would build."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

from itemadapter import ItemAdapter

from pipeline.analysis import AnalysisResult, extract_for_archive
from pipeline.index.derived import (
    attach_prepared,
    derived_context,
    prepared_records,
    write_derived_records,
)
from pipeline.items import ArchiveItem
from pipeline.warc import records
from pipeline.warc.reading import read_record, verify_record
from pipeline.warc.writer import WarcWriter
from tests.newsite import article_html

CHANGING = {"WARC-Record-ID", "WARC-Date"}


def _item(writer: WarcWriter, body: bytes, url: str) -> ArchiveItem:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(body)
    capture = writer.write_wire_response(url, head=head, body=body, status=200)
    item = ArchiveItem(
        url=url,
        fetched_at=datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
        capture=capture,
        body=body,
        content_type="text/html",
        http_status=200,
    )
    item.source_anomalies = ["a test anomaly"]
    return item


def test_prepared_records_equal_the_ones_built_at_store_time(tmp_path: Path) -> None:
    pages = [
        article_html("Floods close the valley road", "flood", "Valleytown"),
        article_html("Café owners vote on a new “market” square", "market", "Zürich"),
        article_html("Wind farm approved", "wind", "Northport", extra_head="<title>Wind</title>"),
    ]
    with WarcWriter(tmp_path) as writer:
        for number, page in enumerate(pages):
            url = f"http://example.com/{number}?q=a%20b"
            item = _item(writer, page.encode("utf-8"), url)
            result = extract_for_archive(
                item.body, item.url, None, item.content_type, derived_context(item)
            )
            assert result.document is not None and result.analysis is not None, page
            assert [p.headers[0][1] for p in result.prepared] == ["conversion", "metadata"]
            item.document, item.text_digest = result.document, result.analysis.text_digest
            built_here = write_derived_records(writer, item)
            attach_prepared(item, result.prepared)
            placed = write_derived_records(writer, item)
            assert len(placed) == len(built_here) == 2
            for mine, theirs in zip(placed, built_here, strict=True):
                a = read_record(tmp_path, mine.warc_file, mine.offset)
                b = read_record(tmp_path, theirs.warc_file, theirs.offset)
                assert verify_record(a) == []
                assert a.payload == b.payload
                assert [h for h in a.headers if h[0] not in CHANGING] == [
                    h for h in b.headers if h[0] not in CHANGING
                ]
                assert (mine.record_type, mine.refers_to) == (
                    theirs.record_type,
                    item.capture.record_id if item.capture else None,
                )
            fields = json.loads(
                read_record(tmp_path, placed[1].warc_file, placed[1].offset).payload
            )
            assert fields["indexed"] is True and fields["source_anomalies"] == ["a test anomaly"]


def _extracted_item(writer: WarcWriter) -> tuple[ArchiveItem, AnalysisResult]:
    """An item extracted as the crawl does, with the records its worker built attached."""
    page = article_html("Floods close the valley road", "flood", "Valleytown")
    item = _item(writer, page.encode("utf-8"), "http://example.com/a")
    result = extract_for_archive(
        item.body, item.url, None, item.content_type, derived_context(item)
    )
    assert result.document is not None and result.analysis is not None
    item.document, item.text_digest = result.document, result.analysis.text_digest
    attach_prepared(item, result.prepared)
    return item, result


def test_records_of_a_failed_item_are_built_at_store_time(tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as writer:
        item, _ = _extracted_item(writer)
        item.fail("index", "a later stage failed")
        refs = write_derived_records(writer, item)
    # A failed item has no conversion record, and its metadata says why.
    assert [ref.record_type for ref in refs] == ["metadata"]
    fields = json.loads(read_record(tmp_path, refs[0].warc_file, refs[0].offset).payload)
    assert fields["failure"] == "a later stage failed" and "indexed" not in fields


def test_records_of_a_replaced_document_are_built_at_store_time(tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as writer:
        item, result = _extracted_item(writer)
        assert prepared_records(item) == result.prepared
        item.document = dataclasses.replace(result.document, title="A later title")
        assert prepared_records(item) == ()
        refs = write_derived_records(writer, item)
    fields = json.loads(read_record(tmp_path, refs[1].warc_file, refs[1].offset).payload)
    assert fields["title"] == "A later title"


def test_prepared_records_are_not_exported_nor_sent_to_the_index_writer() -> None:
    item = ArchiveItem(url="http://example.com/a", fetched_at=datetime.now(UTC))
    fields_before = ItemAdapter(item).asdict()
    prepared = records.prepare_record(
        "metadata", item.url, datetime.now(UTC), records.new_record_id(), [], b"{}", "x/y"
    )
    attach_prepared(item, (prepared,))
    assert prepared_records(item) == (prepared,)
    assert ItemAdapter(item).asdict() == fields_before
    assert prepared_records(dataclasses.replace(item, body=b"")) == ()


def test_no_context_for_items_without_capture_or_with_failure() -> None:
    item = ArchiveItem(url="http://example.com/a", fetched_at=datetime.now(UTC))
    assert derived_context(item) is None
    result = extract_for_archive(b"<html><body><p>x</p></body></html>", item.url, None, None, None)
    assert result.prepared == ()
