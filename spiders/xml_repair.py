"""What feeds and sitemaps share about XML as found in the wild: stray "&" and HTML entities made
well-formed before parsing, and telling a document cut off in transit from bad markup."""

from __future__ import annotations

import html.entities
import re

import lxml.etree

XML_ERR_TAG_NOT_FINISHED = 77  # libxml2: "Premature end of data in tag ..."
XML_ERR_DOCUMENT_END = 5  # libxml2: "Extra content at the end of the document"
# A "&" that starts no entity or character reference: common in hand-made documents; libxml2's
# recovery would silently drop the text after it ("?a=1&b=2" -> "?a=1=2").
BARE_AMPERSAND = re.compile(rb"&(?!(?:[A-Za-z_][\w.-]*|#[0-9]+|#[xX][0-9A-Fa-f]+);)")
# HTML's named entities (&eacute;) in a document that declares none: libxml2's recovery would
# cut the text there; they become the characters they name, unknown names stay text.
NAMED_ENTITY = re.compile(rb"&([A-Za-z][A-Za-z0-9]*);")
XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})


def _entity(match: re.Match[bytes]) -> bytes:
    name = match[1].decode("ascii")
    if name in XML_ENTITIES:
        return match[0]
    text = html.entities.html5.get(name + ";")
    return "".join(f"&#{ord(c)};" for c in text).encode() if text else b"&amp;" + match[0][1:]


def escape_stray_entities(body: bytes) -> bytes:
    """Bare "&" escaped, HTML entities as character references; UTF-16 is left as it is."""
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        return body
    return NAMED_ENTITY.sub(_entity, BARE_AMPERSAND.sub(b"&amp;", body))


def ends_at_error(body: bytes, error: lxml.etree.XMLSyntaxError) -> bool:
    """True if the parser failed because the document stopped (cut off), not on bad markup."""
    if error.code == XML_ERR_TAG_NOT_FINISHED:
        return True
    line, column = error.position
    lines = body.split(b"\n")
    return line >= len(lines) and column >= len(lines[-1].rstrip())


def complete_elements(body: bytes, tags: tuple[str, ...]) -> int | None:
    """How many of these elements a document cut off in transit closed before it stopped; None
    if it was not cut off (whole, or failing on bad markup first)."""
    parser = lxml.etree.XMLPullParser(
        events=("end",), tag=tags, resolve_entities=False, no_network=True, huge_tree=False
    )
    try:
        parser.feed(body)
    except lxml.etree.XMLSyntaxError as error:
        closed = sum(1 for _ in parser.read_events())
        return closed if ends_at_error(body, error) else None
    closed = sum(1 for _ in parser.read_events())
    try:
        parser.close()
    except lxml.etree.XMLSyntaxError as error:
        # What close() reports after failing are the elements libxml2 (2.14.6 at least) ends
        # where the document stopped: never closed in it, so not counted.
        return closed if ends_at_error(body, error) else None
    return None
