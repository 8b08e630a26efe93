"""parse_html builds the tree trafilatura's load_html builds from the same decoded page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml.html import HtmlElement, tostring
from trafilatura.utils import load_html

from pipeline.extract.decode import decode_bytes, meta_charset
from pipeline.extract.html_parse import parse_html

ROOT = Path(__file__).resolve().parents[1]
DEVSET = ROOT.parent / "shared" / "devsets" / "fundus"
_C0 = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
DOCTYPE_XHTML = (
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
    '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">'
)

# Each a fault the parse handles, or an input load_html turns away.
FAULTS = {
    "NUL and C0 controls in the text": "<html><body><p>a\x00b\x01c\x1fd</p></body></html>",
    "controls in the first bytes": "\x0b\x0c<html><body><p>text</p></body></html>",
    "noncharacters U+FFFE and U+FFFF": "<html><body><p>a\ufffeb\uffffc</p></body></html>",
    "a noncharacter inside the start that is tested": "<ht\ufffeml><body><p>a</p></body></html>",
    "a doctype with slashes on the first line": f"{DOCTYPE_XHTML}\n<html><body><p>a</p></body>",
    "the same doctype and a control": f"{DOCTYPE_XHTML}\n<html><body><p>a\x07</p></body></html>",
    "a plain doctype": "<!doctype html>\n<html lang='en'><body><p>a</p></body></html>",
    "self-closing html": "<html />\n<body><p>a</p></body>",
    "an XML declaration with an encoding": (
        '<?xml version="1.0" encoding="utf-8"?><html><body><p>é</p></body></html>'
    ),
    "a meta charset other than UTF-8": (
        '<html><head><meta charset="windows-1252"></head><body><p>é ü ß</p></body></html>'
    ),
    "a lone surrogate": "abc\ud800def<html><body><p>x</p></body></html>",
    "a fragment": "<p>one paragraph</p><p>and another</p>",
    "a fragment with controls": "<div>\x01\x02<p>t</p></div>",
    "words only": "plain words and nothing else",
    "controls only": "\x00" * 10,
    "empty": "",
    "the document's start after 8 kB": "x" * 9000 + "<body><p>late</p></body>",
    "svg alone": "<svg><text>a</text></svg>",
    "form elements": (
        "<html><body><FORM><Input name=q><label>Find</label><select><option>a</select>"
        "<textarea>t</textarea></FORM><p>text</p></body></html>"
    ),
    # load_html turns these away: no "html" in the first 50 characters and under two children.
    "a body after words": "words " * 20 + "<body><p>late</p></body>",
    "a body alone": "<body>",
}


def load_html_tree(html: str) -> HtmlElement | None:
    """What the extractor parsed before parse_html: control characters deleted, a fragment
    given a body, then trafilatura's load_html."""
    cleaned = _C0.sub("", html)
    if not re.search(r"<html[\s>]|<body[\s>]", cleaned[:8192], re.I):
        cleaned = f"<html><body>{cleaned}</body></html>"
    try:
        return load_html(cleaned)
    except (ValueError, TypeError):
        return None


def serialised(tree: HtmlElement | None) -> tuple[str, list[str]] | None:
    """The markup, and each node's class (lxml.html gives forms and their fields their own)."""
    if tree is None:
        return None
    return tostring(tree, encoding="unicode"), [type(node).__name__ for node in tree.iter()]


@pytest.mark.parametrize("name", FAULTS)
def test_faults_give_load_html_tree(name: str) -> None:
    html = FAULTS[name]
    assert serialised(parse_html(html)) == serialised(load_html_tree(html))


def test_faults_include_inputs_without_a_tree_and_repaired_ones() -> None:
    # The comparison above would pass vacuously if every case parsed to nothing.
    form = parse_html(FAULTS["form elements"])
    assert form is not None
    assert {type(node).__name__ for node in form.iter()} == {
        "HtmlElement", "FormElement", "InputElement", "LabelElement", "SelectElement",
        "TextareaElement",
    }  # fmt: skip
    assert parse_html(FAULTS["a body after words"]) is None
    assert parse_html(FAULTS["a body alone"]) is None
    repaired = parse_html(FAULTS["NUL and C0 controls in the text"])
    assert repaired is not None
    assert repaired.text_content() == "abcd"
    without_noncharacters = parse_html(FAULTS["noncharacters U+FFFE and U+FFFF"])
    assert without_noncharacters is not None
    assert without_noncharacters.text_content() == "abc"


def _pages(folder: Path, pattern: str) -> list[Path]:
    return sorted(folder.rglob(pattern))


def _same_trees(paths: list[Path]) -> None:
    assert paths
    for path in paths:
        data = path.read_bytes()
        html = decode_bytes(data, meta_charset(data)).text
        assert serialised(parse_html(html)) == serialised(load_html_tree(html)), path.name


def test_suite_texts_served_as_html_give_load_html_tree() -> None:
    _same_trees(_pages(ROOT / "tests" / "data", "*.txt"))


@pytest.mark.skipif(
    not DEVSET.is_dir(),
    reason=f"dev set not found at {DEVSET} (the shared devsets folder beside the repo)",
)
def test_real_pages_give_load_html_tree() -> None:
    _same_trees(_pages(DEVSET, "*.html"))
