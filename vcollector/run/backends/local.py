"""Run planned jobs: Nornir runs of the collection task, in threads and, for large runs,
in several worker processes.

By default a run logs in to each device once, whatever the number of jobs that select it
(*shared sessions*): the device's jobs run one after another over that session, each saving
its own capture. With shared sessions off, each job is its own Nornir run (at most
``max_concurrent_jobs`` at once) and a :class:`SessionLimiter` caps the sessions each device
sees across jobs.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

from nornir.core import Nornir
from nornir.core.configuration import Config
from nornir.core.plugins.connections import ConnectionPluginRegister
from nornir.plugins.runners import ThreadedRunner
from nornir_netmiko.connections import CONNECTION_NAME, Netmiko

from vcollector.collection.outcome import DeviceOutcome
from vcollector.collection.tasks import JobStep, SessionOptions, StepReport, collect_jobs
from vcollector.credentials.vault import Credential
from vcollector.errors import VCollectorError
from vcollector.inventory.plugin import HostEntry, host_entries, inventory_from_entries
from vcollector.inventory.records import DeviceRecord
from vcollector.run.plan import JobPlan, RunSettings
from vcollector.run.results import DeviceCallback, JobCallback, JobResult, ResultCallback
from vcollector.transport.credentials import apply_credential


class _Tracker:
    """Numbers finished devices per job and notices when each job is complete."""

    def __init__(
        self,
        plans: Sequence[JobPlan],
        on_job_start: JobCallback | None,
        on_device_done: DeviceCallback | None,
        on_job_done: ResultCallback | None,
    ) -> None:
        self.plans = list(plans)
        self.on_job_start = on_job_start
        self.on_device_done = on_device_done
        self.on_job_done = on_job_done
        self._lock = threading.Lock()
        self._outcomes: list[list[DeviceOutcome]] = [[] for _ in self.plans]
        self._started: list[datetime | None] = [None] * len(self.plans)
        self._results: list[JobResult | None] = [None] * len(self.plans)

    def start(self) -> None:
        now = datetime.now(timezone.utc)
        for index, plan in enumerate(self.plans):
            if not plan.runnable:
                error = plan.error or "no devices match the filter"
                self._finish(index, JobResult(plan, [], now, now, error))
                continue
            self._started[index] = now
            if self.on_job_start:
                self.on_job_start(plan)

    def device(self, outcome: DeviceOutcome) -> None:
        index = outcome.plan_index
        plan = self.plans[index]
        with self._lock:
            done = self._outcomes[index]
            done.append(outcome)
            position, total = len(done), len(plan.devices)
        if self.on_device_done:
            self.on_device_done(plan, outcome, position, total)
        if position == total:
            self._complete(index)

    def _complete(self, index: int, error: str | None = None) -> None:
        started = self._started[index] or datetime.now(timezone.utc)
        result = JobResult(
            self.plans[index], list(self._outcomes[index]), started, datetime.now(timezone.utc), error
        )
        self._finish(index, result)

    def _finish(self, index: int, result: JobResult) -> None:
        with self._lock:
            if self._results[index] is not None:
                return
            self._results[index] = result
        if self.on_job_done:
            self.on_job_done(result)

    def results(self) -> list[JobResult]:
        """Every job's result (a job missing devices, e.g. after a crash, says so)."""
        for index, result in enumerate(self._results):
            if result is None:
                missing = len(self.plans[index].devices) - len(self._outcomes[index])
                self._complete(index, f"{missing} device(s) reported no result")
        return [result for result in self._results if result is not None]


def build_work(plans: Sequence[JobPlan], save: bool) -> tuple[list[HostEntry], dict[str, list[JobStep]]]:
    """Each device once (by id) as a named host, and the steps of every job that selects
    it, in job order."""
    devices: dict[int, DeviceRecord] = {}
    for plan in plans:
        if plan.runnable:
            for device in plan.devices:
                devices.setdefault(device.id, device)
    ordered = sorted(devices.values(), key=lambda device: (device.name.casefold(), device.name, device.id))
    entries = host_entries(ordered)
    host_of = {device.id: name for name, device, _problem in entries}
    steps: dict[str, list[JobStep]] = {name: [] for name in host_of.values()}
    for index, plan in enumerate(plans):
        if not plan.runnable or plan.job is None:
            continue
        job = plan.job
        for device in plan.devices:
            steps[host_of[device.id]].append(
                JobStep(
                    plan_index=index,
                    commands=job.command_list,
                    timeout=float(job.execution.timeout),
                    inter_command_time=float(job.execution.inter_command_time),
                    target=plan.target if save else None,
                )
            )
    return entries, steps


def run_steps(
    entries: list[HostEntry],
    steps: dict[str, list[JobStep]],
    credential: Credential,
    options: SessionOptions,
    workers: int,
    report: StepReport,
) -> None:
    """One Nornir run of :func:`collect_jobs` over ``devices`` in this process."""
    if CONNECTION_NAME not in ConnectionPluginRegister.available:
        ConnectionPluginRegister.register(CONNECTION_NAME, Netmiko)
    inventory = inventory_from_entries(entries)
    for host in inventory.hosts.values():
        apply_credential(host, credential)
    config = Config(logging={"enabled": False})  # type: ignore[arg-type]
    nornir = Nornir(inventory=inventory, config=config, runner=ThreadedRunner(num_workers=max(1, workers)))
    # Not ``with Nornir(...)``: its exit runs one more task per host to close connections,
    # which collect_jobs has always closed already (~5 % of a large run's CPU).
    nornir.run(task=collect_jobs, name="vcollector", steps=steps, options=options, report=report)


def session_options(settings: RunSettings) -> SessionOptions:
    """The session options of a run in this process."""
    return SessionOptions(
        retries=settings.retries,
        session_limiter=settings.session_limiter,
        session_log_dir=settings.session_log_dir,
        cancellation=settings.cancellation,
        host_keys=settings.host_keys,
    )


def execute_plans(
    plans: Sequence[JobPlan],
    credential: Credential,
    settings: RunSettings,
    *,
    workers: int,
    on_job_start: JobCallback | None = None,
    on_device_done: DeviceCallback | None = None,
    on_job_done: ResultCallback | None = None,
) -> list[JobResult]:
    """Run ``plans`` together: every device logs in once for all the jobs that select it."""
    tracker = _Tracker(plans, on_job_start, on_device_done, on_job_done)
    tracker.start()
    runnable = [plan for plan in plans if plan.runnable]
    if runnable:
        entries, steps = build_work(plans, settings.save)
        workers = max(1, min(workers, len(entries)))
        processes = settings.process_count(len(entries), workers)
        try:
            if processes > 1:
                from vcollector.run.backends.processes import run_steps_in_processes

                run_steps_in_processes(
                    entries, steps, credential, settings, workers, processes, tracker.device
                )
            else:
                run_steps(entries, steps, credential, session_options(settings), workers, tracker.device)
        finally:
            if settings.host_keys is not None:
                settings.host_keys.save()
    return tracker.results()


def execute_jobs(
    plans: Sequence[JobPlan],
    credential: Credential,
    settings: RunSettings,
    max_concurrent_jobs: int,
    on_job_start: JobCallback | None = None,
    on_device_done: DeviceCallback | None = None,
    on_job_done: ResultCallback | None = None,
) -> list[JobResult]:
    """Run several planned jobs; results in plan order.

    Shared sessions: one run whose thread pool is as large as the pools of
    ``max_concurrent_jobs`` jobs together. Otherwise: at most ``max_concurrent_jobs`` job
    runs at once, each with its own pool of ``max_workers`` threads.
    """
    callbacks: dict[str, Any] = {
        "on_job_start": on_job_start,
        "on_device_done": on_device_done,
        "on_job_done": on_job_done,
    }
    if settings.shared_sessions or len(plans) <= 1:
        sizes = sorted((plan.job.execution.max_workers for plan in plans if plan.job), reverse=True)
        workers = sum(sizes[: max(1, max_concurrent_jobs)]) or 1
        return execute_plans(plans, credential, settings, workers=workers, **callbacks)
    # One device may be in several concurrent jobs here: keep it in one process, so the
    # per-device session limiter sees every session.
    single_process = dataclasses.replace(settings, processes=1)

    def one(plan: JobPlan) -> JobResult:
        workers = plan.job.execution.max_workers if plan.job else 1
        try:
            (result,) = execute_plans([plan], credential, single_process, workers=workers, **callbacks)
        except VCollectorError as exc:
            now = datetime.now(timezone.utc)
            result = JobResult(plan, [], now, now, str(exc))
        return result

    with ThreadPoolExecutor(max(1, max_concurrent_jobs), thread_name_prefix="job") as pool:
        return list(pool.map(one, plans))
