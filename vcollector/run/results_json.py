"""Machine-readable results (``--json PATH``) for runbooks and monitoring.

Written atomically, also when the run fails or is interrupted, so a reader never sees half
a document. Never contains a secret: only names, addresses, reasons, times and paths.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vcollector import __version__
from vcollector.errors import ResultsFileError
from vcollector.storage.atomic import write_atomic

if TYPE_CHECKING:  # kept light: a run interrupted while loading still writes its results
    from vcollector.collection.outcome import DeviceOutcome
    from vcollector.run.plan import JobPlan
    from vcollector.run.results import JobResult

SCHEMA_VERSION = 1


def _time(value: datetime | None) -> str | None:
    return value.isoformat(timespec="milliseconds") if value else None


def _device(outcome: DeviceOutcome) -> dict[str, Any]:
    return {
        "name": outcome.name,
        "device_id": outcome.device_id,
        "address": outcome.address,
        "status": _status(outcome),
        "reason": outcome.invalid if outcome.ok and outcome.invalid else outcome.reason,
        "failure": outcome.failure,
        "started": _time(outcome.started),
        "ended": _time(outcome.ended),
        "elapsed_ms": outcome.elapsed_ms,
        "capture_path": str(outcome.capture_path) if outcome.capture_path else None,
        "capture_bytes": outcome.capture_bytes,
        "credential": outcome.credential,
        "credentials_tried": list(outcome.credentials_tried),
        "worker": outcome.worker,
        "change": outcome.change,
        "lines_added": outcome.lines_added,
        "lines_removed": outcome.lines_removed,
        "revision": outcome.revision,
        "records": outcome.records,
        "records_path": str(outcome.records_path) if outcome.records_path else None,
        "invalid_path": str(outcome.invalid_path) if outcome.invalid_path else None,
    }


def _status(outcome: DeviceOutcome) -> str:
    if not outcome.ok:
        return "failed"
    return "invalid" if outcome.invalid else "success"


def _not_run(plan: JobPlan) -> dict[str, Any]:
    return {
        "job_id": plan.label,
        "file": str(plan.source),
        "job_file": str(plan.source.resolve()),
        "status": "not run",
    }


def _job(result: JobResult) -> dict[str, Any]:
    plan = result.plan
    return {
        "job_id": plan.label,
        "file": str(plan.source),
        "job_file": str(plan.source.resolve()),
        "capture_type": plan.job.capture_type if plan.job else None,
        "status": "success" if result.ok else "failed",
        "error": result.error,
        "started": _time(result.started),
        "ended": _time(result.ended),
        "elapsed_ms": result.elapsed_ms,
        "devices_matched": len(plan.devices),
        "devices_succeeded": len(result.succeeded),
        "devices_failed": len(result.failed),
        "devices_invalid": len(result.invalid),
        "captures_saved": len(result.saved),
        "warnings": result.warnings,
        "devices": [_device(outcome) for outcome in result.outcomes],
    }


def results_document(
    tool: str,
    results: Sequence[JobResult],
    started: datetime,
    ended: datetime,
    *,
    interrupted: bool = False,
    unstarted: Sequence[JobPlan] = (),
    error: str | None = None,
) -> dict[str, Any]:
    """The whole run as one JSON-ready mapping; ``error`` is a run-level failure (a run
    that stopped before its jobs ran, a known_hosts file that could not be updated)."""
    jobs = [_job(result) for result in results]
    ok = bool(results) and all(r.ok for r in results) and not interrupted and error is None
    return {
        "schema": SCHEMA_VERSION,
        "tool": tool,
        "version": __version__,
        "status": "success" if ok else "failed",
        "error": error,
        "interrupted": interrupted,
        "started": _time(started),
        "ended": _time(ended),
        "elapsed_ms": int((ended - started).total_seconds() * 1000),
        "totals": {
            "jobs": len(results) + len(unstarted),
            "jobs_succeeded": sum(1 for r in results if r.ok),
            "devices_succeeded": sum(len(r.succeeded) for r in results),
            "devices_failed": sum(len(r.failed) for r in results),
            "devices_invalid": sum(len(r.invalid) for r in results),
            "captures_saved": sum(len(r.saved) for r in results),
            "changed": sum(1 for r in results for o in r.outcomes if o.change == "changed"),
            "unchanged": sum(1 for r in results for o in r.outcomes if o.change == "unchanged"),
            "new": sum(1 for r in results for o in r.outcomes if o.change == "new"),
        },
        "jobs": jobs + [_not_run(plan) for plan in unstarted],
    }


def write_results(path: Path, document: dict[str, Any]) -> None:
    """Write the document atomically (mode 0600); :class:`ResultsFileError` on failure."""
    try:
        write_atomic(path.expanduser(), (json.dumps(document, indent=2) + "\n").encode("utf-8"))
    except OSError as exc:
        raise ResultsFileError(f"cannot write results file {path}: {exc.strerror or exc}") from exc


def check_writable(path: Path, what: str = "results file") -> None:
    """Fail now, before any device is contacted, when ``path`` could not be written later."""
    target = path.expanduser()
    if target.is_dir():
        raise ResultsFileError(f"cannot write {what} {path}: it is a directory")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".vcollector-check.", delete=True):
            pass
    except OSError as exc:
        raise ResultsFileError(f"cannot write {what} {path}: {exc.strerror or exc}") from exc
