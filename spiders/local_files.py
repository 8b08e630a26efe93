"""Walk a folder or glob of local files: what to read, and what to refuse before reading."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Extension-less files are read too; their kind is decided by content.
READABLE_SUFFIXES = frozenset({"", ".txt", ".text", ".html", ".htm", ".xhtml", ".shtml"})
GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class LocalEntry:
    path: Path
    refusal: str | None = None  # why it is not read; None means read it


def split_root(pattern: str) -> tuple[Path, str | None]:
    """('dir', None) for a folder or file; (non-glob prefix, pattern) for a glob."""
    if not any(char in pattern for char in GLOB_CHARS):
        return Path(pattern).expanduser(), None
    parts = Path(pattern).expanduser().parts
    prefix: list[str] = []
    for part in parts:
        if any(char in part for char in GLOB_CHARS):
            break
        prefix.append(part)
    return (Path(*prefix) if prefix else Path(".")), pattern


def candidate_paths(pattern: str) -> tuple[Path, list[Path]]:
    root, glob_pattern = split_root(pattern)
    if glob_pattern is not None:
        matches = sorted(
            Path(p) for p in glob.glob(os.path.expanduser(glob_pattern), recursive=True)
        )
        paths: list[Path] = []
        for match in matches:
            paths.extend(
                walk_folder(match) if match.is_dir() and not match.is_symlink() else [match]
            )
        return root, paths
    if root.is_dir():
        return root, walk_folder(root)
    return root.parent, [root]


def walk_folder(folder: Path) -> list[Path]:
    found: list[Path] = []

    def unreadable(error: OSError) -> None:
        # A folder that cannot be listed (chmod 000) is an entry of its own, refused with its
        # reason, instead of its files vanishing without a row.
        if error.filename is not None:
            found.append(Path(os.fsdecode(error.filename)))

    for current, dirs, files in os.walk(folder, onerror=unreadable, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        # Symlinked folders are listed as entries, so they are checked against the root like files.
        found.extend(Path(current, d) for d in dirs if Path(current, d).is_symlink())
        found.extend(Path(current, name) for name in sorted(files) if not name.startswith("."))
    return sorted(found)


def check_pattern(pattern: str) -> None:
    """Raise FileNotFoundError unless ``pattern`` names something to read (before a crawl)."""
    if not pattern.strip():
        raise FileNotFoundError("path is empty: give -a path=FOLDER, FILE or GLOB")
    root, glob_pattern = split_root(pattern)
    if glob_pattern is None and (root.exists() or root.is_symlink()):
        return
    if glob_pattern is not None and root.exists():
        return
    raise FileNotFoundError(f"no such file or folder: {pattern}")


def symlink_target(path: Path) -> Path | None:
    """Where a symlink leads; None for a loop (a link that leads back to itself)."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):  # Python < 3.13 raises RuntimeError for a loop
        return None


def refusal_reason(path: Path, root: Path, max_size: int) -> str | None:
    real_root = root.resolve()
    if path.is_symlink():
        target = symlink_target(path)
        if target is None:
            return "symlink loop: the link leads back to itself"
        if path.is_dir() and path.absolute().parent.resolve().is_relative_to(target):
            # A folder link to its own folder or above: following it walks the same files again.
            return f"symlink loop: points to {target}, a folder it is in"
        if not target.is_relative_to(real_root):
            return f"symlink leaves the archive root {real_root}: points to {target}"
    if not path.exists():
        return "file not found (broken symlink?)" if path.is_symlink() else "file not found"
    if path.is_dir():
        return _unlistable(path)
    if not path.is_file():
        return "not a regular file"
    if path.suffix.lower() not in READABLE_SUFFIXES:
        return (
            f"unsupported file type {path.suffix.lower()!r} (reads .txt, .html, .htm, no extension)"
        )
    size = path.stat().st_size
    if size > max_size:
        return f"file too large: {size} bytes > limit {max_size} (ARCHIVE_MAX_FILE_SIZE)"
    if not os.access(path, os.R_OK):
        return "permission denied"
    return None


def _unlistable(folder: Path) -> str | None:
    """Why a folder cannot be listed, or None when it can."""
    try:
        with os.scandir(folder):
            return None
    except OSError as error:
        return f"cannot read the folder: {error.strerror or error}"


def local_entries(pattern: str, max_size: int) -> Iterator[LocalEntry]:
    root, paths = candidate_paths(pattern)
    if not paths and not root.exists():
        raise FileNotFoundError(f"no such file or folder: {pattern}")
    seen: set[Path] = set()
    for path in paths:
        refusal = refusal_reason(path, root, max_size)
        if refusal is None and path.is_dir():
            # An in-root symlinked folder: its files are walked (each checked again), one level.
            for inner in walk_folder(path.resolve()):
                inner_refusal = refusal_reason(inner, root, max_size)
                if inner_refusal is None and inner.is_dir():
                    inner_refusal = "symlinked folder inside a symlinked folder: not followed"
                yield from unseen(LocalEntry(inner.absolute(), inner_refusal), seen)
            continue
        yield from unseen(LocalEntry(path.absolute(), refusal), seen)


def unseen(entry: LocalEntry, seen: set[Path]) -> Iterator[LocalEntry]:
    if entry.path not in seen:
        seen.add(entry.path)
        yield entry


def path_text(path: Path) -> str:
    """A file name as text that can be stored: bytes that are not UTF-8 (an old Latin-1 or
    Shift-JIS name) become ``\\xNN`` escapes instead of surrogates, which JSON and the
    database refuse. The file:// URI keeps the exact bytes (percent-encoded)."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")
