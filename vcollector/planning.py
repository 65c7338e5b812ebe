"""Plans and results: which devices each job runs against, and what happened.

Kept free of Netmiko and Nornir imports so that ``--dry-run`` starts fast.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from vcollector.assets_db import DeviceRecord
from vcollector.cancellation import Cancellation
from vcollector.captures import CaptureTarget, capture_base
from vcollector.inventory import AssetsDBInventory
from vcollector.jobs import Job

if TYPE_CHECKING:
    from vcollector.host_keys import KnownHosts
    from vcollector.sessions import SessionLimiter

# Below this many device sessions a second process costs more (start-up) than it saves.
PROCESS_THRESHOLD = 100
DEVICES_PER_PROCESS = 50


def run_timestamp() -> str:
    """The ``{timestamp}`` of a run (local time, YYYYMMDD_HHMMSS), taken once per run."""
    return datetime.now().strftime("%Y%m%d_%H%M%S")


@dataclass(frozen=True)
class RunSettings:
    """What every job of one run shares."""

    db_path: Path
    output_dir: Path | None = None
    limit: int | None = None
    save: bool = True
    retries: int = 0
    session_limiter: SessionLimiter | None = None
    session_log_dir: Path | None = None
    cancellation: Cancellation = field(default_factory=Cancellation)
    host_keys: KnownHosts | None = None
    shared_sessions: bool = True
    processes: int | None = None  # None: decide from the number of devices and cores

    def process_count(self, sessions: int, workers: int) -> int:
        """Worker processes for ``sessions`` device sessions with ``workers`` threads in all."""
        if self.processes is not None:
            return max(1, min(self.processes, sessions, workers))
        if sessions < PROCESS_THRESHOLD:
            return 1
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        return max(1, min(cores, -(-sessions // DEVICES_PER_PROCESS), workers))


@dataclass
class DeviceOutcome:
    """What happened to one device in one job run."""

    name: str
    address: str | None
    device_id: int
    ok: bool
    reason: str | None
    started: datetime
    ended: datetime
    capture_path: Path | None = None
    capture_bytes: int | None = None
    plan_index: int = 0

    @property
    def elapsed_ms(self) -> int:
        """Wall time spent on this device, in milliseconds."""
        return int((self.ended - self.started).total_seconds() * 1000)


@dataclass
class JobPlan:
    """A loaded job and the devices it will run against."""

    source: Path
    job: Job | None
    devices: list[DeviceRecord] = field(default_factory=list)
    target: CaptureTarget | None = None
    error: str | None = None

    @property
    def label(self) -> str:
        """The job id, or the file stem when the file did not load."""
        return self.job.id if self.job else self.source.stem

    @property
    def runnable(self) -> bool:
        """True when the job loaded and matched at least one device."""
        return self.job is not None and not self.error and bool(self.devices)


def plan_job(job: Job, settings: RunSettings, timestamp: str) -> JobPlan:
    """Select the job's devices; raises :class:`VCollectorError` for inventory problems."""
    inventory = AssetsDBInventory(settings.db_path, job.device_filter.as_options(), settings.limit)
    devices = inventory.devices()
    target = CaptureTarget(capture_base(job, settings.output_dir), job, timestamp)
    return JobPlan(source=job.source_path, job=job, devices=devices, target=target)


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
