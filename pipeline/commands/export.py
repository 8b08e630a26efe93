"""`scrapy export -o FILE`: documents as JSON Lines or CSV, or the archive as a WACZ package."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.command_support import ArchiveCommand, CommandError
from pipeline.index.export import export_documents
from pipeline.output_target import check_output_target, replacing

FORMATS = {".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".wacz": "wacz"}


class Command(ArchiveCommand):
    def syntax(self) -> str:
        return "-o FILE [--format jsonl|csv|wacz]"

    def short_desc(self) -> str:
        return "Export documents with metadata (JSON Lines, CSV) or the archive as WACZ"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("-o", "--output", required=True, metavar="FILE", help="output file")
        parser.add_argument("--format", choices=["jsonl", "csv", "wacz"], help="default: by suffix")
        parser.add_argument("--wacz", action="store_true", help="write a WACZ package")

    def execute(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise CommandError(f"unexpected arguments: {' '.join(args)}")
        path = Path(opts.output)
        fmt = "wacz" if opts.wacz else opts.format or FORMATS.get(path.suffix.lower())
        if fmt is None:
            raise CommandError(f"cannot tell the format of {path.name}: use .jsonl, .csv or .wacz")
        config = self.config()
        path = check_output_target(path, config.archive_dir, config.db_url)
        if fmt == "wacz":
            self.export_wacz(path)
            return
        with self.session() as session:
            count = export_documents(session, path, fmt)
        print(f"exported {count} document(s) to {path} ({fmt})")

    def export_wacz(self, path: Path) -> None:
        from pipeline.warc.wacz import WaczError, export_wacz

        with self.session() as session:
            try:
                with replacing(path) as scratch:
                    result = export_wacz(session, self.config().warc_dir, scratch)
            except WaczError as error:
                raise CommandError(str(error)) from None
        print(
            f"wrote {path}: {result.warc_files} WARC file(s), {result.pages} page(s), "
            f"{result.index_lines} index line(s)"
        )
