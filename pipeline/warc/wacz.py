"""WACZ 1.1.1 packaging of our WARC files.

The zip is written here rather than with py-wacz's ``create``: the page list comes from the index
(title and extracted text of each document), not from re-detecting pages in the WARCs. WARCs are
stored uncompressed in the zip (they are gzip already, and replay tools seek into them); the index
is CDXJ made by cdxj-indexer. Reading WARC data back out of a WACZ is wacz_reading's.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cdxj_indexer.main import CDXJIndexer

from pipeline import __version__
from pipeline.db import queries
from pipeline.db.models import WarcFile
from pipeline.warc.reading import (
    OPEN_SUFFIX,
    TornTailError,
    WarcReadError,
    iter_records,
    warc_files,
)
from pipeline.warc.wacz_reading import WARC_SUFFIXES, WaczError
from pipeline.warc.wacz_selection import copy_records, document_captures

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from pipeline.db.queries_core import DocumentSelection

WACZ_VERSION = "1.1.1"
PAGES_PATH = "pages/pages.jsonl"
INDEX_PATH = "indexes/index.cdxj"
# Our conversion and metadata records carry the page's own URI and date; indexed, a replay tool
# may serve the JSON or text instead of the page. The index lists what replays.
REPLAY_RECORDS = "response,revisit,resource"


class WaczWriteError(WaczError):
    """The package could not be written (a full disk, an I/O error): not the input's fault."""


@dataclass(frozen=True)
class WaczPage:
    url: str
    ts: datetime  # capture time, timezone-aware
    title: str | None = None
    text: str | None = None  # extracted text; makes the page list full-text searchable


@dataclass(frozen=True)
class WaczResult:
    path: Path
    warc_files: int
    pages: int
    index_lines: int

    def __str__(self) -> str:
        return (
            f"{self.warc_files} WARC file(s), {self.pages} page(s), {self.index_lines} index lines"
        )


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        raise WaczError(f"page timestamps must be timezone-aware, got {value.isoformat()}")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sha256(path_or_bytes: Path | bytes) -> tuple[str, int]:
    digest = hashlib.sha256()
    if isinstance(path_or_bytes, bytes):
        digest.update(path_or_bytes)
        return "sha256:" + digest.hexdigest(), len(path_or_bytes)
    size = 0
    with path_or_bytes.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return "sha256:" + digest.hexdigest(), size


def _check_warcs(warc_files: Sequence[Path | str]) -> list[Path]:
    paths = [Path(p) for p in warc_files]
    if not paths:
        raise WaczError("no WARC files to package")
    names: dict[str, Path] = {}
    for path in paths:
        if not path.is_file():
            raise WaczError(f"WARC file not found: {path}")
        if not path.name.endswith(WARC_SUFFIXES):
            raise WaczError(f"not a .warc or .warc.gz file: {path}")
        if path.name in names:
            raise WaczError(f"two WARC files named {path.name}: {names[path.name]} and {path}")
        names[path.name] = path
    return paths


def _cdxj_index(paths: list[Path]) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp, "index.cdxj")
        try:
            CDXJIndexer(
                str(out),
                [str(p) for p in paths],
                sort=True,
                post_append=True,
                records=REPLAY_RECORDS,
            ).process_all()
        except Exception as error:  # cdxj-indexer raises whatever warcio raised for a bad file
            raise WaczError(f"cannot index the WARC files: {error}") from error
        return out.read_bytes()


def _pages_jsonl(pages: Iterable[WaczPage]) -> tuple[bytes, int]:
    header = {"format": "json-pages-1.0", "id": "pages", "title": "All Pages", "hasText": True}
    lines = [json.dumps(header)]
    for number, page in enumerate(pages, start=1):
        entry: dict[str, str] = {"id": f"page-{number}", "url": page.url, "ts": _iso(page.ts)}
        if page.title:
            entry["title"] = page.title
        if page.text:
            entry["text"] = page.text
        lines.append(json.dumps(entry, ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode("utf-8"), len(lines) - 1


def _datapackage(
    resources: list[dict[str, object]], title: str, description: str | None, created: datetime
) -> bytes:
    package: dict[str, object] = {
        "profile": "data-package",
        "resources": resources,
        "title": title,
        "created": _iso(created),
        "wacz_version": WACZ_VERSION,
        "software": f"newsvault/{__version__}",
    }
    if description:
        package["description"] = description
    return json.dumps(package, indent=2).encode("utf-8")


def write_wacz(
    output: Path | str,
    warc_files: Sequence[Path | str],
    pages: Iterable[WaczPage],
    *,
    title: str = "newsvault archive",
    description: str | None = None,
    created: datetime | None = None,
) -> WaczResult:
    """Write a WACZ 1.1.1 of ``warc_files`` with ``pages`` as pages/pages.jsonl.

    Raises WaczError (with the file and reason) for missing or clashing inputs and unindexable
    WARCs; a partly written output is removed.
    """
    paths = _check_warcs(warc_files)
    target = Path(output)
    index = _cdxj_index(paths)
    pages_bytes, page_count = _pages_jsonl(pages)
    resources: list[dict[str, object]] = []
    try:
        with zipfile.ZipFile(target, "w", allowZip64=True) as wacz:
            for path in paths:
                wacz.write(path, f"archive/{path.name}", compress_type=zipfile.ZIP_STORED)
                digest, size = _sha256(path)
                resources.append(_resource(f"archive/{path.name}", digest, size))
            for name, data in ((INDEX_PATH, index), (PAGES_PATH, pages_bytes)):
                wacz.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
                resources.append(_resource(name, *_sha256(data)))
            package = _datapackage(resources, title, description, created or datetime.now(UTC))
            wacz.writestr("datapackage.json", package, compress_type=zipfile.ZIP_DEFLATED)
            package_digest = {"path": "datapackage.json", "hash": _sha256(package)[0]}
            wacz.writestr("datapackage-digest.json", json.dumps(package_digest, indent=2))
    except OSError as error:
        target.unlink(missing_ok=True)
        raise WaczWriteError(f"cannot write {target}: {error}") from error
    return WaczResult(target, len(paths), page_count, index.count(b"\n"))


def _resource(path: str, digest: str, size: int) -> dict[str, object]:
    return {"name": Path(path).name.lower(), "path": path, "hash": digest, "bytes": size}


def export_wacz(
    session: Session,
    warc_dir: Path,
    output: Path | str,
    selection: DocumentSelection | None = None,
) -> WaczResult:
    """Package the archive an index describes: our WARC files (plus imported external WARCs that
    documents come from) and one page per document, with its title and text.

    Files still ``.open`` (a crawl running, or killed) are packaged under their final name, up to
    their last complete record. With a ``selection`` only its documents are pages, and only
    their records are packaged, copied into one WARC file.
    """

    selective = selection is not None and bool(selection.conditions())
    target = Path(output)
    # Beside the output: copies of .open files can be large, and need its disk anyway.
    with tempfile.TemporaryDirectory(prefix=".wacz-", dir=target.parent) as scratch:
        warcs = {} if selective else _archive_warcs(warc_dir, Path(scratch))
        pages: list[WaczPage] = []
        chosen: list[int] = []
        for document in list(queries.iter_documents(session, selection=selection)):
            capture = queries.source_capture(session, document.id)
            if capture is None:
                continue
            warc_file = session.get(WarcFile, capture.warc_file_id)
            name = warc_file.name if warc_file is not None else ""
            external = Path(name)
            if selective:
                chosen.append(document.id)
            elif external.is_absolute() and external.is_file() and name.endswith(WARC_SUFFIXES):
                warcs.setdefault(external.name, external)
            elif name not in warcs:
                continue  # inside a WACZ or gone: not packaged, so not listed as a page
            when = capture.date if capture.date.tzinfo else capture.date.replace(tzinfo=UTC)
            pages.append(WaczPage(capture.uri, when, document.title, document.text))
        if selective:
            if not chosen:
                raise WaczError("no documents match the filters: nothing to export")
            part = Path(scratch) / f"{target.stem}-selection.warc.gz"
            try:
                copy_records(session, warc_dir, document_captures(session, chosen), part)
            except (OSError, WaczError) as error:
                raise WaczError(f"cannot copy the selected records: {error}") from error
            warcs[part.name] = part
        if not warcs:
            raise WaczError(f"no WARC files in {warc_dir}: nothing to export")
        return write_wacz(target, list(warcs.values()), pages)


def _archive_warcs(warc_dir: Path, scratch: Path) -> dict[str, Path]:
    """Final name -> file to package; ``.open`` files as copies of their complete records."""
    found = warc_files(warc_dir)
    warcs = {p.name: p for p in found if not p.name.endswith(OPEN_SUFFIX)}
    for path in found:
        final = path.name.removesuffix(OPEN_SUFFIX)
        if path.name.endswith(OPEN_SUFFIX) and final not in warcs:
            warcs[final] = _complete_copy(path, scratch / final)
    return warcs


def _complete_copy(path: Path, copy: Path) -> Path:
    """Copy the complete records of an ``.open`` WARC file (whose last one may be torn)."""
    end = 0
    try:
        for stored in iter_records(path):
            end = stored.ref.offset + stored.ref.length
    except TornTailError:
        pass  # the records before it are complete; a crawl still writing, or killed
    except WarcReadError as error:
        raise WaczError(f"cannot package {path.name}: {error}") from error
    with path.open("rb") as source, copy.open("wb") as out:
        left = end
        while left > 0 and (chunk := source.read(min(left, 1 << 20))):
            out.write(chunk)
            left -= len(chunk)
    return copy
