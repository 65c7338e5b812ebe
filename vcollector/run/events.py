"""One stream of run events, in the manner of Nornir's processors.

Every backend reports each finished device step to :class:`RunEvents`, which numbers it
within its job, notices when a job is complete, keeps what completed (so an interrupted
run still reports and writes exactly that), and passes each event to the observers: the
console lines, the live progress display, the results file, the run report.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime, timezone

from vcollector.collection.outcome import DeviceOutcome
from vcollector.run.plan import JobPlan
from vcollector.run.results import JobResult


class RunObserver:
    """What a run tells whoever watches it; every method is optional (a no-op here).

    Methods are called from the threads that run the devices: keep them short and
    thread-safe.
    """

    def run_started(self, plans: Sequence[JobPlan]) -> None:
        """The run starts with these plans (runnable or not)."""

    def job_started(self, plan: JobPlan) -> None:
        """A job starts (its devices are about to be contacted)."""

    def device_done(self, plan: JobPlan, outcome: DeviceOutcome, position: int, total: int) -> None:
        """One device finished one job: ``position`` of ``total`` in that job."""

    def job_done(self, result: JobResult) -> None:
        """A job finished (every device reported, or it could not start)."""

    def run_finished(self) -> None:
        """The run is over, or interrupted (called once, from the thread that started it)."""


class RunEvents:
    """The run's event stream and the outcomes so far, per job."""

    def __init__(self, plans: Sequence[JobPlan], observers: Sequence[RunObserver] = ()) -> None:
        self.plans = list(plans)
        self.observers = list(observers)
        self._lock = threading.Lock()
        self._outcomes: list[list[DeviceOutcome]] = [[] for _ in self.plans]
        self._started: list[datetime | None] = [None] * len(self.plans)
        self._results: list[JobResult | None] = [None] * len(self.plans)

    def start(self) -> None:
        """Announce the run; jobs that cannot run finish at once, with their reason."""
        for observer in self.observers:
            observer.run_started(self.plans)
        now = datetime.now(timezone.utc)
        for index, plan in enumerate(self.plans):
            if not plan.runnable:
                error = plan.error or "no devices match the filter"
                self._finish(index, JobResult(plan, [], now, now, error))
                continue
            self._started[index] = now
            for observer in self.observers:
                observer.job_started(plan)

    def device(self, outcome: DeviceOutcome) -> None:
        """One device step finished (called from any thread)."""
        index = outcome.plan_index
        plan = self.plans[index]
        with self._lock:
            if self._results[index] is not None:
                return  # a late report after the job was closed (interrupted)
            done = self._outcomes[index]
            done.append(outcome)
            position, total = len(done), len(plan.devices)
        for observer in self.observers:
            observer.device_done(plan, outcome, position, total)
        if position == total:
            self._complete(index)

    def _complete(self, index: int, error: str | None = None) -> None:
        with self._lock:
            started = self._started[index] or datetime.now(timezone.utc)
            outcomes = list(self._outcomes[index])
        self._finish(
            index, JobResult(self.plans[index], outcomes, started, datetime.now(timezone.utc), error)
        )

    def _finish(self, index: int, result: JobResult) -> None:
        with self._lock:
            if self._results[index] is not None:
                return
            self._results[index] = result
        for observer in self.observers:
            observer.job_done(result)

    def results(self) -> list[JobResult]:
        """Every job's result (a job missing devices, e.g. after a crash, says so)."""
        for index in range(len(self.plans)):
            if self._results[index] is None:
                missing = len(self.plans[index].devices) - len(self._outcomes[index])
                self._complete(index, f"{missing} device(s) reported no result")
        return [result for result in self._results if result is not None]

    def partial(self, reason: str) -> tuple[list[JobResult], list[JobPlan]]:
        """Results so far (unfinished jobs closed with ``reason``), and the jobs never started.

        Observers are not told: this is the picture of an interrupted run, taken once.
        """
        now = datetime.now(timezone.utc)
        results: list[JobResult] = []
        unstarted: list[JobPlan] = []
        with self._lock:
            for index, plan in enumerate(self.plans):
                finished = self._results[index]
                if finished is not None:
                    results.append(finished)
                elif self._started[index] is not None:
                    started = self._started[index] or now
                    result = JobResult(plan, list(self._outcomes[index]), started, now, reason)
                    self._results[index] = result
                    results.append(result)
                else:
                    unstarted.append(plan)
        return results, unstarted
