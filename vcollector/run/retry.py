"""``--retry-failed RESULTS.json``: from a results file, what to run again.

Per job of the file: a job that ran to its end is retried on its devices that did not
succeed; a job that failed to start, never ran, or stopped short (interrupted, crashed)
is retried whole, minus the devices that succeeded. Devices are matched by their
assets.db id; a device that no longer matches the job's filter is not run.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vcollector.errors import VCollectorError
from vcollector.run.plan import JobPlan

TOOLS = ("run_job", "run_jobs_concurrent")


@dataclass(frozen=True)
class RetryJob:
    """One job of the results file and the devices to run it on again."""

    file: Path
    label: str
    only: frozenset[int] | None  # these devices (the job ran to its end)
    skip: frozenset[int]  # else every device but these (they succeeded)

    def wanted(self, device_id: int) -> bool:
        """Whether the retry runs the job on this device."""
        return device_id in self.only if self.only is not None else device_id not in self.skip

    @property
    def describe(self) -> str:
        """How much of the job runs again, for the console."""
        if self.only is not None:
            return f"{len(self.only)} failed device{'' if len(self.only) == 1 else 's'}"
        return "all devices" + (f" but the {len(self.skip)} that succeeded" if self.skip else "")


@dataclass(frozen=True)
class Retry:
    """What a results file says to run again."""

    source: Path
    tool: str
    jobs: list[RetryJob]  # the jobs with something to run again
    files: frozenset[Path]  # every job file of the results, resolved

    def find(self, job_file: Path) -> RetryJob | None:
        """The entry of this job file (compared as resolved paths)."""
        wanted = _resolved(job_file)
        return next((job for job in self.jobs if _resolved(job.file) == wanted), None)

    def knows(self, job_file: Path) -> bool:
        """Whether the results file has this job at all."""
        return _resolved(job_file) in self.files


def _resolved(path: Path) -> Path:
    try:
        return path.expanduser().resolve()
    except OSError:
        return path.expanduser().absolute()


def _not_results(path: Path, why: str) -> VCollectorError:
    return VCollectorError(f"{path} is not a vcollector results file (written by --json): {why}")


def _ids(devices: Sequence[Any], *, succeeded: bool) -> frozenset[int]:
    return frozenset(
        int(device["device_id"])
        for device in devices
        if isinstance(device, dict)
        and isinstance(device.get("device_id"), int)
        and (device.get("status") == "success") == succeeded
    )


def load_retry(path: Path) -> Retry:
    """Read ``path``; one-line :class:`VCollectorError` when it is not a results file."""
    try:
        document = json.loads(path.expanduser().read_text(encoding="utf-8"))
    except OSError as exc:
        raise VCollectorError(f"cannot read results file {path}: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise _not_results(path, f"not JSON ({exc})") from exc
    if not isinstance(document, dict) or document.get("tool") not in TOOLS or document.get("schema") != 1:
        raise _not_results(path, "no schema 1 document of run_job or run_jobs_concurrent")
    entries = document.get("jobs")
    if not isinstance(entries, list) or not entries:
        raise _not_results(path, "it lists no job (the run failed before any job was planned)")
    jobs: list[RetryJob] = []
    files: set[Path] = set()
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
            raise _not_results(path, "a job without its file")
        listed = entry.get("devices")
        devices: list[Any] = listed if isinstance(listed, list) else []
        file = Path(entry.get("job_file") or entry["file"])
        label = str(entry.get("job_id") or file.stem)
        files.add(_resolved(file))
        whole = entry.get("status") == "not run" or bool(entry.get("error"))
        if whole:
            jobs.append(RetryJob(file, label, None, _ids(devices, succeeded=True)))
        elif failed := _ids(devices, succeeded=False):
            jobs.append(RetryJob(file, label, failed, frozenset()))
    return Retry(path, str(document["tool"]), jobs, frozenset(files))


def restrict(plan: JobPlan, retry: RetryJob) -> JobPlan:
    """The plan with only the devices the retry runs."""
    return dataclasses.replace(plan, devices=[device for device in plan.devices if retry.wanted(device.id)])
