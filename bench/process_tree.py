"""Linux /proc reading: the descendants of a process, and whether a process seen earlier lives on.

A process is identified by its pid *and* its start time, so a recycled pid is never taken for the
process seen before.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    parent: int
    start_ticks: int  # field 22 of /proc/PID/stat: start time since boot, in clock ticks
    command: str


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (field 3 onward), or None if gone."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may itself contain spaces or parentheses.
    return raw[raw.rindex(")") + 2 :].split()


def process_info(pid: int) -> ProcessInfo | None:
    fields = _stat_fields(pid)
    if fields is None:
        return None
    try:
        command = (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return None
    return ProcessInfo(pid, int(fields[1]), int(fields[19]), command.strip())


def descendants(root: int) -> list[ProcessInfo]:
    """Every living process below ``root`` (children, their children, ...)."""
    by_parent: dict[int, list[ProcessInfo]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            info = process_info(int(entry.name))
            if info is not None:
                by_parent.setdefault(info.parent, []).append(info)
    found: list[ProcessInfo] = []
    pending = [root]
    while pending:
        for child in by_parent.get(pending.pop(), []):
            found.append(child)
            pending.append(child.pid)
    return found


def process_name(pid: int) -> str | None:
    """The name the process gave itself (/proc/PID/comm: `nv-extract`, `nv-index`), or None if
    gone."""
    try:
        return (PROC / str(pid) / "comm").read_text().strip()
    except OSError:
        return None


def cpu_seconds(pid: int) -> float | None:
    """User and system CPU the process has used so far, or None if gone."""
    fields = _stat_fields(pid)
    if fields is None:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


def is_alive(process: ProcessInfo) -> bool:
    """The same process (pid and start time) still exists and is not a zombie."""
    fields = _stat_fields(process.pid)
    return fields is not None and fields[0] != "Z" and int(fields[19]) == process.start_ticks


def kill_if_alive(process: ProcessInfo) -> bool:
    """SIGKILL ``process`` if it is still the one seen; True if a signal was sent."""
    if not is_alive(process):
        return False
    try:
        os.kill(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True
