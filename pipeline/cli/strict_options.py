"""Command-line options that mean what they say: an unknown option is an error, not a word.

Scrapy builds each command's argument parser and parses with ``parse_known_args``, so a typo
such as ``--sinse`` used to end up among the command's arguments (a search for "--sinse").
A command hands its parser to ``make_strict`` in ``add_options`` (the only moment a command sees
it): the parser then refuses unknown options with one line naming the closest valid one, treats
everything after ``--`` as arguments, prints argparse's own errors as one line (exit 2), and, for
commands whose arguments are search words, keeps words that start with one ``-`` (``-putin``,
an exclusion) as words.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from scrapy.cmdline import ScrapyArgumentParser

from pipeline.cli.suggest import closest

USAGE_EXIT = 2
# Marks a search word that starts with "-" while argparse parses, so it is never read as an option.
_WORD_MARK = "\x00"
_NUMBER = re.compile(r"^-\d+$|^-\d*\.\d+$")


class StrictArgumentParser(ScrapyArgumentParser):
    words_may_start_with_dash = False
    command_line = "newsvault"

    def error(self, message: str) -> NoReturn:
        print(f"newsvault: error: {message}", file=sys.stderr)
        raise SystemExit(USAGE_EXIT)

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> tuple[argparse.Namespace, list[str]]:
        given = list(sys.argv[1:] if args is None else args)
        before, after = given, []
        if "--" in given:
            cut = given.index("--")
            before, after = given[:cut], given[cut + 1 :]
        if self.words_may_start_with_dash:
            before = [_WORD_MARK + a if self._is_dash_word(a) else a for a in before]
        parsed, extras = super().parse_known_args(before, namespace)
        for extra in extras:
            if _looks_like_option(extra):
                self.error(self.unknown_option_message(extra))
        _unmark_values(parsed)
        return parsed, [a.removeprefix(_WORD_MARK) for a in extras] + after

    def _is_dash_word(self, arg: str) -> bool:
        """A search word such as ``-putin``: one dash, and not one of the command's options."""
        return (
            len(arg) > 1
            and arg.startswith("-")
            and not arg.startswith("--")
            and arg not in self._option_string_actions
        )

    def option_names(self) -> list[str]:
        return sorted(self._option_string_actions)

    def unknown_option_message(self, arg: str) -> str:
        name = arg.split("=", 1)[0]
        candidates = [o for o in self.option_names() if o.startswith("--") == name.startswith("--")]
        suggestion = closest(name, candidates)
        if suggestion is not None:
            return f"unknown option {name}; did you mean {suggestion}?"
        return f"unknown option {name} (`{self.command_line} --help` lists the options)"


def _looks_like_option(arg: str) -> bool:
    return arg.startswith("-") and arg != "-" and not _NUMBER.match(arg)


def _unmark_values(parsed: argparse.Namespace) -> None:
    """An option whose value was a marked word (``--site -x``) gets the word as given."""
    for key, value in vars(parsed).items():
        if isinstance(value, str):
            setattr(parsed, key, value.removeprefix(_WORD_MARK))
        elif isinstance(value, list):
            setattr(parsed, key, [_unmark(v) for v in value])


def _unmark(value: object) -> object:
    return value.removeprefix(_WORD_MARK) if isinstance(value, str) else value


def program_name() -> str:
    """``newsvault`` when run as the console command, else ``scrapy`` (inside the project)."""
    return "newsvault" if sys.argv and sys.argv[0].endswith("newsvault") else "scrapy"


def make_strict(
    parser: argparse.ArgumentParser, command: str, *, words_may_start_with_dash: bool = False
) -> None:
    """Turn the parser Scrapy built for ``command`` into a StrictArgumentParser.

    Scrapy creates the parser itself and hands it to a command only in ``add_options``; the
    subclass adds no state of its own beyond the two attributes set here, so changing the
    instance's class is safe.
    """
    if not isinstance(parser, StrictArgumentParser):
        parser.__class__ = StrictArgumentParser
    assert isinstance(parser, StrictArgumentParser)
    parser.words_may_start_with_dash = words_may_start_with_dash
    parser.command_line = f"{program_name()} {command}"
    if parser.usage and parser.usage.startswith("scrapy "):
        parser.usage = program_name() + parser.usage.removeprefix("scrapy")
