"""Spider arguments checked before a crawl starts, so a typo writes nothing to the archive.

A spider class may define ``check_arguments(settings, **arguments)``: `scrapy crawl` calls it
before it opens the archive, and a ``SpiderArgumentError`` becomes one line on stderr and exit
code 2 (no WARC file, no crawl row, no failure row). A spider without it is built once with its
arguments, and an ``argument_error`` it notes in ``__init__`` is refused the same way.
"""

from __future__ import annotations

import inspect
from typing import Any

from scrapy.settings import BaseSettings

from pipeline.cli.suggest import closest

_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


class SpiderArgumentError(ValueError):
    """A spider argument (-a name=value) or the input it names is unusable; ``str()`` names it."""


def check_spider_arguments(
    spider_class: type, settings: BaseSettings, arguments: dict[str, Any]
) -> None:
    """Refuse arguments the spider does not take, then run the spider class's own check, if
    it has one; raises SpiderArgumentError."""
    check_argument_names(spider_class, arguments)
    check = getattr(spider_class, "check_arguments", None)
    if check is not None:
        check(settings, **arguments)
        return
    try:
        spider = spider_class(**arguments)
    except TypeError as error:  # an argument the spider's __init__ does not take
        raise SpiderArgumentError(str(error)) from None
    problem = getattr(spider, "argument_error", None)
    if problem:
        raise SpiderArgumentError(str(problem))


def spider_argument_names(spider_class: type) -> list[str]:
    """The arguments a spider takes: the named parameters of its ``__init__``."""
    parameters = inspect.signature(spider_class).parameters.values()
    return [p.name for p in parameters if p.kind in _NAMED and p.name != "self"]


def check_argument_names(spider_class: type, arguments: dict[str, Any]) -> None:
    """A misspelt argument (``-a uurl=...``) is refused, naming the argument it most likely meant:
    Scrapy would set it as an attribute nobody reads and crawl without it."""
    known = spider_argument_names(spider_class)
    for name in arguments:
        if name in known:
            continue
        spider = getattr(spider_class, "name", spider_class.__name__)
        takes = f"{spider} takes: {', '.join(known)}" if known else f"{spider} takes none"
        suggestion = closest(name, known)
        hint = f"; did you mean {suggestion}?" if suggestion else ""
        raise SpiderArgumentError(f"unknown spider argument {name}{hint} ({takes})")
