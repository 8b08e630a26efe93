"""`scrapy export -o FILE`: documents as JSON Lines, a JSON array or CSV, or a WACZ package.

The format is the file's extension (or ``--format``); ``-o -`` writes JSON Lines, JSON or CSV to
stdout. ``--since``/``--until``/``--site``/``--story`` choose the documents, in every format.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.cli.command_support import ArchiveCommand, CommandError, day_range
from pipeline.cli.output_target import OutputWriteError, check_output_target, replacing
from pipeline.commands.dupes import document_id_arg
from pipeline.db.queries_core import DocumentSelection
from pipeline.index.export import TEXT_FORMATS, export_documents

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".wacz": "wacz"}
STDOUT = "-"


def output_format(output: str, given: str | None, wacz: bool) -> str:
    """The format from --wacz, --format or the extension; CommandError when none says."""
    chosen = "wacz" if wacz else given
    if output == STDOUT:
        if chosen == "wacz":
            raise CommandError("a WACZ package cannot go to stdout: give -o FILE.wacz")
        return chosen or "jsonl"
    if chosen is not None:
        return chosen
    suffix = Path(output).suffix.lower()
    if suffix not in FORMATS:
        known = ", ".join(FORMATS)
        raise CommandError(
            f"cannot tell the format of {Path(output).name!r} ({known}): use --format"
        )
    return FORMATS[suffix]


class Command(ArchiveCommand):
    def syntax(self) -> str:
        return "-o FILE|- [--format F] [--since D] [--until D] [--site S] [--story ID]"

    def short_desc(self) -> str:
        return "Export documents (JSON Lines, JSON, CSV) or the archive as WACZ"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("-o", "--output", required=True, metavar="FILE", help="- for stdout")
        parser.add_argument(
            "--format", choices=["jsonl", "json", "csv", "wacz"], help="default: by extension"
        )
        parser.add_argument("--wacz", action="store_true", help="write a WACZ package")
        parser.add_argument("--since", help="published or first seen on/after YYYY-MM-DD")
        parser.add_argument("--until", help="published or first seen on/before YYYY-MM-DD")
        parser.add_argument("--site", help="only documents from this site name or host")
        parser.add_argument("--story", metavar="ID", help="only the documents of this story")

    def execute(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise CommandError(f"unexpected arguments: {' '.join(args)}")
        fmt = output_format(opts.output, opts.format, opts.wacz)
        since, until = day_range(opts.since, opts.until)
        story = document_id_arg([opts.story], "story") if opts.story is not None else None
        selection = DocumentSelection(since, until, opts.site, story)
        if opts.output == STDOUT:
            with self.session() as session:
                export_documents(session, None, fmt, selection)
            return
        path = Path(opts.output)
        config = self.config()
        path = check_output_target(path, config.archive_dir, config.db_url)
        if fmt == "wacz":
            self.export_wacz(path, selection)
            return
        assert fmt in TEXT_FORMATS
        with self.session() as session:
            count = export_documents(session, path, fmt, selection)
        print(f"exported {count} document(s) to {path} ({fmt})")

    def export_wacz(self, path: Path, selection: DocumentSelection) -> None:
        # Imported here: cdxj-indexer takes ~0.5 s to import, which text exports need not pay.
        from pipeline.warc.wacz import WaczError, WaczWriteError, export_wacz

        with self.session() as session:
            try:
                with replacing(path) as scratch:
                    result = export_wacz(session, self.config().warc_dir, scratch, selection)
            except WaczWriteError as error:  # exit 1, as any export the disk cannot take
                raise OutputWriteError(str(error)) from None
            except WaczError as error:
                raise CommandError(str(error)) from None
        print(
            f"wrote {path}: {result.warc_files} WARC file(s), {result.pages} page(s), "
            f"{result.index_lines} index line(s)"
        )
