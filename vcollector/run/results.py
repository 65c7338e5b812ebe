"""Results of a run: per job, built from device outcomes as they arrive."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from vcollector.collection.outcome import DeviceOutcome
from vcollector.run.plan import JobPlan


@dataclass
class JobResult:
    """The outcome of one job run."""

    plan: JobPlan
    outcomes: list[DeviceOutcome]
    started: datetime
    ended: datetime
    error: str | None = None

    @property
    def succeeded(self) -> list[DeviceOutcome]:
        """Devices that succeeded."""
        return [outcome for outcome in self.outcomes if outcome.ok]

    @property
    def failed(self) -> list[DeviceOutcome]:
        """Devices that failed."""
        return [outcome for outcome in self.outcomes if not outcome.ok]

    @property
    def saved(self) -> list[DeviceOutcome]:
        """Devices whose capture was written."""
        return [outcome for outcome in self.outcomes if outcome.capture_path is not None]

    @property
    def ok(self) -> bool:
        """True when the job ran and every device succeeded."""
        return self.error is None and bool(self.outcomes) and not self.failed

    @property
    def elapsed_ms(self) -> int:
        """Wall time of the job in milliseconds."""
        return int((self.ended - self.started).total_seconds() * 1000)


DeviceCallback = Callable[[JobPlan, DeviceOutcome, int, int], None]
JobCallback = Callable[[JobPlan], None]
ResultCallback = Callable[[JobResult], None]


class RunRecorder:
    """Keeps every finished device per job as it completes, so an interrupted run can
    still report (and write to ``--json``) exactly what completed."""

    def __init__(self, plans: Sequence[JobPlan]) -> None:
        self._lock = threading.Lock()
        self._outcomes: dict[int, list[DeviceOutcome]] = {id(plan): [] for plan in plans}
        self._started: dict[int, datetime] = {}
        self._finished: dict[int, JobResult] = {}
        self.plans = list(plans)

    def job_started(self, plan: JobPlan) -> None:
        """Note the start time of a job."""
        with self._lock:
            self._started[id(plan)] = datetime.now(timezone.utc)

    def device_done(self, plan: JobPlan, outcome: DeviceOutcome, index: int, total: int) -> None:
        """Record one finished device."""
        with self._lock:
            self._outcomes.setdefault(id(plan), []).append(outcome)

    def job_done(self, result: JobResult) -> None:
        """Record a finished job."""
        with self._lock:
            self._finished[id(result.plan)] = result

    def partial_results(self, reason: str) -> tuple[list[JobResult], list[JobPlan]]:
        """Results so far (unfinished jobs marked with ``reason``), and the jobs never started."""
        now = datetime.now(timezone.utc)
        results: list[JobResult] = []
        unstarted: list[JobPlan] = []
        with self._lock:
            for plan in self.plans:
                key = id(plan)
                if key in self._finished:
                    results.append(self._finished[key])
                elif key in self._started:
                    results.append(
                        JobResult(plan, list(self._outcomes[key]), self._started[key], now, reason)
                    )
                else:
                    unstarted.append(plan)
        return results, unstarted
