"""Walking parsed JSON-LD: the objects of a document, whatever lists and @graph wrap them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def json_ld_nodes(data: object, *, nested: bool) -> Iterator[dict[str, Any]]:
    """Every object of a parsed JSON-LD document, depth first.

    Lists and ``@graph`` are always opened. ``nested`` also opens objects held in other keys
    (an article's ``author``, ``publisher``, ``mainEntity``...): right when looking for a value
    anywhere in the document, wrong when asking what the page itself declares to be.
    """
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            yield node
            if nested:
                stack.extend(v for v in node.values() if isinstance(v, list | dict))
            elif isinstance(node.get("@graph"), list):
                stack.extend(node["@graph"])
