"""After a run: keep each significant change as a version, and tell every device what it was.

Grouped by capture base (each base has its history repository), one commit per base and
run. A capture whose fingerprint differs from its last version is read back from its file
(and its blob id checked, so a file another run replaced meanwhile is not mistaken for
ours); the rest is decided from fingerprints alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vcollector.collection.outcome import DeviceOutcome
from vcollector.errors import CaptureError
from vcollector.run.plan import JobPlan
from vcollector.run.results import JobResult
from vcollector.storage.history import Change, History
from vcollector.storage.history_index import Entry, blob_id


@dataclass(frozen=True)
class _Capture:
    plan: JobPlan
    outcome: DeviceOutcome
    file: Path
    path: str  # in the repository


def record_history(results: Sequence[JobResult], run_name: str) -> list[str]:
    """Record the run's captures in their histories; the run-level problems (one line each)."""
    pending: dict[Path, list[_Capture]] = {}
    for result in results:
        target = result.plan.target
        if target is None:
            continue
        for outcome in result.outcomes:
            written = outcome.capture_path
            fingerprinted = bool(outcome.blob and outcome.significant)
            if outcome.ok and outcome.history and written is not None and fingerprinted:
                path = written.relative_to(target.base).as_posix()
                pending.setdefault(target.base, []).append(_Capture(result.plan, outcome, written, path))
    problems: list[str] = []
    for base, captures in pending.items():
        try:
            _record(base, captures, _message(run_name, results, captures))
        except (CaptureError, OSError) as exc:
            problems.append(f"cannot record the capture history in {base}: {exc}")
    return problems


def _message(run_name: str, results: Sequence[JobResult], captures: Sequence[_Capture]) -> str:
    labels = list(dict.fromkeys(capture.plan.label for capture in captures))
    jobs = f"job{'s' if len(labels) > 1 else ''} {', '.join(labels)}"
    devices = sum(len(result.outcomes) for result in results)
    return f"vcollector run {run_name}: {jobs} ({devices} device{'s' if devices != 1 else ''})"


def _record(base: Path, captures: Sequence[_Capture], message: str) -> None:
    history = History(base)
    known = history.index().entries if history.exists() else {}
    changes: list[Change] = []
    for capture in captures:
        outcome = capture.outcome
        previous = known.get(capture.path)
        if previous is not None and previous.significant == outcome.significant:
            outcome.change, outcome.lines_added, outcome.lines_removed = "unchanged", 0, 0
            outcome.revision = previous.revision
            continue
        data = capture.file.read_bytes()
        if blob_id(data) != outcome.blob:
            raise CaptureError(f"{capture.file} changed after this run wrote it (another run?)")
        changes.append(Change(_entry(capture), data))
    recorded = history.record(changes, message)
    for capture in captures:
        found = recorded.get(capture.path)
        if found is not None:
            outcome = capture.outcome
            outcome.change, outcome.revision = found.change, found.revision
            outcome.lines_added, outcome.lines_removed = found.lines_added, found.lines_removed


def _entry(capture: _Capture) -> Entry:
    outcome = capture.outcome
    device = next((d for d in capture.plan.devices if d.id == outcome.device_id), None)
    job = capture.plan.job
    return Entry(
        path=capture.path,
        device_id=outcome.device_id,
        name=device.name if device else outcome.name,
        normalized_name=device.normalized_name if device else outcome.name,
        capture_type=job.output_directory if job else capture.path.rpartition("/")[0],
        platform=outcome.platform,
        blob=outcome.blob or "",
        significant=outcome.significant or "",
        revision="",
    )
