"""The plain-text cleaner: seeds and unseen articles against their expected files, kinds of
furniture in new contexts, short article lines that must survive, bad input and speed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.extract.furniture import RULES_PATH
from pipeline.extract.language import MIN_CHARS
from pipeline.extract.model import ExtractionError
from pipeline.extract.text import UNDER_HEADLINE, clean_plain_text, text_document

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
DATA = Path(__file__).resolve().parent / "data"
UNSEEN = DATA / "unseen"


def _norm(line: str) -> str:
    return " ".join(line.split())


def _cases() -> list[tuple[Path, dict[str, object]]]:
    seeds = json.loads((DATA / "expected.json").read_text(encoding="utf-8"))["seeds"]
    cases = [(SEEDS / name, spec) for name, spec in seeds.items()]
    for expected in sorted(UNSEEN.glob("*.json")):
        for name, spec in json.loads(expected.read_text(encoding="utf-8"))["seeds"].items():
            cases.append((UNSEEN / name, spec))
    return cases


CASES = _cases()


def _expected_lines(text: str, title: str, furniture: dict[str, str]) -> list[str]:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return [line for line in lines if _norm(line) not in furniture and line != title]


def test_there_are_five_seeds_and_at_least_four_unseen_articles() -> None:
    assert sum(path.parent == SEEDS for path, _ in CASES) == 5
    assert sum(path.parent == UNSEEN for path, _ in CASES) >= 4


@pytest.mark.parametrize(("path", "spec"), CASES, ids=[p.name for p, _ in CASES])
def test_article_matches_expected(path: Path, spec: dict[str, object]) -> None:
    text = path.read_text(encoding="utf-8")
    title = spec["title"]
    boilerplate = spec["boilerplate"]
    assert isinstance(title, str) and isinstance(boilerplate, dict)
    furniture = {_norm(line): kind for line, kind in boilerplate.items()}
    cleaned = clean_plain_text(text)
    assert cleaned.title == title
    assert list(cleaned.lines) == _expected_lines(text, title, furniture)
    kept = {_norm(line) for line in cleaned.lines}
    assert not kept & set(furniture), "furniture left in the article text"
    removed = {_norm(line) for line, _ in cleaned.removed}
    assert set(furniture) <= removed
    for line, kind in cleaned.removed:
        # Our kind names are the short forms of the kinds the expected files use.
        assert kind in furniture[_norm(line)], (line, kind)


def test_every_occurrence_is_removed_and_order_is_input_order() -> None:
    text = (SEEDS / "002_2250a2825a44a564.txt").read_text(encoding="utf-8")
    cleaned = clean_plain_text(text)
    covers = [line for line, kind in cleaned.removed if line == "Newsweek cover"]
    assert len(covers) == 2
    spec = json.loads((DATA / "expected.json").read_text(encoding="utf-8"))["seeds"]
    furniture = {_norm(line) for line in spec["002_2250a2825a44a564.txt"]["boilerplate"]}
    in_order = [line.strip() for line in text.splitlines() if _norm(line) in furniture]
    assert [line for line, _ in cleaned.removed] == in_order


ARTICLE = [
    "Council approves new budget after long debate",
    "The city council approved a budget of 2.1 billion dollars on Tuesday, after a debate that "
    "lasted more than nine hours and ended shortly before midnight.",
    "{line}",
    "The mayor said the spending plan would protect libraries and bus routes while freezing "
    "property taxes for a second consecutive year.",
    "Opponents said the plan relied on optimistic revenue forecasts and would force cuts later.",
]

FURNITURE = [
    ("Mostly sunny 18°C", "weather widget"),
    ("-3°", "weather widget"),
    ("Home > Local > City Hall", "breadcrumb"),
    ("Home » Politics", "breadcrumb"),
    ("ADVERTISEMENT", "advertisement marker"),
    ("Story continues below advertisement", "advertisement marker"),
    ("— Sponsored —", "advertisement marker"),
    ("Get our morning briefing delivered to your inbox", "subscription blurb"),
    ("Subscribe to our newsletter for the latest local news", "subscription blurb"),
    ("Already a subscriber? Log in here", "subscription blurb"),
    ("See also: Transit fares to rise in spring", "related-article link"),
    ("Related Stories", "related-article link"),
    ("Top Stories", "promo label"),
    ("Editor's Choice", "promo label"),
    ("A voter waits in line at a polling station, May 3, 2022. AP Photo/Jane Roe", "photo caption"),
    ("Council members vote on the budget. (AFP)", "photo caption"),
    ("Photo: Metro Desk", "photo caption"),
    ("Share on Facebook", "share prompt"),
    ("Twitter | Facebook | Email", "share prompt"),
    ("View Comments", "comment prompt"),
    ("27 comments", "comment prompt"),
    ("Older post", "pagination"),
    ("Page 3 of 7", "pagination"),
    ("‹ Prev", "pagination"),
    ("Copyright © 2021 City Courier Inc.", "copyright notice"),
    ("This website uses cookies to ensure you get the best experience.", "cookie notice"),
    ("Privacy Policy | Terms of Service", "cookie notice"),
    ("Like us on Facebook", "site footer"),
    ("Get the Courier app on Google Play", "site footer"),
    ("Contact Us | About Us | Careers", "site footer"),
    ("Last updated: 14:05, 3 May 2022", "timestamp"),
    ("By Ana Ruiz", "byline"),
]


@pytest.mark.parametrize(("line", "kind"), FURNITURE, ids=[f[0] for f in FURNITURE])
def test_kinds_of_furniture_are_removed_in_new_articles(line: str, kind: str) -> None:
    text = "\n\n".join(ARTICLE).format(line=line)
    cleaned = clean_plain_text(text)
    assert cleaned.removed == ((line, kind),)
    assert cleaned.title == ARTICLE[0]
    assert len(cleaned.lines) == 3


# Lines that stand over a headline and read like one: skip links, live tickers of other
# stories, navigation strips. Each must leave the headline its place and go.
OVER_THE_HEADLINE = [
    ("Skip to main content", "skip link"),
    ("Zum Inhalt springen", "skip link"),
    ("Aller au contenu principal", "skip link"),
    ("BREAKING: Floods close the coastal highway for a second day", "live ticker"),
    ("Live updates: Counting continues in the regional elections", "live ticker"),
    ("EN DIRECT | Grève des contrôleurs aériens", "live ticker"),
    ("Latest: Flights grounded as the storm moves inland", "live ticker"),
    ("Directo | Última hora de la huelga de transportes", "live ticker"),
    ("In diretta: lo spoglio delle elezioni regionali", "live ticker"),
    ("NA ŻYWO: Wyniki wyborów samorządowych", "live ticker"),
    ("Home - News - World", "breadcrumb"),
    ("World · Europe · Politics", "breadcrumb"),
    ("News | Sport | Business | Culture", "breadcrumb"),
]


@pytest.mark.parametrize(("line", "kind"), OVER_THE_HEADLINE, ids=[f[0] for f in OVER_THE_HEADLINE])
def test_lines_over_the_headline_do_not_take_its_place(line: str, kind: str) -> None:
    text = "\n\n".join([line, *ARTICLE]).format(line="By Ana Ruiz")
    cleaned = clean_plain_text(text)
    assert cleaned.title == ARTICLE[0]
    assert cleaned.removed == ((line, kind), ("By Ana Ruiz", "byline"))
    assert len(cleaned.lines) == 3


SHORT_ARTICLE_LINES = [
    "Live music returned to the square on Saturday.",
    "Latest figures show a drop in applications.",
    "Home - and the people in it - changed that winter.",
    "Breaking the deadlock took three votes.",
    "It was not enough.",
    '"No," she said.',
    "Why now?",
    "A long road ahead",
    "What the budget means for renters",
    "Updated figures are expected next month.",
    "Share prices of the city's bond insurer fell.",
    "Copyright law was not part of the debate.",
    "By then, most residents had left the hall.",
    "Home values rose 4% last year.",
    "Related costs were not disclosed.",
    "The room was 30C by midnight.",
    "He told Reuters.",
    "Subscribers to the transit pass will pay less.",
]


@pytest.mark.parametrize("line", SHORT_ARTICLE_LINES)
def test_short_article_lines_survive(line: str) -> None:
    text = "\n\n".join(ARTICLE).format(line=line)
    cleaned = clean_plain_text(text)
    assert cleaned.removed == ()
    assert cleaned.lines[1] == line


def test_alt_text_needs_a_caption_below_it() -> None:
    subhead = "Budget talks stall"
    caption = "Budget talks stall at City Hall, May 2, 2022. REUTERS/Jane Roe"
    paragraph = (
        "Budget talks stall every spring, the clerk said, because the forecasts arrive late."
    )
    with_caption = clean_plain_text("\n\n".join([ARTICLE[0], ARTICLE[1], subhead, caption]))
    assert with_caption.removed == ((subhead, "image alt text"), (caption, "photo caption"))
    with_prose = clean_plain_text("\n\n".join([ARTICLE[0], ARTICLE[1], subhead, paragraph]))
    assert with_prose.removed == ()


def test_repeated_short_lines_are_furniture_but_the_headline_is_not() -> None:
    widget = ["Members get more", "• Weekly puzzles", "• Early access to events"]
    body = [ARTICLE[0], ARTICLE[1], *widget, ARTICLE[3], *widget, ARTICLE[4], ARTICLE[0]]
    cleaned = clean_plain_text("\n".join(body))
    assert cleaned.title == ARTICLE[0]
    assert cleaned.lines == (ARTICLE[1], ARTICLE[3], ARTICLE[4])
    assert len(cleaned.removed) == 7


def test_text_document_fields() -> None:
    text = (SEEDS / "001_823ff332d79fc15b.txt").read_text(encoding="utf-8")
    cleaned = clean_plain_text(text)
    document = text_document(text, encoding="utf-8")
    assert document.source_kind == "text"
    assert document.text == "\n".join(cleaned.lines)
    assert document.title == cleaned.title
    assert document.encoding == "utf-8"
    assert document.removed == cleaned.removed
    # The date bar above the headline is the day of viewing, not the publication date.
    assert document.published is None
    assert "Friday, September 22, 2023" not in document.text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        (" \n\t\n\u00a0\u00a0\r\n", "empty"),
        ("Advertisement\n\nShare this article\n\n© 2023 Example Media", "furniture"),
        ("- Advertisement -\r\n- Advertisement -\r\nTrending Today", "furniture"),
    ],
)
def test_nothing_left_is_a_clear_error(text: str, reason: str) -> None:
    with pytest.raises(ExtractionError, match=r"^no article text") as error:
        text_document(text)
    assert reason in str(error.value)


def test_not_text_is_a_clear_error() -> None:
    with pytest.raises(ExtractionError, match="must be str"):
        clean_plain_text(b"bytes are decoded elsewhere")  # type: ignore[arg-type]


def test_single_line_is_kept_as_text_without_title() -> None:
    document = text_document("Police closed the bridge after a lorry overturned on Monday.")
    assert document.title is None
    assert document.text == "Police closed the bridge after a lorry overturned on Monday."


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\u2028"])
def test_line_endings_do_not_matter(newline: str) -> None:
    text = (SEEDS / "004_68b5784f78c83333.txt").read_text(encoding="utf-8")
    assert clean_plain_text(text.replace("\n", newline)) == clean_plain_text(text)


def test_nul_and_control_characters_do_not_reach_the_text() -> None:
    text = "Storm hits the coast overnight\n\nWinds of 120 km/h\x00 tore roofs\x07 off homes."
    document = text_document(text)
    assert document.title == "Storm hits the coast overnight"
    assert "\x00" not in document.text and "\x07" not in document.text
    assert document.text.split() == ["Winds", "of", "120", "km/h", "tore", "roofs", "off", "homes."]


def test_text_without_newline_is_one_paragraph() -> None:
    text = "The river rose two metres overnight and the town's centre was flooded. " * 40
    document = text_document(text)
    assert document.title is None
    assert document.text == text.strip()


def test_megabyte_lines_are_kept() -> None:
    huge = "word " * 200_000
    document = text_document(f"Flood waters recede\n\n{huge}\n\n{huge}REUTERS/Jane Roe")
    assert document.title == "Flood waters recede"
    assert document.text.split("\n") == [huge.strip(), f"{huge}REUTERS/Jane Roe".strip()]


def test_rules_are_kinds_not_the_seeds_strings() -> None:
    rules = RULES_PATH.read_text(encoding="utf-8").casefold()
    for literal in ("newsweek", "press tv", "14.8", "roku", "koreas", "brendan", "kcna via"):
        assert literal not in rules, literal


GERMAN = (
    "Straßenbahn bis zum Hafen\n\n"
    "Der Stadtrat hat am Dienstagabend mit großer Mehrheit beschlossen, die Straßenbahnlinie "
    "bis zum neuen Hafenviertel zu verlängern.\n\nNach Angaben der Verkehrsbetriebe werden auf "
    "der neuen Strecke fünf Haltestellen entstehen, und die Bauarbeiten beginnen im Frühjahr.\n"
)
FRENCH = (
    "Le tramway jusqu'au port\n\n"
    "Le conseil municipal a voté mardi soir la prolongation de la ligne de tramway jusqu'au "
    "nouveau quartier du port.\n\nSelon la régie des transports, cinq nouvelles stations seront "
    "construites sur le tracé, et les travaux commenceront au printemps.\n"
)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        (SEEDS.joinpath("000_45aba19d97436708.txt").read_text(encoding="utf-8"), "en"),
        (GERMAN, "de"),
        (FRENCH, "fr"),
    ],
)
def test_plain_text_language_is_identified(text: str, language: str) -> None:
    assert text_document(text).language == language


def test_two_short_lines_have_no_language() -> None:
    text = "Harbour reopens\n\nThe harbour reopened on Tuesday after repairs.\n"
    document = text_document(text)
    assert len(document.text) < MIN_CHARS
    assert document.language is None


def test_japanese_article_keeps_its_body_and_drops_its_furniture() -> None:
    """CJK lines have no spaces between words: the body must still read as article text."""
    lines = (DATA / "cjk" / "ja-harbor-bridge.txt").read_text(encoding="utf-8").splitlines()
    cleaned = clean_plain_text("\n".join(lines))
    assert cleaned.title == lines[1]
    # Why the dateline goes: a date line right under the headline is the article's stamp,
    # furniture like the byline (text.UNDER_HEADLINE); the five paragraphs stay.
    assert cleaned.lines == tuple(lines[3:8])
    assert cleaned.removed == (
        (lines[0], "breadcrumb"),
        (lines[2], UNDER_HEADLINE),
        (lines[8], "related-article link"),
        (lines[9], "related-article link"),
        (lines[10], "share prompt"),
        (lines[11], "copyright notice"),
    )


def test_concurrent_cleaning_shares_the_feature_cache_safely() -> None:
    """Extraction threads share one feature cache: pages of many new lines, cleaned at once,
    give what each gives alone (the cache once grew under a reader: IndexError)."""
    import sys
    from concurrent.futures import ThreadPoolExecutor

    from pipeline.extract import text

    pages = [
        "\n".join(
            [f"Council votes on bridge number {n}"]
            + [f"Paragraph {p} of report {n} says the works near pier {p * n} go on as planned."
               for p in range(60)]
        )
        for n in range(150)
    ]  # fmt: skip
    alone = [clean_plain_text(page) for page in pages]
    text._FEATURES.clear()  # every line new again: the cache grows while threads read it
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        with ThreadPoolExecutor(8) as pool:
            together = list(pool.map(clean_plain_text, pages))
    finally:
        sys.setswitchinterval(interval)
    assert together == alone
