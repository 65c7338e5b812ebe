"""From plans to work: each device once per credential chain, with the steps of its jobs.

A device selected by several jobs is logged in to once (shared sessions) when those jobs
use the same credentials; its steps run in job order. Every step's capture path is decided
here, and no two steps of one run may write one file: a path is claimed by the first step
that wants it (a device whose name needed no sanitising goes first, then job order, then
device order) and every later claimant fails at once with a reason naming the owner. Paths
are compared without case (VelocityCMDB's loader and some file systems fold it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from vcollector.collection.outcome import DeviceOutcome
from vcollector.collection.tasks import JobStep
from vcollector.errors import CaptureError
from vcollector.inventory.records import DeviceRecord
from vcollector.jobs.model import Job
from vcollector.parsing.validation import TfsmValidation
from vcollector.run.plan import JobPlan
from vcollector.run.reach import Reach
from vcollector.run.spec import RunSpec
from vcollector.storage.captures import safe_part
from vcollector.transport.jump_spec import JumpSpec

DEFAULT_CHAIN: tuple[str, ...] = ("default",)


@dataclass(frozen=True)
class WorkItem:
    """One login: a device, the credentials to try in order, and the steps to run."""

    host: str
    device: DeviceRecord
    credentials: tuple[str, ...]
    steps: tuple[JobStep, ...]
    jump: JumpSpec | None = None


@dataclass(frozen=True)
class Work:
    """A run's items, and the steps that fail before any login (with their outcomes)."""

    items: list[WorkItem]
    blocked: list[DeviceOutcome]

    @property
    def sessions(self) -> int:
        """How many logins the items need."""
        return len(self.items)


def _blocked(index: int, device: DeviceRecord, reason: str, kind: str) -> DeviceOutcome:
    now = datetime.now(timezone.utc)
    return DeviceOutcome(
        name=device.name,
        address=device.address,
        device_id=device.id,
        ok=False,
        reason=reason,
        started=now,
        ended=now,
        plan_index=index,
        failure=kind,
    )


def _step(index: int, job: Job, path: Path | None, spec: RunSpec) -> JobStep:
    return JobStep(
        plan_index=index,
        commands=job.command_list,
        timeout=float(job.execution.timeout),
        inter_command_time=float(job.execution.inter_command_time),
        path=path,
        max_output_bytes=int(spec.max_output_mb * 1024 * 1024)
        if spec.max_output_mb
        else job.max_output_bytes,
        scrub=spec.scrub_secrets or job.storage.scrub_secrets,
        history=path is not None and spec.history and job.storage.history,
        validation=_validation(job, spec),
    )


def _validation(job: Job, spec: RunSpec) -> TfsmValidation | None:
    asked = job.validation
    if not asked.use_tfsm:
        return None
    return TfsmValidation(
        hint=asked.tfsm_filter,
        min_score=asked.min_score,
        store_failures=asked.store_failures,
        force_save=spec.force_save,
    )


def build_work(plans: Sequence[JobPlan], spec: RunSpec, reach: Reach | None = None) -> Work:
    """The items of a run, and the steps that cannot run (capture path clashes, escapes).

    The spec's run-wide options (``--no-save``, ``--max-output-mb``, ``--no-history``,
    ``--scrub-secrets``) apply to every job.
    """
    save = spec.save
    wanted: list[tuple[int, JobPlan, DeviceRecord, Path | None]] = []
    blocked: list[DeviceOutcome] = []
    for index, plan in enumerate(plans):
        if not plan.runnable or plan.job is None:
            continue
        for device in plan.devices:
            path = None
            if save and plan.target is not None:
                try:
                    path = plan.target.path_for(device.normalized_name, device.id)
                except CaptureError as exc:
                    blocked.append(_blocked(index, device, str(exc), "capture"))
                    continue
            wanted.append((index, plan, device, path))
    # Compared without case: VelocityCMDB's loader lowercases file names, and macOS and
    # Windows file systems fold case, so EDGE1.txt and edge1.txt are one file there.
    owners: dict[str, tuple[JobPlan, DeviceRecord]] = {}
    allowed: set[tuple[int, int]] = set()
    order = sorted(
        range(len(wanted)),
        key=lambda i: (safe_part(wanted[i][2].normalized_name) != wanted[i][2].normalized_name, i),
    )
    for position in order:
        index, plan, device, path = wanted[position]
        key = str(path).casefold() if path is not None else None
        if path is not None and key is not None and key in owners:
            owner_plan, owner = owners[key]
            job = f" of job {owner_plan.label}" if owner_plan is not plan else ""
            reason = (
                f"capture file {path.name} is also written by {owner.name} (device {owner.id}){job} "
                "in this run; rename one in assets.db or change storage.filename_pattern"
            )
            blocked.append(_blocked(index, device, reason, "capture_clash"))
            continue
        if key is not None:
            owners[key] = (plan, device)
        allowed.add((index, device.id))
    groups: dict[tuple[int, tuple[str, ...]], list[JobStep]] = {}
    devices: dict[int, DeviceRecord] = {}
    for index, plan, device, path in wanted:
        if (index, device.id) not in allowed:
            continue
        chain = reach.chain(plan, device) if reach else (plan.credentials or DEFAULT_CHAIN)
        devices.setdefault(device.id, device)
        if plan.job is not None:
            groups.setdefault((device.id, chain), []).append(_step(index, plan.job, path, spec))
    items = _items(groups, devices)
    if reach is not None:
        items = [dataclasses.replace(item, jump=reach.jump(item.device)) for item in items]
    return Work(items, blocked)


def _items(
    groups: dict[tuple[int, tuple[str, ...]], list[JobStep]], devices: dict[int, DeviceRecord]
) -> list[WorkItem]:
    def order(key: tuple[int, tuple[str, ...]]) -> tuple[str, str, int, tuple[str, ...]]:
        device = devices[key[0]]
        return (device.name.casefold(), device.name, device.id, key[1])

    items: list[WorkItem] = []
    taken: set[str] = set()
    for key in sorted(groups, key=order):
        device = devices[key[0]]
        host = device.normalized_name
        if host in taken:
            host = f"{device.normalized_name}#{device.id}"
        suffix = 2
        while host in taken:
            host = f"{device.normalized_name}#{device.id}~{suffix}"
            suffix += 1
        taken.add(host)
        items.append(WorkItem(host, device, key[1], tuple(groups[key])))
    return items
