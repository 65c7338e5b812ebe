"""Plans: which devices each job runs against, and what every job of a run shares.

Kept free of Netmiko and Nornir imports so that ``--dry-run`` starts fast.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from vcollector.cancellation import Cancellation
from vcollector.errors import CaptureError
from vcollector.inventory.plugin import AssetsDBInventory
from vcollector.inventory.records import DeviceRecord
from vcollector.jobs.model import Job
from vcollector.storage.captures import CaptureTarget, capture_base

if TYPE_CHECKING:
    from vcollector.transport.host_keys import KnownHosts
    from vcollector.transport.limits import SessionLimiter

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


@dataclass(frozen=True)
class CaptureClash:
    """Two or more jobs that would write the same capture files in one run."""

    jobs: tuple[str, ...]
    files: int
    example: Path


def capture_clashes(plans: Sequence[JobPlan]) -> list[CaptureClash]:
    """Groups of jobs whose devices' capture paths coincide (the last writer would win)."""
    writers: dict[Path, list[str]] = defaultdict(list)
    for plan in plans:
        if plan.target is None or plan.error:
            continue
        for device in plan.devices:
            try:
                path = plan.target.path_for(device.normalized_name, device.id)
            except CaptureError:
                continue
            writers[path].append(plan.label)
    grouped: dict[tuple[str, ...], list[Path]] = defaultdict(list)
    for path, labels in writers.items():
        if len(labels) > 1:
            grouped[tuple(dict.fromkeys(labels))].append(path)
    return [CaptureClash(jobs, len(paths), sorted(paths)[0]) for jobs, paths in sorted(grouped.items())]
