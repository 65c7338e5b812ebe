"""Run jobs: plan (select devices), then one Nornir run per job, several jobs at once.

Per job, Nornir's threaded runner with the job's ``max_workers``; across jobs, one pool
of ``max_concurrent_jobs``; across everything, a :class:`SessionLimiter` that caps the
SSH sessions each device sees.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from nornir.core import Nornir
from nornir.core.configuration import Config
from nornir.core.inventory import Host
from nornir.core.plugins.connections import ConnectionPluginRegister
from nornir.core.processor import Processors
from nornir.core.task import AggregatedResult, MultiResult, Task
from nornir.plugins.runners import ThreadedRunner
from nornir_netmiko.connections import CONNECTION_NAME, Netmiko

from vcollector.assets_db import DeviceRecord
from vcollector.cancellation import Cancellation
from vcollector.captures import CaptureTarget, capture_base
from vcollector.credentials import apply_credential
from vcollector.errors import VCollectorError
from vcollector.host_keys import KnownHosts
from vcollector.inventory import AssetsDBInventory, inventory_from_devices
from vcollector.jobs import Job
from vcollector.sessions import SessionLimiter
from vcollector.tasks import DeviceOutcome, collect_to_capture
from vcollector.vault import Credential

DeviceCallback = Callable[["JobPlan", DeviceOutcome, int, int], None]
JobCallback = Callable[["JobPlan"], None]


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


class _Progress:
    """Nornir processor that reports each device as it finishes, numbered in finish order."""

    def __init__(self, plan: JobPlan, total: int, callback: DeviceCallback | None) -> None:
        self.plan = plan
        self.total = total
        self.callback = callback
        self.done = 0
        self._lock = threading.Lock()

    def task_started(self, task: Task) -> None:
        pass

    def task_completed(self, task: Task, result: AggregatedResult) -> None:
        pass

    def task_instance_started(self, task: Task, host: Host) -> None:
        pass

    def task_instance_completed(self, task: Task, host: Host, result: MultiResult) -> None:
        outcome = result[0].result
        if not isinstance(outcome, DeviceOutcome):
            return
        with self._lock:
            self.done += 1
            if self.callback:
                self.callback(self.plan, outcome, self.done, self.total)

    def subtask_instance_started(self, task: Task, host: Host) -> None:
        pass

    def subtask_instance_completed(self, task: Task, host: Host, result: MultiResult) -> None:
        pass


def execute_job(
    plan: JobPlan,
    credential: Credential,
    settings: RunSettings,
    on_device_done: DeviceCallback | None = None,
) -> JobResult:
    """Run one planned job on all its devices; never raises for device failures."""
    started = datetime.now(timezone.utc)
    job = plan.job
    if job is None or plan.error:
        return JobResult(plan, [], started, datetime.now(timezone.utc), plan.error or "job did not load")
    if not plan.devices:
        return JobResult(plan, [], started, datetime.now(timezone.utc), "no devices match the filter")
    if CONNECTION_NAME not in ConnectionPluginRegister.available:
        ConnectionPluginRegister.register(CONNECTION_NAME, Netmiko)
    inventory = inventory_from_devices(plan.devices)
    for host in inventory.hosts.values():
        apply_credential(host, credential)
    workers = max(1, min(job.execution.max_workers, len(plan.devices)))
    config = Config(logging={"enabled": False})  # type: ignore[arg-type]
    progress = _Progress(plan, len(plan.devices), on_device_done)
    task_args: dict[str, Any] = {
        "commands": job.command_list,
        "timeout": float(job.execution.timeout),
        "inter_command_time": float(job.execution.inter_command_time),
        "target": plan.target if settings.save else None,
        "retries": settings.retries,
        "session_limiter": settings.session_limiter,
        "session_log_dir": settings.session_log_dir,
        "cancellation": settings.cancellation,
        "host_keys": settings.host_keys,
    }
    with Nornir(
        inventory=inventory,
        config=config,
        processors=Processors([progress]),
        runner=ThreadedRunner(num_workers=workers),
    ) as nornir:
        results = nornir.run(task=collect_to_capture, name=f"job {job.id}", **task_args)
    outcomes = [multi[0].result for multi in results.values() if isinstance(multi[0].result, DeviceOutcome)]
    return JobResult(plan, outcomes, started, datetime.now(timezone.utc))


def execute_jobs(
    plans: Sequence[JobPlan],
    credential: Credential,
    settings: RunSettings,
    max_concurrent_jobs: int,
    on_job_start: JobCallback | None = None,
    on_device_done: DeviceCallback | None = None,
    on_job_done: Callable[[JobResult], None] | None = None,
) -> list[JobResult]:
    """Run several planned jobs, at most ``max_concurrent_jobs`` at once, results in plan order."""

    def one(plan: JobPlan) -> JobResult:
        if on_job_start:
            on_job_start(plan)
        try:
            result = execute_job(plan, credential, settings, on_device_done)
        except VCollectorError as exc:
            now = datetime.now(timezone.utc)
            result = JobResult(plan, [], now, now, str(exc))
        if on_job_done:
            on_job_done(result)
        return result

    with ThreadPoolExecutor(max(1, max_concurrent_jobs), thread_name_prefix="job") as pool:
        return list(pool.map(one, plans))


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
