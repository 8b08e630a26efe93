"""CPU of a local PostgreSQL server's processes serving one database, from /proc.

A module of its own: benchmarks that measure a baseline tree import their helpers from that tree
first, and a module the baseline lacks is then found in this one. For the same reason it reads
/proc itself rather than through bench.process_tree (whose ProcessInfo holds no CPU, and whose
baseline copy would be the one imported).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from sqlalchemy.engine import make_url


def server_processes_cpu(url: str) -> dict[int, float] | None:
    """CPU seconds (user and system) used so far by each PostgreSQL server process now serving
    the database of ``url`` (pid -> seconds), read from /proc: None when the server's processes
    are not on this machine (or the URL is not PostgreSQL's). A backend's process title names
    its database ("postgres: postgres nv_bench_0123abcd 127.0.0.1(5432) idle")."""
    database = make_url(url).database
    if not url.startswith("postgresql") or not database:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    found: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended meanwhile, or not ours to read
        if not title.startswith("postgres: ") or f" {database} " not in title:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return found or None


def server_cpu_seconds(url: str) -> float | None:
    """The sum of :func:`server_processes_cpu`: the server's CPU for the database's open
    connections so far."""
    found = server_processes_cpu(url)
    return None if found is None else sum(found.values())


class ServerCpuSampler:
    """The server's CPU for a database while a command runs, its connections opened and closed
    meanwhile included: each process's last reading, sampled every ``every`` seconds (a
    process's last fraction of a second before it ends may be missed)."""

    def __init__(self, url: str, every: float = 0.2) -> None:
        self._url, self._every = url, every
        self._last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ServerCpuSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            self._last.update(server_processes_cpu(self._url) or {})

    @property
    def cpu_seconds(self) -> float | None:
        return sum(self._last.values()) if self._last else None
