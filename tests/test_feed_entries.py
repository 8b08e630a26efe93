"""Feed entries as feeds in the wild write them: xml:base, relative links, several alternates,
RDF items, dates and ids, broken XML, JSON Feed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from spiders.feed_entries import FeedError, read_feed

FEED_URL = "http://news.test/feeds/all.xml"


def test_atom_links_follow_xml_base_of_feed_and_entry() -> None:
    body = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://cdn.news.test/site/">
  <title>t</title>
  <entry><id>tag:news.test,2024:1</id><link href="news/one.html"/></entry>
  <entry xml:base="/archive/2024/"><id>tag:news.test,2024:2</id><link href="two.html"/></entry>
  <entry xml:base="http://other.test/x/"><id>tag:news.test,2024:3</id>
    <link rel="alternate" href="../three.html"/></entry>
</feed>"""
    document = read_feed(body, FEED_URL, "application/atom+xml")
    assert document.dialect == "atom" and document.warning is None
    assert [entry.link for entry in document.entries] == [
        "http://cdn.news.test/site/news/one.html",
        "http://cdn.news.test/archive/2024/two.html",
        "http://other.test/three.html",
    ]
    assert [entry.entry_id for entry in document.entries][1] == "tag:news.test,2024:2"


def test_html_alternate_wins_over_a_pdf_listed_first_and_enclosures_are_never_links() -> None:
    body = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
  <entry><id>1</id>
    <link rel="alternate" type="application/pdf" href="/print/1.pdf"/>
    <link rel="enclosure" type="image/jpeg" href="/media/1.jpg"/>
    <link rel="alternate" type="text/html" href="/news/1.html"/></entry>
  <entry><id>2</id><link rel="alternate" type="application/pdf" href="/print/2.pdf"/>
    <link rel="related" href="/news/other.html"/></entry>
  <entry><id>3</id><link rel="enclosure" href="/media/3.mp3"/></entry>
</feed>"""
    document = read_feed(body, FEED_URL, "application/atom+xml")
    # an entry whose only page is a PDF still names that PDF; one with only an enclosure, nothing
    links = [entry.link for entry in document.entries]
    assert links == ["http://news.test/news/1.html", "http://news.test/print/2.pdf"]
    assert document.without_link == 1


def test_rdf_about_is_an_identifier_not_a_link() -> None:
    body = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
  <channel rdf:about="http://news.test/"><title>t</title></channel>
  <item rdf:about="urn:news:1"><title>no link</title></item>
  <item rdf:about="http://news.test/resource/2"><title>b</title><link>/news/2.html</link></item>
</rdf:RDF>"""
    document = read_feed(body, FEED_URL, "application/rdf+xml")
    assert document.dialect == "rdf" and document.version == "rss10"
    assert [entry.link for entry in document.entries] == ["http://news.test/news/2.html"]
    assert document.entries[0].entry_id == "http://news.test/resource/2"
    assert document.without_link == 1


def test_ids_are_links_only_as_rss_guids_written_whole() -> None:
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
  <entry><id>http://news.test/entries/1</id><title>an id is not a location</title></entry>
</feed>"""
    assert read_feed(atom, FEED_URL).without_link == 1
    rss = b"""<rss version="2.0"><channel><title>t</title>
  <item><guid>http://news.test/news/5.html?a=1&amp;b=2</guid></item>
  <item><guid>6</guid></item></channel></rss>"""
    document = read_feed(rss, FEED_URL)
    assert [entry.link for entry in document.entries] == ["http://news.test/news/5.html?a=1&b=2"]
    assert document.without_link == 1


def test_rss_relative_links_dates_ids_and_duplicates() -> None:
    body = b"""<rss version="2.0"><channel><title>t</title>
  <item><link>../news/1.html</link><guid isPermaLink="false">a-1</guid>
    <pubDate>Tue, 14 May 2024 23:30:00 -0500</pubDate></item>
  <item><guid>http://news.test/news/2.html</guid><pubDate>2024-05-14T08:00:00Z</pubDate></item>
  <item><link>http://news.test/news/1.html</link><guid isPermaLink="false">a-1-again</guid></item>
</channel></rss>"""
    document = read_feed(body, FEED_URL, "application/rss+xml")
    assert document.dialect == "rss" and document.version == "rss20"
    first, second = document.entries  # the third repeats the first link
    assert first.link == "http://news.test/news/1.html" and first.entry_id == "a-1"
    assert first.published == datetime(2024, 5, 15, 4, 30, tzinfo=UTC)
    assert second.link == "http://news.test/news/2.html"  # a permalink guid is the page
    assert second.published == datetime(2024, 5, 14, 8, 0, tzinfo=UTC)


def test_atom_published_wins_over_updated() -> None:
    body = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
  <entry><id>1</id><link href="/a.html"/><updated>2024-06-01T10:00:00+02:00</updated>
    <published>2024-05-14T10:00:00+02:00</published></entry>
  <entry><id>2</id><link href="/b.html"/><updated>2024-06-01T10:00:00+02:00</updated></entry>
</feed>"""
    first, second = read_feed(body, FEED_URL).entries
    assert first.published == datetime(2024, 5, 14, 8, 0, tzinfo=UTC)
    assert second.published == datetime(2024, 6, 1, 8, 0, tzinfo=UTC)


def test_broken_feed_is_read_as_far_as_possible_with_a_warning() -> None:
    body = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Caf&eacute; news</title>
  <item><title>Fish & chips</title><link>http://news.test/news/1.html</link></item>
  <item><title>two</title><link>http://news.test/news/2.html</link></item>
"""  # an undefined entity, a bare "&" and no closing tags at all
    document = read_feed(body, FEED_URL, "application/rss+xml")
    assert [entry.link for entry in document.entries] == [
        "http://news.test/news/1.html",
        "http://news.test/news/2.html",
    ]
    assert document.warning is not None and "not well-formed" in document.warning


@pytest.mark.parametrize("cut_before", [b"/news/3-", b"</link></item></channel>"])
def test_a_feed_cut_off_keeps_its_complete_entries_only(cut_before: bytes) -> None:
    whole = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t &amp; u</title>
  <item><title>Fish & chips</title><link>http://news.test/news/1.html</link></item>
  <item><link>http://news.test/news/2.html</link></item>
  <item><link>http://news.test/news/3-the-whole-slug.html</link></item></channel></rss>"""
    document = read_feed(whole[: whole.rindex(cut_before)], FEED_URL)
    assert [entry.link for entry in document.entries] == [
        "http://news.test/news/1.html",
        "http://news.test/news/2.html",
    ]
    assert document.problem == "feed cut off: only its 2 complete entries are used"
    assert read_feed(whole, FEED_URL).problem is None  # whole, despite its bare "&"
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
  <entry><id>1</id><link href="http://news.test/a.html"/></entry>
  <entry><id>2</id><link href="http://news.test/b-cut"""
    document = read_feed(atom, FEED_URL)
    assert [entry.link for entry in document.entries] == ["http://news.test/a.html"]
    with pytest.raises(FeedError, match="feed cut off: only its 0 complete entries"):
        read_feed(atom[: atom.index(b"<entry>") + 20], FEED_URL)


def test_a_missing_or_wrong_content_type_is_no_warning() -> None:
    body = (
        b'<rss version="2.0"><channel><item><link>http://news.test/1</link></item></channel></rss>'
    )
    for content_type in (None, "text/html; charset=utf-8"):
        document = read_feed(body, FEED_URL, content_type)
        assert document.warning is None and len(document.entries) == 1


def test_json_feed_items() -> None:
    body = b"""{"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": [
  {"id": "1", "url": "/news/1.html", "date_published": "2024-05-14T23:30:00-05:00"},
  {"id": 2, "external_url": "http://elsewhere.test/story", "date_modified": "2024-05-13"},
  {"id": "3", "content_text": "a note without a page"},
  "not an item"
]}"""
    document = read_feed(body, FEED_URL, "application/feed+json")
    assert document.dialect == "json" and document.version == "json11"
    first, second = document.entries
    assert first.link == "http://news.test/news/1.html" and first.entry_id == "1"
    assert first.published == datetime(2024, 5, 15, 4, 30, tzinfo=UTC)
    assert second.link == "http://elsewhere.test/story" and second.entry_id == "2"
    assert second.published == datetime(2024, 5, 13, tzinfo=UTC)
    assert document.without_link == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html><body><p>Our news</p></body></html>", "not a feed"),
        (b"", "not a feed"),
        (b'{"title": "no version"}', "without a jsonfeed.org version"),
        (b'{"version": "https://jsonfeed.org/version/1", ', "unreadable JSON"),
        (b'{"version": "https://jsonfeed.org/version/1", "items": 3}', "without an items list"),
        # feedparser opens a bytes or str argument as a file if it names one: never here
        (b"/etc/hostname", "not a feed"),
        (b"http://127.0.0.1:9/feed.xml", "not a feed"),
    ],
)
def test_non_feeds_are_refused_with_a_reason(body: bytes, message: str) -> None:
    with pytest.raises(FeedError, match=message):
        read_feed(body, FEED_URL)


def test_an_unsplittable_link_is_skipped_not_a_crash() -> None:
    body = b"""<rss version="2.0"><channel><item><link>http://[news.test/1</link></item>
  <item><link>http://news.test/2</link></item></channel></rss>"""
    document = read_feed(body, FEED_URL)
    assert [entry.link for entry in document.entries] == ["http://news.test/2"]
    assert document.without_link == 1
