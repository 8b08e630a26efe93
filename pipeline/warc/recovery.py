"""Closing WARC files that a killed crawl left ``.open``: cut a torn last record off, then rename.

A writer killed mid-write leaves its file named ``*.warc.gz.open``, possibly ending inside its
last gzip member. Recovery keeps every complete record, moves the torn bytes into
``<final name>.partial`` beside it (bytes are never deleted), and gives the file its final name,
so that it reads and packages like any closed WARC file.

Only files whose writer is dead may be recovered: ``stale_open_files`` picks them by the host and
pid the writer puts in the name (``{prefix}-{timestamp}-{serial}-{host}-{pid}.warc.gz``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Literal

from pipeline.warc.reading import OPEN_SUFFIX, TornTailError, WarcReadError, iter_records

PARTIAL_SUFFIX = ".partial"
_COPY_CHUNK = 1 << 20
# /proc start times count in clock ticks from a boot time given in whole seconds.
_START_TIME_SLACK_S = 2.0
_INTERPRETERS = ("python", "scrapy", "pypy")


class RecoveryError(Exception):
    """An ``.open`` file cannot be recovered; the file is left as it was. Says which and why."""


@dataclass(frozen=True)
class RecoveryResult:
    open_path: Path  # the ``.open`` file as found
    final_path: Path  # its final name; the file is there unless nothing in it was complete
    complete_records: int  # warcinfo included
    partial_path: Path | None = None  # the torn bytes, or the whole file when nothing was complete
    partial_bytes: int = 0
    torn_offset: int | None = None  # where the torn record started in the ``.open`` file

    @property
    def salvaged(self) -> bool:
        """True when the file kept at least one complete record under its final name."""
        return self.complete_records > 0


def file_name_host(hostname: str | None = None) -> str:
    """The host part of WARC file names: characters that cannot leave the directory."""
    return re.sub(r"[^A-Za-z0-9.-]", "_", hostname or socket.gethostname()) or "localhost"


def recover_open_file(path: Path) -> RecoveryResult:
    """Close the ``.open`` WARC file ``path`` whose writer is dead.

    Raises RecoveryError (file untouched) when the file is locked by another recovery, when its
    final name is taken, or when it is damaged before its end (a corrupt member followed by more
    data): cutting there would move complete records out of the WARC file.
    """
    path = Path(path)
    if not path.name.endswith(OPEN_SUFFIX):
        raise RecoveryError(f"{path}: not an {OPEN_SUFFIX} WARC file")
    final = path.with_name(path.name.removesuffix(OPEN_SUFFIX))
    try:
        fh = open(path, "r+b")  # noqa: SIM115 - held for the lock, closed below
    except FileNotFoundError:
        raise RecoveryError(f"{path}: gone (closed or recovered by another process)") from None
    except OSError as exc:
        raise RecoveryError(f"{path}: cannot open: {exc}") from None
    with fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RecoveryError(f"{path}: another process is recovering it") from None
        if not _same_file(fh.fileno(), path):
            raise RecoveryError(f"{path}: gone (closed or recovered by another process)")
        if final.exists():
            raise RecoveryError(f"{path}: its final name {final.name} already exists")
        complete, torn = _scan(path)
        size = os.fstat(fh.fileno()).st_size
        if complete == 0:
            # Nothing readable, not even the warcinfo: the whole file is the torn part.
            partial = _free_partial_name(final)
            _rename_durably(path, partial)
            return RecoveryResult(path, final, 0, partial, size, 0)
        partial_path, partial_bytes = None, 0
        if torn is not None:
            partial_path = _move_tail(fh, final, torn, size)
            partial_bytes = size - torn
        _rename_durably(path, final)
    return RecoveryResult(path, final, complete, partial_path, partial_bytes, torn)


def _scan(path: Path) -> tuple[int, int | None]:
    """Complete records and the offset where a torn last record starts (None when whole)."""
    complete = 0
    try:
        for _ in iter_records(path):
            complete += 1
    except TornTailError as torn:
        return complete, torn.offset
    except WarcReadError as error:
        if complete == 0 and error.problem.startswith("file is empty"):
            return 0, 0
        raise RecoveryError(f"cannot recover: {error}") from None
    return complete, None


def _move_tail(fh: BinaryIO, final: Path, torn: int, size: int) -> Path:
    """Copy bytes ``torn..size`` into a ``.partial`` file (synced), then cut them off the WARC."""
    partial = _free_partial_name(final, expected=_read_range(fh, torn, size))
    if not partial.exists():
        scratch = partial.with_name(partial.name + ".tmp")
        with open(scratch, "wb") as out:
            for chunk in _iter_range(fh, torn, size):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(scratch, partial)
        _fsync_directory(final.parent)
    # Cut only once the tail is safe on disk: a kill in between leaves both, and the next
    # recovery finds the same tail already saved.
    os.ftruncate(fh.fileno(), torn)
    os.fsync(fh.fileno())
    return partial


def _free_partial_name(final: Path, expected: bytes | None = None) -> Path:
    """``<final>.partial``, or ``<final>.N.partial`` when that exists with other bytes.

    When ``expected`` is given and a candidate already holds exactly those bytes (an earlier
    recovery killed before it cut the file), that candidate is returned as is.
    """
    for number in range(1000):
        middle = f".{number}" if number else ""
        candidate = final.with_name(f"{final.name}{middle}{PARTIAL_SUFFIX}")
        if not candidate.exists():
            return candidate
        if expected is not None and candidate.read_bytes() == expected:
            return candidate
    raise RecoveryError(f"{final}: no free {PARTIAL_SUFFIX} file name beside it")


def _read_range(fh: BinaryIO, start: int, end: int) -> bytes:
    return b"".join(_iter_range(fh, start, end))


def _iter_range(fh: BinaryIO, start: int, end: int) -> Iterator[bytes]:
    fh.seek(start)
    left = end - start
    while left > 0:
        chunk = fh.read(min(_COPY_CHUNK, left))
        if not chunk:
            break
        left -= len(chunk)
        yield chunk


def _rename_durably(source: Path, target: Path) -> None:
    if target.exists():  # os.rename would replace it silently
        raise RecoveryError(f"{source}: cannot rename, {target.name} already exists")
    os.rename(source, target)
    _fsync_directory(target.parent)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    try:
        on_disk = os.stat(path)
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (on_disk.st_dev, on_disk.st_ino) == (opened.st_dev, opened.st_ino)


# -- which .open files are stale ---------------------------------------------------------------


WriterState = Literal["dead", "alive", "other host", "not ours"]
_WRITER_NAME = re.compile(
    r".+-(?P<stamp>\d{17})-\d{5,}-(?P<host>[A-Za-z0-9._-]+)-(?P<pid>\d+)\.warc\.gz(?:\.open)?"
)


def writer_state(path: Path, *, host: str | None = None) -> WriterState:
    """Whether the process that wrote WARC file ``path`` (closed or ``.open``) is still alive.

    Read from the name the writer gives (``{prefix}-{timestamp}-{serial}-{host}-{pid}``):
    "other host" when written on another machine (cannot tell), "not ours" for other names.
    """
    match = _WRITER_NAME.fullmatch(Path(path).name)
    if match is None:
        return "not ours"
    # Host names may hold '-', so the generic pattern cannot split out the host: match ours.
    here = re.escape(file_name_host(host))
    ours = rf".+-\d{{17}}-\d{{5,}}-{here}-{match['pid']}\.warc\.gz(?:\.open)?"
    if not re.fullmatch(ours, Path(path).name):
        return "other host"
    return "alive" if writer_alive(int(match["pid"]), _stamp(match["stamp"])) else "dead"


def stale_open_files(warc_dir: Path, *, host: str | None = None) -> list[Path]:
    """``.open`` WARC files in ``warc_dir`` written on this host by a process that is gone.

    ``host`` is this machine's host name (default: socket.gethostname()). Files of other hosts,
    of live writers and with names the writer does not make are left out: another worker may be
    writing them.
    """
    directory = Path(warc_dir)
    if not directory.is_dir():
        return []
    return [
        path
        for path in sorted(directory.glob(f"*.warc.gz{OPEN_SUFFIX}"))
        if writer_state(path, host=host) == "dead"
    ]


def writer_alive(pid: int, opened_at: float | None) -> bool:
    """Whether process ``pid`` on this host may be the writer of a file opened at ``opened_at``.

    A pid counts as alive only if it exists, runs Python (or scrapy), and, where /proc tells,
    started before the file was opened: pids are reused.
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    proc = Path("/proc") / str(pid)
    if not Path("/proc/self").exists():
        return True  # no /proc: cannot tell a reused pid, so keep its files alone
    try:
        argv = (proc / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return False  # exited meanwhile
    command = b" ".join(Path(os.fsdecode(a)).name.encode() for a in argv[:2]).lower()
    if not any(name.encode() in command for name in _INTERPRETERS):
        return False  # a zombie has an empty command line: dead as well
    started = _process_start(proc)
    if started is None or opened_at is None:
        return True
    return started <= opened_at + _START_TIME_SLACK_S


def _stamp(digits: str) -> float | None:
    try:
        when = datetime.strptime(digits[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None
    return when.timestamp() + int(digits[14:]) / 1000


def _process_start(proc: Path) -> float | None:
    """Start time (Unix seconds) of the process ``proc`` (a /proc/PID folder), if readable."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        stat = (proc / "stat").read_text()
        # Field 22, counted after the command name, which may hold spaces and parentheses.
        ticks = int(stat.rsplit(")", 1)[1].split()[19])
        boot = next(
            int(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    return None


def recover_stale_files(
    warc_dir: Path, *, host: str | None = None
) -> tuple[list[RecoveryResult], list[RecoveryError]]:
    """Recover every stale ``.open`` file of ``warc_dir``; one file's failure stops no other."""
    recovered, failed = [], []
    for path in stale_open_files(warc_dir, host=host):
        try:
            recovered.append(recover_open_file(path))
        except RecoveryError as error:
            failed.append(error)
    return recovered, failed
