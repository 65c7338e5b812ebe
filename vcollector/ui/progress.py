"""Live progress on a terminal: per running job and overall, driven by the run's events.

Shown only when standard output is a terminal, the run is not ``-q``, and neither
``NO_COLOR`` nor ``TERM=dumb`` asks for plain output; everything the run prints goes on
printing above it (rich redirects the process's output while it is live). It disappears
when the run ends, so a finished run's screen holds exactly the lines a pipe would get.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from vcollector.collection.outcome import DeviceOutcome
from vcollector.run.events import RunObserver
from vcollector.run.plan import JobPlan
from vcollector.run.results import JobResult
from vcollector.ui.text import printable

REFRESH_PER_SECOND = 4


def wanted(quiet: bool, stream: Any = None) -> bool:
    """Whether a live display belongs on ``stream`` (standard output by default)."""
    stream = stream if stream is not None else sys.stdout
    if quiet or "NO_COLOR" in os.environ or os.environ.get("TERM", "") in ("dumb", ""):
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


class _Rate(ProgressColumn):
    """Devices per second since the job started (steadier than a short window for a run)."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        rate = task.completed / elapsed if elapsed > 0.5 and task.completed else None
        return Text(f"{rate:5.1f} dev/s" if rate is not None else "   -- dev/s", style="progress.data.speed")


class _Failed(ProgressColumn):
    def render(self, task: Task) -> Text:
        failed = int(task.fields.get("failed", 0))
        return Text(f"{failed} failed", style="red" if failed else "dim")


class LiveProgress(RunObserver):
    """One line per running job and one for the whole run: done/total, failed, rate, ETA."""

    def __init__(self, stream: Any = None) -> None:
        self.console = Console(file=stream if stream is not None else sys.stdout, highlight=False)
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(bar_width=None),
            MofNCompleteColumn(),
            _Failed(),
            _Rate(),
            TextColumn("elapsed"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            expand=True,
        )
        self.live = Live(
            self.progress,
            console=self.console,
            refresh_per_second=REFRESH_PER_SECOND,
            transient=True,
            redirect_stdout=True,
            redirect_stderr=True,
        )
        self._lock = threading.Lock()
        self._jobs: dict[int, TaskID] = {}
        self._job_failed: dict[TaskID, int] = {}
        self._per_job = False
        self._overall: TaskID | None = None
        self._failed = 0
        self._started = False

    def run_started(self, plans: Sequence[JobPlan]) -> None:
        """Start the display with an overall line; each job's line appears when it starts."""
        runnable = [plan for plan in plans if plan.runnable]
        with self._lock:
            self._per_job = len(runnable) > 1
            label = "all jobs" if self._per_job else printable(runnable[0].label) if runnable else "run"
            total = sum(len(plan.devices) for plan in runnable)
            self._overall = self.progress.add_task(f"[bold]{label}[/]", total=total or None, failed=0)
            self.live.start()
            self._started = True

    def job_started(self, plan: JobPlan) -> None:
        """A line for the job while it runs (when the run has several jobs)."""
        with self._lock:
            if self._per_job:
                task = self.progress.add_task(
                    f"  {printable(plan.label)}", total=len(plan.devices) or None, failed=0
                )
                self._jobs[id(plan)] = task
                self._job_failed[task] = 0

    def device_done(self, plan: JobPlan, outcome: DeviceOutcome, position: int, total: int) -> None:
        """One more device: its job's line and the overall line move."""
        with self._lock:
            failed = 0 if outcome.ok else 1
            self._failed += failed
            task = self._jobs.get(id(plan))
            if task is not None:
                self._job_failed[task] += failed
                self.progress.update(task, advance=1, failed=self._job_failed[task])
            if self._overall is not None:
                self.progress.update(self._overall, advance=1, failed=self._failed)

    def job_done(self, result: JobResult) -> None:
        """The job's line goes away; the overall one stays."""
        with self._lock:
            task = self._jobs.pop(id(result.plan), None)
            if task is not None:
                self._job_failed.pop(task, None)
                self.progress.remove_task(task)

    def run_finished(self) -> None:
        """Take the display off the terminal (idempotent); the process's output is its own again."""
        with self._lock:
            if self._started:
                self._started = False
                self.live.stop()
