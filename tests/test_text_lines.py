"""The line model of the plain-text cleaner: held-out quality on real pages, the headline below
page-top furniture, article lists and credit lines kept, and a model file that is checked."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pipeline.extract.devset import (
    Score,
    article_pages,
    devset_pages,
    lightly_furnished,
    score,
)
from pipeline.extract.furniture import Line
from pipeline.extract.line_features import (
    FeatureCache,
    _shape,
    effective_words,
    page_features,
    shapes_of,
    topic_shares,
)
from pipeline.extract.line_model import (
    MODEL_PATH,
    TITLE_NAMES,
    TITLE_WINDOW,
    cjk_section_name,
    headline_alone,
    headline_wrappers,
    kicker_and_headline,
    load_model,
    lowercase_start,
    model_from_json,
    parenthesised,
    title_candidates,
    window_top,
)
from pipeline.extract.line_training import fit_ranker, model_json
from pipeline.extract.text import (
    ARTICLE_INSET,
    HEADLINE_COPY,
    PAGE_FOOTER,
    PAGE_HEADER,
    UNDER_HEADLINE,
    _mark_around_headline,
    clean_plain_text,
)
from pipeline.extract.text_lists import _restore_list_runs

ROOT = Path(__file__).resolve().parent.parent
DEVSET = ROOT.parent / "shared" / "devsets" / "fundus" / "labels.json"
needs_devset = pytest.mark.skipif(
    not DEVSET.exists(), reason=f"the dev set is not at {DEVSET} (../shared/devsets/fundus)"
)


def _clean(text: str) -> tuple[str | None, tuple[str, ...]]:
    cleaned = clean_plain_text(text)
    return cleaned.title, cleaned.lines


@pytest.fixture(scope="module")
def held_out_score() -> Score:
    pages = [page for page in devset_pages(DEVSET) if page.held_out]
    assert len(pages) >= 25, "the fixed held-out part has shrunk"
    return score(pages, _clean)


@needs_devset
def test_held_out_real_pages_meet_the_furniture_and_content_targets(
    held_out_score: Score,
) -> None:
    # Publishers never trained on (pipeline.extract.line_training prints the same numbers).
    assert held_out_score.removed >= 0.90
    assert held_out_score.kept >= 0.97


@needs_devset
def test_held_out_real_pages_titles_do_not_regress(held_out_score: Score) -> None:
    # Measured 0.828 when the model was trained (0.793 before the ranker's columns for questions,
    # lines under menus and overlap weighted by rarity); the target of 0.85 is not reached yet.
    assert held_out_score.titles >= 0.79


@needs_devset
def test_held_out_article_with_little_furniture_keeps_its_text() -> None:
    pages = [lightly_furnished(page) for page in devset_pages(DEVSET) if page.held_out]
    result = score([page for page in pages if page is not None], _clean)
    # Measured 0.985 kept, 0.800 removed, 0.828 titles: the furniture left inside real
    # articles (sign-up boxes and paywall offers written as sentences, teasers of other
    # stories, captions without a credit) is what neither the rules nor the model catch.
    assert result.kept >= 0.98
    assert result.removed >= 0.77


def test_clean_articles_lose_nothing() -> None:
    pages = article_pages(ROOT / "tests/data/articles")
    assert len(pages) >= 10
    for page in pages:
        title, lines = _clean(page.text)
        assert title == page.title, page.name
        assert [" ".join(line.split()) for line in lines] == list(page.content), page.name


TOP = [
    "Skip to main content",
    "World | Business | Markets | Sport | Culture",
    "LIVE: Markets rally as inflation cools",
    "Business",
    "Updated 10:42 GMT",
    "Tuesday 14 May 2024",
]
HEADLINE = "Chipmaker shares jump after record quarterly results"
BODY = [
    "By Anna Keller",
    "Shares in the chipmaker rose by 12 per cent on Tuesday after the company reported record "
    "revenue for the first quarter, driven by demand for data-centre processors.",
    "The company said sales rose to 8.2 billion dollars in the three months to March, well "
    "above analysts' forecasts of 7.6 billion dollars.",
    "What the results show",
    "Demand for processors used to train artificial intelligence models has outstripped supply "
    "for more than a year, the chief executive told analysts on a call.",
    "Key figures:",
    "- Revenue: 8.2 billion dollars",
    "- Operating margin: 31 per cent",
    "- Guidance raised for the full year",
    "The company also announced a share buyback of 5 billion dollars over two years.",
    "(Reporting by Anna Keller; Editing by Tom Hale)",
]
TEASERS = [
    "Most read",
    "Oil prices slip as supply fears ease",
    "14 May 2024",
    "By Li Wei",
    "Central bank holds rates steady for a fourth month",
    "13 May 2024",
    "By Sara Lund",
    "Carmakers cut prices as demand slows in Europe",
    "13 May 2024",
    "By Tom Hale",
    "Cookie settings",
    "© 2024 Example News. All rights reserved.",
]


def test_headline_is_found_below_stamps_menus_and_tickers() -> None:
    cleaned = clean_plain_text("\n".join([*TOP, HEADLINE, *BODY, *TEASERS]))
    assert cleaned.title == HEADLINE
    removed = dict(cleaned.removed)
    assert all(line in removed for line in TOP)
    # Named by the rules: a skip link, and a live ticker of another story.
    assert removed["Skip to main content"] == "skip link"
    assert removed["LIVE: Markets rally as inflation cools"] == "live ticker"


def test_lists_subheadings_and_credit_lines_of_the_article_are_kept() -> None:
    cleaned = clean_plain_text("\n".join([*TOP, HEADLINE, *BODY, *TEASERS]))
    assert cleaned.lines == tuple(BODY[1:])


def test_teaser_blocks_below_the_article_are_removed() -> None:
    cleaned = clean_plain_text("\n".join([*TOP, HEADLINE, *BODY, *TEASERS]))
    removed = [line for line, _ in cleaned.removed]
    assert removed[-len(TEASERS) :] == TEASERS
    assert not set(cleaned.lines) & set(TEASERS)


def test_model_file_round_trips() -> None:
    model = load_model()
    again = model_from_json(json.loads(json.dumps(model_json(model))))
    assert again.first.tolist() == model.first.tolist()
    assert again.title.tolist() == model.title.tolist()
    assert again.thresholds(light=True) == model.thresholds(light=True)


def test_a_model_for_other_features_is_refused(tmp_path: Path) -> None:
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    data["features"]["first"] = data["features"]["first"][:-1]
    stale = tmp_path / "line_model.json"
    stale.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(RuntimeError, match=r"line_model\.json is unusable: its features"):
        load_model(stale)


def test_model_file_is_small() -> None:
    assert MODEL_PATH.stat().st_size < 50_000


def test_batched_line_features_equal_the_per_line_definition() -> None:
    # Why these lines: every shape the batch computes differently from the per-line code
    # (code points beyond ASCII and beyond the BMP, separators, links, dates, CJK, a long line).
    texts = [
        *TOP,
        HEADLINE,
        *BODY,
        *TEASERS,
        "Élysée: Ärger über Öl — «Zitat» am 12.05.2024 um 14:30 Uhr",
        "東京都は2025年1月21日、新しい計画を発表した。",
        "서울 시장은 오늘 발표했다",
        "Follow us @newsdesk or visit www.example.org | Home » World",
        "𝐁𝐨𝐥𝐝 𝐇𝐞𝐚𝐝𝐥𝐢𝐧𝐞 with astral capitals",
        "© 2024",
        "12:30",
        "A very long paragraph " * 40,
        "ALL CAPITALS HERE",
        "x",
    ]
    lines = [Line.make(text, 0) for text in texts]
    lines.append(Line("", "", 0, 0, False, ""))  # an empty line last: its segment is only the NUL
    words, shapes = shapes_of(lines)
    for i, line in enumerate(lines):
        assert words[i] == effective_words(line.norm), line.norm
        assert shapes[i].tolist() == _shape(line, words[i]), line.norm


def _lines(*texts: str) -> list[Line]:
    return [Line.make(text, 0) for text in texts]


def test_a_headline_wrapped_by_the_site_gives_way_to_its_own_line() -> None:
    lines = _lines(
        "Home > World > Ferry service resumes after storm damage is repaired",
        "Ferry service resumes after storm damage is repaired",
        "Ferry service resumes after storm damage is repaired | Example News",
    )
    assert headline_alone(lines, [0, 1, 2], best=0) == 1
    assert headline_alone(lines, [0, 1, 2], best=2) == 1
    assert headline_alone(lines, [0, 1, 2], best=1) == 1


def test_a_kicker_running_into_the_headline_stays_part_of_it() -> None:
    # The shorter copy starts with a capital where the printed headline continues the kicker.
    lines = _lines(
        '"Just Coup It": le survêtement de Maduro devient une sensation virale',
        "Le survêtement de Maduro devient une sensation virale",
    )
    assert headline_alone(lines, [0, 1], best=0) == 0
    # A section name inside the headline is far shorter than it: not the headline alone.
    lines = _lines(
        "Power cut in Berlin: traffic lights dead, trains stopped", "Power cut in Berlin"
    )
    assert headline_alone(lines, [0, 1], best=0) == 0


def test_a_kicker_the_page_joins_to_the_headline_is_part_of_the_title() -> None:
    kicker, headline = "Flood inquiry", "Two resignations and many open questions"
    joined = f"{kicker}: {headline}"
    lines = _lines(joined, "Home", kicker, headline, "Updated 17:23")
    # The ranker may take either line: both give the pair.
    assert kicker_and_headline(lines, 2) == (2, 3)
    assert kicker_and_headline(lines, 3) == (2, 3)
    assert kicker_and_headline(_lines(joined, f"{kicker}:", headline), 2) == (1, 2)
    # Printed apart only, or a long line above the headline: no kicker.
    assert kicker_and_headline(_lines(kicker, headline), 1) is None
    long_line = "The inquiry met 42 times over two years in the state parliament"
    assert kicker_and_headline(_lines(f"{long_line}: {headline}", long_line, headline), 2) is None
    # A whole page: the title bar's joined copy makes the kicker part of the printed title.
    page = [*TOP, f"{kicker}: {HEADLINE}", kicker, HEADLINE, *BODY, *TEASERS]
    cleaned = clean_plain_text("\n".join(page))
    assert cleaned.title == f"{kicker}: {HEADLINE}"
    assert cleaned.lines == tuple(BODY[1:])
    alone = clean_plain_text("\n".join([*TOP, kicker, HEADLINE, *BODY, *TEASERS]))
    assert alone.title == HEADLINE


def test_a_headline_printed_alone_only_far_above_the_body_gives_the_wording() -> None:
    """The top bar prints the headline alone; next to the body the page prints it only with a
    player's label glued on, and a long menu lies between them."""
    menu = [f"Section {name}" for name in ("One", "Two", "Three", "Four", "Five")] * 8
    assert len(menu) > TITLE_WINDOW
    wrapped = f"{HEADLINE} Back to video"
    page = [HEADLINE, *menu, "Sign In", wrapped, *BODY, *TEASERS]
    cleaned = clean_plain_text("\n".join(page))
    assert cleaned.title == HEADLINE
    assert cleaned.lines == tuple(BODY[1:])
    # Without the lone copy, the wrapped line is all the page gives.
    alone_removed = clean_plain_text("\n".join(page[1:]))
    assert alone_removed.title == wrapped


def test_copies_of_the_headline_in_share_texts_and_title_bars_are_removed() -> None:
    title_bar = f"{HEADLINE} | Example News"
    share = f"Share this Story: {HEADLINE}"
    back = f"{HEADLINE} Back to video"
    page = [*TOP, title_bar, HEADLINE, share, *BODY[:3], back, *BODY[3:], *TEASERS]
    cleaned = clean_plain_text("\n".join(page))
    assert cleaned.title == HEADLINE
    removed = dict(cleaned.removed)
    assert title_bar in removed
    assert removed[share] == HEADLINE_COPY
    assert removed[back] == HEADLINE_COPY
    assert cleaned.lines == tuple(BODY[1:])
    # A paragraph quoting the headline is far longer than it and stays article text.
    quoting = (
        f"{HEADLINE}, the agency wrote on Tuesday, and analysts agreed with that reading of "
        "the quarter's figures."
    )
    assert headline_wrappers(_lines(HEADLINE, quoting), 0) == []


def test_topic_share_is_the_vocabulary_other_body_paragraphs_use() -> None:
    body = [
        "The harbour authority closed the northern bridge after engineers found cracks.",
        "Engineers said the cracks in the northern bridge had widened since the spring.",
        "The harbour authority expects the northern bridge to reopen when the cracks are fixed.",
    ]
    others = [
        "Sign up for our newsletter and never miss a story again, delivered every morning.",
        "Bridge",
    ]
    lines = [Line.make(text, 0) for text in [*body, *others]]
    share, few = topic_shares(lines, np.arange(len(body)))
    # Each paragraph shares most of its words with the other two, not counting its own.
    assert all(share[i] >= 0.5 for i in range(len(body)))
    assert share[3] == 0.0 and few[3] == 0.0
    assert few[4] == 1.0  # one word says nothing about the topic
    # Alone, a paragraph shares nothing: its own words are left out of the counts.
    alone, _ = topic_shares(lines[:1], np.arange(1))
    assert alone[0] == 0.0


def test_headline_columns_weigh_rare_words_and_read_the_lines_around() -> None:
    texts = [
        "Home",
        "World",
        "Log In",
        "New to the Harbour Times? Subscribe",
        "Why did the harbour bridge crack in the spring?",
        "The harbour authority of the city closed the northern bridge on Monday after "
        "engineers of the Harbour Times' region found cracks in its steel.",
        "Engineers said the cracks in the bridge had widened in the spring, and the city "
        "asked the Harbour Times' readers to avoid the harbour for the week.",
        "The authority expects the bridge to reopen in the summer when the cracks in the "
        "steel are fixed, the city said in a statement to the Harbour Times.",
        "Harbour Times",
        "About the Harbour Times",
    ]
    lines = [Line.make(text, 0) for text in texts]
    kinds: list[str | None] = [None] * len(lines)
    features = page_features(lines, kinds, FeatureCache())
    probabilities = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.9, 0.9, 0.9, 0.0, 0.0])
    indices, rows = title_candidates(lines, kinds, features, probabilities, 5, ())
    offer, headline = (rows[indices.index(i)] for i in (3, 4))
    plain, weighted = TITLE_NAMES.index("body overlap"), TITLE_NAMES.index("weighted body overlap")
    # Counted alike, the offer's words are more of them in the body than the headline's; but
    # they are the site's name and grammar words, which the page prints everywhere, and the
    # headline's topic words ("bridge", "spring") count more.
    assert offer[plain] > headline[plain]
    assert offer[weighted] < headline[weighted]
    question, after = TITLE_NAMES.index("question end"), TITLE_NAMES.index("after short lines")
    assert headline[question] == 1.0
    assert offer[question] == 0.0  # its question mark is inside, not at the end
    assert offer[after] == 1.0  # the first long line under the menu's short entries
    assert headline[after] == 0.0


def test_lines_in_lower_case_and_cjk_section_names_are_no_headline_candidates() -> None:
    texts = [
        "- auf der B 96 in Wormlage",  # the second half of a promo box's teaser
        "地震・災害",  # a section name
        "iPhone sales fall for the third quarter in a row",
        "5 things the harbour authority said about the bridge",
        *BODY[1:4],
    ]
    lines = [Line.make(text, 0) for text in texts]
    kinds: list[str | None] = [None] * len(lines)
    features = page_features(lines, kinds, FeatureCache())
    probabilities = np.array([0.0, 0.0, 0.0, 0.0, 0.9, 0.9, 0.9])
    indices, _ = title_candidates(lines, kinds, features, probabilities, 4, ())
    assert 0 not in indices and 1 not in indices
    assert 2 in indices and 3 in indices  # a capital inside the first word, a number first
    assert lowercase_start("„über alles“, sagt er") and not lowercase_start("eBay sells")
    assert cjk_section_name("政治") and not cjk_section_name("横浜港の新しい連絡橋、来春に開通へ")


def test_credits_and_captions_in_parentheses_are_no_headline_candidates() -> None:
    texts = [
        "(Image credit: Harbour Authority)",  # a credit, the whole line in parentheses
        "(Symbolbild) Wenn die Brücke gesperrt ist, wird der Weg zur Arbeit länger.",  # caption
        "(Updated 11:54 am)",  # a stamp
        "(VIDEO) Harbour bridge closes after cracks are found",  # a tag over a headline
        "Why did the harbour bridge crack in the spring?",
        *BODY[1:4],
    ]
    lines = [Line.make(text, 0) for text in texts]
    kinds: list[str | None] = [None] * len(lines)
    features = page_features(lines, kinds, FeatureCache())
    probabilities = np.array([0.0] * 5 + [0.9] * 3)
    indices, _ = title_candidates(lines, kinds, features, probabilities, 5, ())
    assert 0 not in indices and 1 not in indices and 2 not in indices
    assert 3 in indices and 4 in indices
    assert parenthesised("(Photos by the Harbour Times; illustration by A. Editor)")
    assert not parenthesised("(Harbour) authority closes the bridge")  # no full stop: a headline
    assert not parenthesised("[Exclusive] The bridge was cracked for years.")


def test_the_headline_window_counts_no_rows_of_interface_buttons() -> None:
    headline = "Harbour bridge closes after engineers find cracks in its steel"
    buttons = [f"Share this story on network {n}" for n in range(TITLE_WINDOW + 6)]
    texts = [headline, *buttons, *BODY[1:4]]
    lines = [Line.make(text, 0) for text in texts]
    start = len(texts) - 3
    probabilities = np.array([0.0] * start + [0.9] * 3)
    shared: list[str | None] = [None] + ["share prompt"] * len(buttons) + [None] * 3
    # Named as share buttons, the rows do not count against the window: the headline 37 lines
    # above the body is a candidate.
    assert window_top(shared, start) == 0
    features = page_features(lines, shared, FeatureCache())
    indices, _ = title_candidates(lines, shared, features, probabilities, start, ())
    assert 0 in indices
    # Lines of no interface kind (a menu, a list of teasers) count, and the window ends.
    unnamed: list[str | None] = [None] * len(lines)
    assert window_top(unnamed, start) == start - TITLE_WINDOW
    features = page_features(lines, unnamed, FeatureCache())
    indices, _ = title_candidates(lines, unnamed, features, probabilities, start, ())
    assert 0 not in indices


def test_lines_above_the_headline_are_furniture_unless_the_model_is_sure() -> None:
    texts = ["Harbour city, Tuesday", "A paragraph the model is sure of.", "The headline", "Text."]
    lines = [Line.make(text, 0) for text in texts]
    kinds: list[str | None] = [None, None, None, None]
    _mark_around_headline(lines, kinds, np.array([0.4, 0.9, 0.2, 0.9]), 2)
    assert kinds == [PAGE_HEADER, None, None, None]


def test_a_byline_and_a_stamp_under_the_headline_are_furniture() -> None:
    texts = [
        "The headline",
        "Anna Keller",
        "14.05.2024, 10:32",
        "A standfirst that the model is unsure of, written as a sentence of many words.",
        *BODY[1:3],
        BODY[4],
        BODY[9],
        "Tom Hale",  # the body started above: a name here is the article's
    ]
    lines = [Line.make(text, 0) for text in texts]
    kinds: list[str | None] = [None] * len(lines)
    probabilities = np.array([0.2, 0.2, 0.2, 0.2, 0.9, 0.9, 0.9, 0.9, 0.2])
    _mark_around_headline(lines, kinds, probabilities, 0)
    assert kinds == [None, UNDER_HEADLINE, UNDER_HEADLINE, *[None] * 6]


def test_a_list_inside_the_article_is_kept_whole() -> None:
    texts = [
        "Menu:",
        "- Home",
        "- Sport",
        BODY[1],
        "Specifications:",
        "- Battery: 5,000 mAh",
        "- Screen: 6.1 inches",
        "- Weight: 172 g",
        BODY[2],
        "1. First teaser",
        "2. Second teaser",
    ]
    lines = [Line.make(text, 0) for text in texts]
    kinds: list[str | None] = [PAGE_HEADER, PAGE_HEADER, PAGE_HEADER, None]
    kinds += [ARTICLE_INSET, None, ARTICLE_INSET, None, None, PAGE_FOOTER, PAGE_FOOTER]
    _restore_list_runs(lines, kinds, [False] * len(lines))
    # Inside the article the list and its introduction are kept; the lists around it (a
    # menu above the first article line, a teaser list below the last) are left as they were.
    assert kinds == [*[PAGE_HEADER] * 3, *[None] * 6, PAGE_FOOTER, PAGE_FOOTER]
    # A list whose items are mostly furniture stays so.
    kinds[5:8] = [ARTICLE_INSET, ARTICLE_INSET, None]
    _restore_list_runs(lines, kinds, [False] * len(lines))
    assert kinds[5:8] == [ARTICLE_INSET, ARTICLE_INSET, None]


def test_the_ranker_learns_every_copy_of_the_headline_as_right() -> None:
    # Columns: bias, a position only the upper copy has, headline-like. The page prints the
    # headline twice (both right) over a line that is not it.
    candidates = np.array([[1.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    weights = fit_ranker([(candidates, [0, 1], 1.0)], l2=1.0)
    scores = candidates @ weights
    # What the copies share weighs more than what tells them apart, and both beat the other line.
    assert weights[2] > weights[1]
    assert min(scores[0], scores[1]) > scores[2]
