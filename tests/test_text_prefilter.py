"""The furniture rules' literal prefilters: they skip only patterns that cannot match, so every
line gets the kind the patterns alone give it, and folding follows the regex engine's case rules."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from pipeline.extract import furniture
from pipeline.extract.furniture import CAPTION, SEPARATOR, Line, Rules
from pipeline.extract.prefilter import _PARTNERS, Needs, _char, _lower, fold, opening

ROOT = Path(__file__).resolve().parent.parent
DEVSET = ROOT.parent / "shared" / "devsets" / "fundus"


def _kind_by_every_pattern(line: Line, rules: Rules) -> str | None:
    """line_kind as it reads without prefilters: every pattern tried in the rules' order."""
    if not furniture._HAS_WORD.search(line.norm):
        return SEPARATOR
    size = len(line.norm)
    prose = line.sentence and line.words >= rules.limits["prose_words"]
    if size <= rules.limits["max_pattern_chars"]:
        for rule in rules.kinds:
            if size > rule.max_chars or (prose and not rule.in_prose):
                continue
            if rule.line is not None and rule.line.fullmatch(line.norm):
                return rule.kind
            if (
                rule.contains is not None
                and line.words <= rule.max_words
                and rule.contains.search(line.norm)
            ):
                return rule.kind
        if rules.standalone_credit.search(line.norm):
            return CAPTION
    if line.words <= rules.limits["caption_max_words"] and furniture.is_credited(line, rules):
        return CAPTION
    return None


def _variants(text: str) -> list[str]:
    """A line as the rules meet it: cased, decorated, cut (furniture is short)."""
    return [
        text,
        text.upper(),
        text.lower(),
        f"• {text}",
        f"» {text} |",
        f"{text}:",
        text[:40],
        text[-60:],
        text.replace("i", "\u0131").replace("s", "\u017f").replace("k", "\u212a"),
        text.replace("I", "\u0130"),
    ]


def _corpus_lines(folders: list[Path], limit: int | None = None) -> list[str]:
    seen: dict[str, None] = {}
    for folder in folders:
        for path in sorted(folder.rglob("*.txt"))[:limit]:
            for raw in path.read_text(encoding="utf-8").splitlines():
                if raw.strip():
                    seen.setdefault(raw.strip())
    return list(seen)


def _assert_same_kinds(texts: list[str]) -> int:
    rules = furniture.load_rules()
    marked = 0
    for text in texts:
        line = Line.make(text, 0)
        expected = _kind_by_every_pattern(line, rules)
        assert furniture.line_kind(line, rules) == expected, text
        marked += expected is not None
    return marked


def test_prefilters_keep_every_verdict_on_the_repository_pages() -> None:
    texts = _corpus_lines([ROOT / "seeds", ROOT / "tests" / "data"])
    texts += [
        "Advertisement",
        "ANZEIGE",
        "Story continues below advertisement",
        "Sunny, 23°C",
        "H: 25° L: 14°",
        "Monday, 4 March 2024",
        "2024-03-04 10:15",
        "Updated 3 hours ago",
        "Lesezeit: 5 Min.",
        "il y a 3 heures",
        "By Jane Doe and John Smith",
        "Home > News > World",
        "ホーム > ニュース > 国際",
        "Sign up for our newsletter",
        "Read more: Why the rates rose",
        "関連記事",
        "Most popular",
        "Photo: Reuters",
        "Share on Facebook",
        "Facebook Twitter WhatsApp Email",
        "12 comments",
        "Page 2 of 5",
        "« Previous | Next »",
        "1 2 3 … 10 next",
        "© 2024 The Daily Example. All rights reserved.",
        "We use cookies to improve your experience on this site.",
        "Privacy policy | Terms of use | Contact",
        "Follow us on Instagram",
        "Download the Example app",
        "A rescuer carries a child in Derna, Libya. REUTERS/Esam Omran Al-Fetori",
        "Kim Jong Un inspects a launch site (KCNA via REUTERS)",
        "(Photo: AP)",
        "AP Photo/Hussein Malla",
        "----",
    ]
    for text in list(texts):
        texts += _variants(text)
    marked = _assert_same_kinds(texts)
    assert marked >= 100  # Why: the comparison must cover furniture, not only prose


@pytest.mark.skipif(not DEVSET.exists(), reason=f"the dev set is not at {DEVSET}")
def test_prefilters_keep_every_verdict_on_the_dev_set() -> None:
    # Why a fixed sample: every line of the dev set with its variants takes a minute.
    texts = _corpus_lines([DEVSET], limit=30)
    assert _assert_same_kinds(texts + [v for t in texts[::7] for v in _variants(t)]) >= 300


def test_fold_follows_the_regex_engine_on_every_code_point() -> None:
    for code in range(sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        folded = fold(char)
        assert len(folded) == 1, hex(code)
        lower = _lower(code)
        # The engine compares a case-insensitive pattern's character by its lower case: every
        # character it matches must fold to the pattern character's folded form, which is the
        # case for all but the partners (σ and ς), whose pattern characters are not used.
        if lower < 128 or lower not in _PARTNERS:
            assert folded == fold(chr(lower)), hex(code)
    for code, partners in re._casefix._EXTRA_CASES.items():  # type: ignore[attr-defined]
        if code < 128:
            assert {fold(chr(p)) for p in partners} == {chr(code)}
        else:
            assert _char(code) is None
    assert fold("İSTANBUL Kelvin ſ") == "istanbul kelvin s"


def test_literals_a_match_starts_with_or_holds() -> None:
    assert opening(r"(?:advert|ad)s?") == {"ad", "ads", "advert", "adverts"}
    assert opening(r"(?:mon|tue)[a-z]*\.?,?\s+\d") == {"mon", "tue"}
    assert opening(r".{0,20}cookies") is None
    assert opening(r"x?") is None  # may match nothing: it says nothing of how a line starts
    needs = Needs(
        [
            (1, [r".{0,20}\bcookies\b"]),
            (2, ["σ"]),  # also matches "ς", which folding keeps apart: always tried
            (3, [r"\d+ comments"]),
            (4, ["cookie policy"]),
            (5, ["policy x"]),
            (6, ["cook"]),
        ]
    )
    assert needs.keys(fold("WE USE COOKIES")) == {1, 2, 6}
    assert needs.keys(fold("12 Comments")) == {2, 3}
    assert needs.keys(fold("No replies")) == {2}
    # Overlapping literals: each is found.
    assert needs.keys(fold("Cookie policy x")) == {2, 4, 5, 6}


def test_fold_follows_the_regex_engine_for_the_rules_characters() -> None:
    """Every character a rule's literal or small class matches folds to what the prefilters use."""
    every = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    source = furniture.RULES_PATH.read_text(encoding="utf-8")
    for code in sorted({ord(char) for char in source}):
        char = chr(code)
        if _char(code) is None or _char(code + 1) is None or char.lower() == char == char.upper():
            continue  # Why: the engine compares a character without case as it is
        # Why a two-character range: a class's range compares the upper case too.
        for pattern, allowed in (
            (re.escape(chr(code)), {_char(code)}),
            (
                f"[{re.escape(chr(code))}-{re.escape(chr(code + 1))}]",
                {_char(code), _char(code + 1)},
            ),
        ):
            for found in re.finditer(pattern, every, re.IGNORECASE):
                assert fold(found.group()) in allowed, (pattern, hex(ord(found.group())))
