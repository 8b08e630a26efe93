"""Spider arguments checked before a crawl starts, so a typo writes nothing to the archive.

A spider class may define ``check_arguments(settings, **arguments)``: `scrapy crawl` calls it
before it opens the archive, and a ``SpiderArgumentError`` becomes one line on stderr and exit
code 2 (no WARC file, no crawl row, no failure row). A spider without it is built once with its
arguments, and an ``argument_error`` it notes in ``__init__`` is refused the same way.
"""

from __future__ import annotations

from typing import Any

from scrapy.settings import BaseSettings


class SpiderArgumentError(ValueError):
    """A spider argument (-a name=value) or the input it names is unusable; ``str()`` names it."""


def check_spider_arguments(
    spider_class: type, settings: BaseSettings, arguments: dict[str, Any]
) -> None:
    """Run the spider class's own check, if it has one; raises SpiderArgumentError."""
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
