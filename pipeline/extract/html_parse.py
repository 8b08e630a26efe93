"""Decoded HTML to an lxml tree, as trafilatura's ``load_html`` builds it, at less cost.

``load_html`` given a string deletes the characters libxml2 refuses with a regular expression
over the whole page, repairs two faults at its start, and parses the string. On the real pages
of ../shared/devsets/fundus (350 kB on average) that scan costs half as much as the parse, and
the extractor ran it twice (its own deletion, then trafilatura's): 6.7 ms a page in all. Here
the page is encoded to UTF-8 once, a test at memory speed says whether it holds any refused
character at all (a real page almost never does), the regular expression runs only if it does,
and lxml parses the encoded bytes (a fifth cheaper than the string): 3.5 ms a page. The parser gives
each node the class lxml.html gives it, looked up in C rather than by a Python method. The tree
is the same as ``load_html``'s, node classes included: tests/test_html_parse.py compares both on
real pages and on pages with every fault handled here.
"""

from __future__ import annotations

import re

from lxml.etree import ElementDefaultClassLookup, ElementNamespaceClassLookup
from lxml.html import (
    HtmlComment,
    HtmlElement,
    HtmlElementClassLookup,
    HtmlEntity,
    HTMLParser,
    HtmlProcessingInstruction,
    fromstring,
)
from trafilatura.utils import HTML_PARSER

# Characters libxml2 refuses: C0 controls but tab, newline and carriage return (trafilatura's
# INVALID_XML_CHARS, which also names the two noncharacters below).
_REFUSED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CONTROL_BYTES = tuple(
    bytes([code]) for code in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20))
)
_DOCUMENT_START = re.compile(r"<html[\s>]|<body[\s>]", re.I)
# load_html's repairs (trafilatura.utils DOCTYPE_TAG and FAULTY_HTML): libxml2 mishandles a
# doctype holding a slash on the first line, and a self-closing <html/>.
_SLASHED_DOCTYPE = re.compile("^< ?! ?DOCTYPE[^>]*/[^<>]*>", re.IGNORECASE)
_SELF_CLOSING_HTML = re.compile(r"(<html.*?)\s*/>", re.IGNORECASE)


def _parser_with_classes_looked_up_in_c() -> HTMLParser:
    """trafilatura's parser (its options copied) giving every node the class lxml.html gives it.

    lxml.html's class lookup is a Python method, called for every element lxml hands to
    Python: some 6,000 times a real page in the extractor, trafilatura's passes included (its
    copies of the tree keep this parser). The same classes, looked up in C: the form classes
    by tag name, HtmlElement for any other element.
    """
    lookup = ElementNamespaceClassLookup(
        ElementDefaultClassLookup(
            element=HtmlElement,
            comment=HtmlComment,
            pi=HtmlProcessingInstruction,
            entity=HtmlEntity,
        )
    )
    by_tag = lookup.get_namespace(None)
    for tag, element_class in HtmlElementClassLookup._default_element_classes.items():
        by_tag[tag] = element_class
    parser: HTMLParser = HTML_PARSER.copy()
    parser.set_element_class_lookup(lookup)
    return parser


_PARSER = _parser_with_classes_looked_up_in_c()


def parse_html(html: str) -> HtmlElement | None:
    """The page's tree, or None where load_html would give none (not HTML, or nothing parsed).

    A fragment without <html> or <body> in its first 8 kB is parsed as a document's body:
    trafilatura rejects bare fragments.
    """
    original = html
    encoded = html.encode("utf-8", "surrogatepass")
    refused = _has_refused(html, encoded)
    if refused:
        html = _CONTROLS.sub("", html)
    if not _DOCUMENT_START.search(html, 0, 8192):
        html = f"<html><body>{html}</body></html>"
    # Steps in load_html's order: its test of the start sees the noncharacters it then deletes.
    beginning = html[:50].lower()
    if refused:
        html = _REFUSED.sub("", html)
    html = _repaired_start(html, beginning)
    if html != original:
        encoded = html.encode("utf-8", "surrogatepass")
    try:
        tree = fromstring(encoded, parser=_PARSER)
    # lxml raises on input it cannot make anything of (load_html returns None then).
    except Exception:
        return None
    if tree is None or ("html" not in beginning and len(tree) < 2):
        return None
    return tree


def _has_refused(html: str, encoded: bytes) -> bool:
    # One memchr pass over the bytes per control character costs a tenth of the regular
    # expression over the string (and of a byte-level regular expression), and a search for a
    # character above U+00FF in a string that has none returns at once.
    if any(control in encoded for control in _CONTROL_BYTES):
        return True
    return "\ufffe" in html or "\uffff" in html


def _repaired_start(html: str, beginning: str) -> str:
    if "doctype" in beginning:
        first_line, _, rest = html.partition("\n")
        html = _SLASHED_DOCTYPE.sub("", first_line, count=1) + "\n" + rest
    for line in html[:4096].splitlines()[:4]:
        if "<html" in line and line.endswith("/>"):
            return _SELF_CLOSING_HTML.sub(r"\1>", html, count=1)
    return html
