"""`newsvault`: every crawl and query command, from any folder.

The commands are the project's Scrapy commands (COMMANDS_MODULE), run by Scrapy's own command
line with the project's settings module named in SCRAPY_SETTINGS_MODULE, so no scrapy.cfg is
needed in the current folder: `newsvault search kim` is `scrapy search kim` run in the project.
Global options may come before the command name (`newsvault --archive DIR stats`); they are
handed to the command, which takes them as well.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

from pipeline import __version__
from pipeline.cli.suggest import closest

# Why Scrapy is imported inside the functions: a crawl's worker processes are started with
# spawn, which runs the `newsvault` script (so imports this module) again in each of them
# before their task; at the top, Scrapy's import cost each worker about 0.2 s of CPU for nothing.
if TYPE_CHECKING:
    from scrapy.commands import ScrapyCommand

SETTINGS_MODULE = "pipeline.settings"
USAGE_EXIT = 2
GLOBAL_OPTIONS = ("--archive",)
HELP = ("-h", "--help")


def fail(message: str) -> NoReturn:
    print(f"newsvault: error: {message}", file=sys.stderr)
    raise SystemExit(USAGE_EXIT)


def project_commands(commands_module: str) -> dict[str, type[ScrapyCommand]]:
    """The commands newsvault runs, named as Scrapy names them: by their module."""
    from scrapy.commands import ScrapyCommand

    found: dict[str, type[ScrapyCommand]] = {}
    package = importlib.import_module(commands_module)
    modules = [package] + [
        importlib.import_module(f"{commands_module}.{info.name}")
        for info in pkgutil.iter_modules(package.__path__)
    ]
    for module in modules:
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, ScrapyCommand)
                and value.__module__ == module.__name__
            ):
                found[module.__name__.rsplit(".", 1)[-1]] = value
    return dict(sorted(found.items()))


def spider_lines(settings: object) -> list[str]:
    from scrapy.spiderloader import get_spider_loader

    loader = get_spider_loader(settings)  # type: ignore[arg-type]
    lines = []
    for name in sorted(loader.list()):
        summary = getattr(loader.load(name), "summary", "")
        lines.append(f"  {name:<10} {summary}".rstrip())
    return lines


def help_text(commands: dict[str, type[ScrapyCommand]], settings: object) -> str:
    lines = [
        f"newsvault {__version__}: archive news to WARC files, index and search it",
        "",
        "usage: newsvault [--archive DIR] COMMAND [options] [arguments]",
        "       newsvault COMMAND --help",
        "",
        "commands:",
    ]
    lines += [f"  {name:<10} {command().short_desc()}" for name, command in commands.items()]
    lines += ["", "spiders (newsvault crawl SPIDER -a NAME=VALUE ...):"]
    lines += spider_lines(settings)
    lines += [
        "",
        "global options:",
        "  --archive DIR  the archive folder (default: $ARCHIVE_DIR, else ./archive)",
        "  -s NAME=VALUE  a setting, e.g. -s ARCHIVE_DB_URL=postgresql://host/db (after COMMAND)",
        "  -h, --help     this help; newsvault COMMAND --help for a command's options",
        "  --version      the version",
    ]
    return "\n".join(lines)


def split_command(argv: Sequence[str]) -> tuple[str | None, list[str]]:
    """The command name and the rest, with global options before the name moved after it."""
    leading: list[str] = []
    rest = list(argv)
    while rest and rest[0].startswith("-") and rest[0] != "--":
        option = rest.pop(0)
        if option in HELP or option == "--version":
            return option, []
        name = option.split("=", 1)[0]
        if name not in GLOBAL_OPTIONS:
            suggestion = closest(name, [*GLOBAL_OPTIONS, *HELP, "--version"])
            hint = f"; did you mean {suggestion}?" if suggestion else ""
            fail(f"unknown option {name} before the command{hint} (newsvault --help)")
        leading.append(option)
        if "=" not in option:
            if not rest:
                fail(f"{name}: expected a value")
            leading.append(rest.pop(0))
    if not rest or rest[0] == "--":
        return None, leading
    return rest[0], [*leading, *rest[1:]]


def main(argv: Sequence[str] | None = None) -> None:
    """The `newsvault` console command."""
    os.environ["SCRAPY_SETTINGS_MODULE"] = SETTINGS_MODULE
    from scrapy.cmdline import execute
    from scrapy.utils.project import get_project_settings

    name, rest = split_command(sys.argv[1:] if argv is None else argv)
    settings = get_project_settings()
    commands = project_commands(settings["COMMANDS_MODULE"])
    if name == "--version":
        print(f"newsvault {__version__}")
        return
    if name is None and rest:
        fail("no command given (newsvault --help lists them)")
    if name is None or name in HELP:
        print(help_text(commands, settings))
        return
    if name not in commands:
        suggestion = closest(name, list(commands))
        hint = f"; did you mean {suggestion}?" if suggestion else ""
        fail(f"unknown command {name!r}{hint} (commands: {', '.join(commands)})")
    execute(["newsvault", name, *rest], settings)
