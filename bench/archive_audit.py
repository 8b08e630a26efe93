"""What a finished crawl left behind, page by page: the index, the WARC files, `scrapy verify`,
`warcio check` and unclosed files. Used by the benchmarks and by the crash-resume test.

A page is identified by the URL it was fetched from (``file://`` URI for local files). From the
index: its documents and source captures; from the WARC files, read with warcio independently of
the project's code: its ``response``/``resource`` records and its ``revisit`` records.
"""

from __future__ import annotations

import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from warcio.archiveiterator import ArchiveIterator

from bench.crawl_run import WARCIO, scrapy_output
from pipeline.db.session import make_engine

SOURCE_TYPES = ("response", "resource")
WARC_PATTERNS = ("*.warc.gz", "*.warc", "*.warc.gz.open", "*.warc.open")
COMMAND_TIMEOUT = 600.0


@dataclass
class IndexCounts:
    documents: Counter[str] = field(default_factory=Counter)  # by document URL
    sources: Counter[str] = field(default_factory=Counter)  # response/resource capture rows
    revisits: Counter[str] = field(default_factory=Counter)  # revisit capture rows
    near_duplicates: int = 0
    failures: int = 0


@dataclass
class WarcCounts:
    files: list[Path] = field(default_factory=list)
    sources: Counter[str] = field(default_factory=Counter)  # response/resource records by URI
    revisits: Counter[str] = field(default_factory=Counter)
    read_errors: list[str] = field(default_factory=list)


def index_counts(db_url: str) -> IndexCounts:
    counts = IndexCounts()
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            for url, number in connection.execute(
                text("SELECT url, COUNT(*) FROM documents GROUP BY url")
            ):
                counts.documents[url] = number
            for uri, record_type, number in connection.execute(
                text(
                    "SELECT uri, record_type, COUNT(*) FROM captures "
                    "WHERE record_type IN ('response', 'resource', 'revisit') "
                    "GROUP BY uri, record_type"
                )
            ):
                target = counts.revisits if record_type == "revisit" else counts.sources
                target[uri] += number
            counts.near_duplicates = connection.execute(
                text("SELECT COUNT(*) FROM documents WHERE duplicate_of IS NOT NULL")
            ).scalar_one()
            counts.failures = connection.execute(text("SELECT COUNT(*) FROM failures")).scalar_one()
    finally:
        engine.dispose()
    return counts


def warc_paths(warc_dir: Path) -> list[Path]:
    if not warc_dir.is_dir():
        return []
    return sorted({path for pattern in WARC_PATTERNS for path in warc_dir.glob(pattern)})


def warc_counts(warc_dir: Path) -> WarcCounts:
    counts = WarcCounts(files=warc_paths(warc_dir))
    for path in counts.files:
        try:
            with path.open("rb") as stream:
                for record in ArchiveIterator(stream):
                    uri = record.rec_headers.get_header("WARC-Target-URI") or ""
                    if record.rec_type in SOURCE_TYPES:
                        counts.sources[uri] += 1
                    elif record.rec_type == "revisit":
                        counts.revisits[uri] += 1
        except Exception as error:  # warcio and zlib raise several kinds on a torn file
            counts.read_errors.append(f"{path.name}: {type(error).__name__}: {error}")
    return counts


def warcio_check(path: Path) -> tuple[int, str]:
    completed = subprocess.run(
        [str(WARCIO), "check", str(path)],
        capture_output=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    output = (completed.stdout + completed.stderr).decode("utf-8", "replace").strip()
    return completed.returncode, output


@dataclass
class ArchiveAudit:
    expected: int
    indexed_once: int = 0
    lost: list[str] = field(default_factory=list)  # no document in the index
    doubled_documents: list[str] = field(default_factory=list)  # more than one document
    doubled_index_captures: list[str] = field(default_factory=list)  # >1 source capture row
    warc_once: int = 0
    warc_missing: list[str] = field(default_factory=list)  # no response/resource record
    warc_doubled: list[str] = field(default_factory=list)  # more than one
    warc_revisits: int = 0  # revisit records of expected pages (a page fetched again)
    archived_not_indexed: list[str] = field(default_factory=list)  # in a WARC, no document
    near_duplicates: int = 0
    failures: int = 0
    warc_files: int = 0
    open_files: list[str] = field(default_factory=list)
    warcio_failures: list[str] = field(default_factory=list)
    read_errors: list[str] = field(default_factory=list)
    verify_code: int | None = None
    verify_lines: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (
            self.lost
            or self.doubled_documents
            or self.warc_missing
            or self.warc_doubled
            or self.open_files
            or self.warcio_failures
            or self.read_errors
            or self.verify_code != 0
        )

    def report_lines(self) -> list[str]:
        def sample(urls: list[str]) -> str:
            return f"  e.g. {urls[0]}" if urls else ""

        lines = [
            f"pages expected                {self.expected}",
            f"index: one document           {self.indexed_once}",
            f"index: lost (no document)     {len(self.lost)}{sample(self.lost)}",
            f"index: doubled documents      {len(self.doubled_documents)}"
            f"{sample(self.doubled_documents)}",
            f"index: >1 source capture row  {len(self.doubled_index_captures)}",
            f"WARC: one source record       {self.warc_once}",
            f"WARC: missing                 {len(self.warc_missing)}{sample(self.warc_missing)}",
            f"WARC: doubled                 {len(self.warc_doubled)}{sample(self.warc_doubled)}",
            f"WARC: revisit records         {self.warc_revisits}",
            f"archived, not indexed         {len(self.archived_not_indexed)}",
            f"near-duplicate documents      {self.near_duplicates}",
            f"failure rows                  {self.failures}",
            f"WARC files                    {self.warc_files}",
            f".open files left              {len(self.open_files)}  {' '.join(self.open_files)}",
            f"warcio check failures         {len(self.warcio_failures)}",
        ]
        lines += [f"  {failure}" for failure in self.warcio_failures[:5]]
        lines += [f"  unreadable: {error}" for error in self.read_errors[:5]]
        lines.append(f"scrapy verify exit code       {self.verify_code}")
        lines += [f"  {line}" for line in self.verify_lines]
        return lines


def audit_archive(
    archive_dir: Path, db_url: str, expected_urls: list[str], env: dict[str, str]
) -> ArchiveAudit:
    """Everything about ``expected_urls`` in the archive; ``env`` runs `scrapy verify` on it."""
    index = index_counts(db_url)
    warcs = warc_counts(archive_dir / "warc")
    audit = ArchiveAudit(expected=len(expected_urls))
    for url in expected_urls:
        documents, records = index.documents[url], warcs.sources[url]
        if documents == 0:
            audit.lost.append(url)
        elif documents > 1:
            audit.doubled_documents.append(url)
        else:
            audit.indexed_once += 1
        if index.sources[url] > 1:
            audit.doubled_index_captures.append(url)
        if records == 0:
            audit.warc_missing.append(url)
        elif records > 1:
            audit.warc_doubled.append(url)
        else:
            audit.warc_once += 1
        if records and not documents:
            audit.archived_not_indexed.append(url)
        audit.warc_revisits += warcs.revisits[url]
    audit.near_duplicates, audit.failures = index.near_duplicates, index.failures
    audit.warc_files = len(warcs.files)
    audit.read_errors = warcs.read_errors
    audit.open_files = [path.name for path in warcs.files if path.name.endswith(".open")]
    for path in warcs.files:
        code, output = warcio_check(path)
        if code != 0:
            last = output.splitlines()[-1] if output else "no output"
            audit.warcio_failures.append(f"{path.name}: exit {code}: {last}")
    audit.verify_code, output = scrapy_output(["verify"], env, COMMAND_TIMEOUT)
    audit.verify_lines = [
        line
        for line in output.splitlines()
        if line.startswith("verified ") or "not in the index" in line
    ] or output.strip().splitlines()[-1:]
    return audit
