"""Kill a crawl with SIGKILL at planned moments and resume it with the same command, until a run
ends by itself.

A kill moment is a point of progress, not of time, so it lands mid-crawl on a slow machine too:
"once the crawl has made ``after`` more units of progress, wait ``delay`` seconds". Progress is what
the caller measures: requests the site answered (web spiders), or pages' worth of WARC bytes
written (``crawl files``, see ``warc_progress``).
What is killed: the crawl's main process (``main``), its whole process group (``group``), or one
of its extraction workers (``worker``, the main process goes on; the next kill of the plan then
hits the same run). Every process below a killed main process is remembered, so that processes
left alive afterwards (orphans) can be reported, and then ended.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.crawl_run import start
from bench.process_tree import (
    ProcessInfo,
    descendants,
    is_alive,
    kill_if_alive,
    process_name,
)
from pipeline.workers import EXTRACTION_PROCESS_NAME

KILL_TARGETS = ("main", "group", "worker")
POLL_SECONDS = 0.02
# Orphans are counted after this grace: a worker that notices its parent's death may take a moment.
ORPHAN_GRACE_SECONDS = 3.0


@dataclass(frozen=True)
class KillPlan:
    after: int  # units of progress since the previous kill (or the run's start)
    delay: float  # seconds to wait after that


@dataclass
class RunRecord:
    number: int
    outcome: str  # "killed", "exited N", "timed out"
    seconds: float
    progress: int
    log: Path


@dataclass
class ResumeReport:
    runs: list[RunRecord] = field(default_factory=list)
    kills: int = 0
    ended_by_itself: bool = False
    orphans: list[ProcessInfo] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def report_lines(self) -> list[str]:
        lines = [
            f"{run.number:3d}. {run.outcome:<12} after {run.seconds:6.1f} s, "
            f"progress {run.progress}"
            for run in self.runs
        ]
        lines.append(
            f"kills done {self.kills}; last run ended by itself: "
            f"{'yes' if self.ended_by_itself else 'no'}"
        )
        lines += self.notes
        lines.append(f"orphan processes              {len(self.orphans)}")
        lines += [f"  pid {p.pid}: {p.command[:100]}" for p in self.orphans[:10]]
        return lines


def random_plans(kills: int, seed: int, pages: int, max_delay: float) -> list[KillPlan]:
    """Seeded kill moments spread so that about ``kills`` of them fall inside ``pages`` pages."""
    rng = random.Random(seed)
    spread = max(1, 2 * pages // (kills + 1))
    return [
        KillPlan(rng.randint(0, spread), round(rng.uniform(0, max_delay), 2)) for _ in range(kills)
    ]


def warc_progress(warc_dir: Path, bytes_per_page: int) -> Callable[[], int]:
    """Progress of a crawl without a site: bytes in its WARC files, in pages' worth."""

    def progress() -> int:
        if not warc_dir.is_dir():
            return 0
        total = 0
        for path in warc_dir.iterdir():
            try:
                total += path.stat().st_size
            except FileNotFoundError:  # renamed from .open while we looked
                continue
        return total // max(1, bytes_per_page)

    return progress


def _extraction_workers(processes: list[ProcessInfo]) -> list[ProcessInfo]:
    # By the name the workers give themselves: spawned ones are the main process's children,
    # forked ones the fork server's; the index writer is spawned too, but named nv-index.
    return [p for p in processes if process_name(p.pid) == EXTRACTION_PROCESS_NAME]


class KillResumeLoop:
    def __init__(
        self,
        command: list[str],
        env: dict[str, str],
        log_dir: Path,
        *,
        target: str = "main",
        progress: Callable[[], int] | None = None,
        run_timeout: float = 600.0,
        max_runs: int | None = None,
        seed: int = 0,
    ) -> None:
        if target not in KILL_TARGETS:
            raise ValueError(f"unknown kill target {target!r}: one of {', '.join(KILL_TARGETS)}")
        self.command, self.env, self.log_dir = command, env, log_dir
        self.target, self.progress, self.run_timeout = target, progress, run_timeout
        self.max_runs = max_runs
        self.rng = random.Random(seed)
        self.report = ResumeReport()
        self.tracked: dict[tuple[int, int], ProcessInfo] = {}

    def run(self, plans: list[KillPlan]) -> ResumeReport:
        pending = list(plans)
        limit = self.max_runs or len(plans) + 3
        try:
            while len(self.report.runs) < limit:
                if self._one_run(pending):
                    self.report.ended_by_itself = True
                    break
            else:
                self.report.notes.append(f"stopped after {limit} runs, none ended by itself")
        finally:
            time.sleep(ORPHAN_GRACE_SECONDS)
            self.report.orphans = [p for p in self.tracked.values() if is_alive(p)]
            for process in self.report.orphans:
                kill_if_alive(process)  # the bench cleans up after the engine it measured
        return self.report

    def _progress(self) -> int:
        return self.progress() if self.progress is not None else 0

    def _one_run(self, pending: list[KillPlan]) -> bool:
        """One run of the command; True if it ended by itself."""
        number = len(self.report.runs) + 1
        log = self.log_dir / f"run-{number:03d}.log"
        began, progress_at_start = time.monotonic(), self._progress()
        deadline = began + self.run_timeout
        with log.open("wb") as log_file:
            process = start(self.command, self.env, log_file)
            try:
                outcome = self._watch(process, pending, deadline)
            finally:
                if process.poll() is None:  # a timeout, or an error in this loop
                    self._remember(process.pid)
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
        seconds = time.monotonic() - began
        progress = self._progress() - progress_at_start
        self.report.runs.append(RunRecord(number, outcome, seconds, progress, log))
        return outcome.startswith("exited")

    def _watch(
        self, process: subprocess.Popen[bytes], pending: list[KillPlan], deadline: float
    ) -> str:
        while pending:
            plan = pending[0]
            base = self._progress()
            while self.progress is not None and self._progress() - base < plan.after:
                if process.poll() is not None:
                    return f"exited {process.returncode}"
                if time.monotonic() > deadline:
                    return "timed out"
                time.sleep(POLL_SECONDS)
            try:
                process.wait(plan.delay)
                return f"exited {process.returncode}"
            except subprocess.TimeoutExpired:
                pass
            pending.pop(0)
            if self._kill(process):
                return "killed"
        try:
            code = process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            return "timed out"
        return f"exited {code}"

    def _remember(self, main: int) -> list[ProcessInfo]:
        below = descendants(main)
        for process in below:
            self.tracked[(process.pid, process.start_ticks)] = process
        return below

    def _kill(self, process: subprocess.Popen[bytes]) -> bool:
        """Carry out one kill; True if the run is over (its main process is dead)."""
        below = self._remember(process.pid)
        self.report.kills += 1
        if self.target == "worker":
            workers = _extraction_workers(below)
            if workers:
                kill_if_alive(self.rng.choice(workers))
                return False
            self.report.notes.append(
                f"kill {self.report.kills}: no extraction worker alive, killed the main process"
            )
        if self.target == "group":
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
        process.wait()
        return True
