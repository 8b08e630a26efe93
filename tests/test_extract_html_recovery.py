"""Article lines trafilatura drops come back from the page's block structure; furniture does not."""

from __future__ import annotations

from trafilatura.utils import load_html

from pipeline.extract.html import html_document
from pipeline.extract.html_blocks import page_blocks, recover_lines

PARAGRAPHS = [
    f"Paragraph {i}: councillors in Portmere debated the tidal barrier for the harbour mouth, "
    f"its cost, its effect on the mudflats and the timetable for building it, point {i}."
    for i in range(8)
]
LEAD = (
    "Councillors voted nine to two on Thursday to build a tidal barrier across the harbour "
    "mouth, ending a decade of argument over how to protect the old town from storms."
)
TITLE = "Harbour council approves flood barrier"


def news_page(article: str, *, description: str = LEAD, after: str = "") -> str:
    return (
        "<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{TITLE} | Coastal Herald</title>"
        f"<meta name='description' content='{description}'></head><body>"
        "<header><nav><a href='/'>Home</a><a href='/news'>News</a></nav></header>"
        f"<main><article>{article}</article>{after}</main>"
        "<footer><p>© 2023 Coastal Herald Ltd. All rights reserved.</p></footer></body></html>"
    )


def paragraphs(items: list[str]) -> str:
    return "".join(f"<p>{p}</p>" for p in items)


def test_standfirst_between_headline_and_body_comes_back_first() -> None:
    article = (
        f"<header class='article-header'><h1>{TITLE}</h1><p class='intro-text'>{LEAD}</p>"
        "<div class='byline'>By Maria Jensen</div></header>"
        f"<div class='article-body'>{paragraphs(PARAGRAPHS)}</div>"
    )
    document = html_document(news_page(article))
    lines = document.text.split("\n")
    assert lines[0] == LEAD
    assert lines[1:] == PARAGRAPHS
    assert "By Maria Jensen" not in document.text


def test_body_split_by_ad_slots_is_read_to_the_end() -> None:
    chunk = "<div class='body-chunk'>{}</div>"
    ad = "<div class='ad-slot'><p>Advertisement</p></div>"
    body = (
        chunk.format(paragraphs(PARAGRAPHS[:4]))
        + ad
        + chunk.format(paragraphs(PARAGRAPHS[4:6]))
        + ad
        + "<div class='promo-box'><p>Subscribe now for unlimited access to all our stories.</p>"
        "<p>Your first month is free, and you can cancel at any time online.</p></div>"
        + chunk.format(paragraphs(PARAGRAPHS[6:]))
    )
    html = news_page(f"<h1>{TITLE}</h1>{body}")
    # As if the extractor had stopped at the first ad slot.
    lines = recover_lines(
        PARAGRAPHS[:4], page_blocks(load_html(html)), title=TITLE, descriptions=[], furniture=set()
    )
    assert lines == PARAGRAPHS
    # The whole extraction reads every chunk, in order.
    text = html_document(html).text.split("\n")
    assert [line for line in text if line in PARAGRAPHS] == PARAGRAPHS


def test_recovery_puts_dropped_blocks_in_page_order() -> None:
    subheading = "What the barrier will cost"
    items = ["Steel gates across the mouth", "Pumps for the old town", "A new sea wall"]
    html = news_page(
        f"<h1>{TITLE}</h1><div class='story'>{paragraphs(PARAGRAPHS[:3])}<h2>{subheading}</h2>"
        f"<ul>{''.join(f'<li>{i}</li>' for i in items)}</ul>{paragraphs(PARAGRAPHS[3:])}</div>"
    )
    blocks = page_blocks(load_html(html))
    # As if the extractor had kept only the paragraphs.
    lines = recover_lines(list(PARAGRAPHS), blocks, title=TITLE, descriptions=[], furniture=set())
    assert lines == [*PARAGRAPHS[:3], subheading, *items, *PARAGRAPHS[3:]]


def test_related_links_captions_and_share_bars_stay_out() -> None:
    related = "".join(
        f"<li><a href='/s{i}'>Lifeboat crew rescues kayaker off the headland, story {i}</a></li>"
        for i in range(4)
    )
    article = (
        f"<h1>{TITLE}</h1><div class='story'>{paragraphs(PARAGRAPHS[:4])}"
        "<figure><img src='x.jpg'><figcaption>The harbour mouth at low tide, where the gates "
        "will stand. Photo: Coastal Herald</figcaption></figure>"
        "<div class='share-tools'><p>Share this article on your favourite network today.</p></div>"
        f"<ul class='related-stories'>{related}</ul>{paragraphs(PARAGRAPHS[4:])}</div>"
    )
    document = html_document(news_page(article))
    assert document.text.split("\n") == PARAGRAPHS


def test_no_standfirst_invented_from_a_byline_or_date() -> None:
    article = (
        f"<h1>{TITLE}</h1><div class='meta'>By Maria Jensen, 21 September 2023</div>"
        f"<div class='story'>{paragraphs(PARAGRAPHS)}</div>"
    )
    document = html_document(news_page(article, description="Short summary."))
    assert document.text.split("\n") == PARAGRAPHS


def test_teaser_after_the_article_is_not_recovered() -> None:
    teasers = (
        "<section class='more-stories'><h2>More from the coast</h2>"
        "<div class='card'><h3>Sea wall repairs delayed until the spring, says council</h3>"
        "<p>Work on the promenade will not start before April because of the weather.</p>"
        "</div></section>"
    )
    article = f"<h1>{TITLE}</h1><div class='story'>{paragraphs(PARAGRAPHS)}</div>"
    document = html_document(news_page(article, after=teasers))
    assert document.text.split("\n") == PARAGRAPHS
