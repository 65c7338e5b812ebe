"""Plans: which devices each job runs against, and what every job of a run shares.

Kept free of Netmiko and Nornir imports so that ``--dry-run`` starts fast.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from vcollector.errors import CaptureError
from vcollector.inventory.assets_db import load_devices
from vcollector.inventory.records import DeviceRecord
from vcollector.jobs.model import Job
from vcollector.run.spec import RunSpec
from vcollector.storage.captures import CaptureTarget, capture_base


@dataclass
class JobPlan:
    """A loaded job and the devices it will run against."""

    source: Path
    job: Job | None
    devices: list[DeviceRecord] = field(default_factory=list)
    target: CaptureTarget | None = None
    error: str | None = None
    credentials: tuple[str, ...] = ()  # the credential sets to try, in order (empty: the default)
    excluded_by_platform: dict[str, int] = field(default_factory=dict)  # platform -> devices

    @property
    def label(self) -> str:
        """The job id, or the file stem when the file did not load."""
        return self.job.id if self.job else self.source.stem

    @property
    def runnable(self) -> bool:
        """True when the job loaded and matched at least one device."""
        return self.job is not None and not self.error and bool(self.devices)


def plan_job(
    job: Job,
    spec: RunSpec,
    timestamp: str,
    credentials: tuple[str, ...] = (),
    *,
    explain_platforms: bool = False,
) -> JobPlan:
    """Select the job's devices; raises :class:`VCollectorError` for inventory problems.

    ``explain_platforms`` also counts, by platform, the devices that every filter but the
    platform one matched (``--dry-run`` shows what the platform filter left out).
    """
    wanted = job.device_filter.spec()
    if explain_platforms and wanted.platform:
        broader = load_devices(spec.db_path, wanted.without_platform())
        matched = [device for device in broader if wanted.matches(device)]
        excluded = Counter(
            str(device.platform or "unknown") for device in broader if not wanted.matches(device)
        )
    else:
        matched, excluded = load_devices(spec.db_path, wanted), Counter()
    devices = matched[: spec.limit] if spec.limit else matched
    target = CaptureTarget(capture_base(job, spec.output_dir), job, timestamp)
    plan = JobPlan(
        source=job.source_path,
        job=job,
        devices=devices,
        target=target,
        credentials=credentials,
        excluded_by_platform=dict(sorted(excluded.items())),
    )
    if len(devices) > 1 and not target.varies_by_device:
        plan.error = (
            f"storage.filename_pattern {job.storage.filename_pattern!r} has neither {{device_name}} nor "
            f"{{device_id}}: all {len(devices)} devices would write the same file"
        )
    return plan


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
