"""Console output of both tools, in the shape the seed README documents."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from vcollector.collection.outcome import DeviceOutcome
from vcollector.jobs.model import Job
from vcollector.run.plan import JobPlan
from vcollector.run.results import JobResult
from vcollector.ui.text import printable

RULE = "=" * 60
DEVICES_LISTED = 50


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


class Reporter:
    """Writes progress and summaries; thread-safe, so worker threads can report directly."""

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False) -> None:
        self.stream = stream or sys.stdout
        self.quiet = quiet
        self._lock = threading.Lock()
        self.closed = False

    def line(self, text: str = "", *, always: bool = False) -> None:
        """Print one line (suppressed under ``--quiet`` unless ``always``).

        Control characters are shown, not sent to the terminal. A closed output (``| head``)
        ends the printing, never the run: devices are still collected and files written.
        """
        if (self.quiet and not always) or self.closed:
            return
        with self._lock:
            try:
                self.stream.write(printable(text) + "\n")
                self.stream.flush()
            except (BrokenPipeError, ValueError, OSError):
                self.closed = True

    # --- run_job -------------------------------------------------------------------

    def job_header(self, plan: JobPlan, *, list_all: bool = False) -> None:
        """Job, filters, commands, output directory and matched devices."""
        job = plan.job
        if job is None:
            self.line(f"Job file {plan.source}: {plan.error}")
            return
        self.line(f"Job: {job.id} - {job.capture_type}")
        for label, value in _filters(job):
            self.line(f"{label}: {value}")
        self.line(f"Command: {job.command_text}")
        if plan.target is not None:
            self.line(f"Output dir: {plan.target.directory}")
        self.line()
        self.device_list(plan, list_all=list_all)
        if plan.excluded_by_platform:
            self.line(f"Platform filter excluded {_excluded(plan)}")

    def device_list(self, plan: JobPlan, *, list_all: bool = False) -> None:
        """``Found N matching devices:`` and one line per device (problems named)."""
        devices = plan.devices
        if not devices:
            self.line("No devices match the filter.")
            return
        self.line(f"Found {_plural(len(devices), 'matching device')}:")
        shown = devices if list_all else devices[:DEVICES_LISTED]
        for device in shown:
            address = device.address or "no address"
            model = f" - {device.model}" if device.model else ""
            problem = f"  [will fail: {device.problem}]" if device.problem else ""
            self.line(f"  - {device.name} ({address}){model}{problem}")
        if len(devices) > len(shown):
            self.line(f"  ... and {len(devices) - len(shown)} more (--dry-run lists them all)")

    def device_done(self, plan: JobPlan, outcome: DeviceOutcome, index: int, total: int) -> None:
        """``[i/N] ✓ address - ms`` (✗ with the device and reason on failure, ! when the output
        failed the job's TextFSM validation)."""
        where = outcome.address or outcome.name
        if outcome.ok and outcome.invalid:
            shown = invalid_text(outcome)
            self.line(f"  [{index}/{total}] ! {where} - {outcome.elapsed_ms}ms - {outcome.name}: {shown}")
        elif outcome.ok:
            self.line(f"  [{index}/{total}] ✓ {where} - {outcome.elapsed_ms}ms")
        else:
            self.line(
                f"  [{index}/{total}] ✗ {where} - {outcome.elapsed_ms}ms - {outcome.name}: {outcome.reason}"
            )

    def job_results(self, result: JobResult, *, saving: bool) -> None:
        """The results block: counts, saved captures with sizes, failures with reasons."""
        self.line(RULE, always=True)
        if result.error:
            self.line(f"Error: {result.error}", always=True)
        self.line(f"Results: {_counts(result.succeeded, result.failed, result.invalid)}", always=True)
        if saving and result.saved and not self.quiet:  # a line per capture: skipped, not just hidden
            self.line()
            self.line(f"Saved {_plural(len(result.saved), 'capture')}:")
            directory = result.plan.target.directory if result.plan.target else None
            for outcome in result.saved:
                shown = _relative(outcome.capture_path or Path(), directory)
                records = ""
                if outcome.records_path is not None:
                    shown_records = _relative(outcome.records_path, directory)
                    records = f", {_plural(outcome.records or 0, 'record')} in {shown_records}"
                self.line(f"  - {outcome.name}: {shown} ({outcome.capture_bytes or 0:,} bytes){records}")
        elif not saving:
            self.line()
            self.line("Captures not saved (--no-save).")
        if result.failed:
            self.line(always=True)
            self.line(f"Failed {_plural(len(result.failed), 'device')}:", always=True)
            for outcome in result.failed:
                self.line(
                    f"  - {outcome.name} ({outcome.address or 'no address'}): {outcome.reason}", always=True
                )
        if result.invalid:
            self.line(always=True)
            self.line(f"Invalid {_plural(len(result.invalid), 'device')}:", always=True)
            for outcome in result.invalid:
                self.line(
                    f"  - {outcome.name} ({outcome.address or 'no address'}): {invalid_text(outcome)}",
                    always=True,
                )
        for warning in result.warnings:
            self.line(always=True)
            self.line(f"Warning: {warning}", always=True)

    def changes(self, results: Sequence[JobResult]) -> None:
        """``Changes: 2 changed, 7 unchanged, 0 new`` and ``+N -M`` per changed device (when
        the run kept a history)."""
        counts = _change_counts(results)
        if counts is None:
            return
        self.line()
        self.line(f"Changes: {counts}")
        for _label, outcome in _changed(results):
            self.line(f"  - {outcome.name}: +{outcome.lines_added or 0} -{outcome.lines_removed or 0}")

    # --- run_jobs_concurrent ---------------------------------------------------------

    def jobs_overview(self, plans: Sequence[JobPlan], max_concurrent_jobs: int) -> None:
        """``Jobs to run (N):`` with device counts, totals and the concurrency limit."""
        self.line(f"Jobs to run ({len(plans)}):")
        for plan in plans:
            if plan.error:
                self.line(f"  - {plan.source.name}: ERROR {plan.error}")
            else:
                excluded = (
                    f"; platform filter excluded {_excluded(plan)}" if plan.excluded_by_platform else ""
                )
                self.line(
                    f"  - {plan.source.name}: {plan.label} ({_plural(len(plan.devices), 'device')}{excluded})"
                )
        executions = sum(len(plan.devices) for plan in plans)
        self.line()
        self.line(f"Total: {_plural(len(plans), 'job')}, {executions} device executions")
        self.line(f"Max concurrent jobs: {max_concurrent_jobs}")

    def job_started(self, plan: JobPlan) -> None:
        """``[id] Starting - capture_type`` and ``[id] Found N devices``."""
        capture_type = plan.job.capture_type if plan.job else "?"
        self.line(f"[{plan.label}] Starting - {capture_type}")
        self.line(f"[{plan.label}] Found {_plural(len(plan.devices), 'device')}")

    def job_finished(self, result: JobResult) -> None:
        """``[id] ✓ Complete: a/b success in Nms`` (or ✗ with the reason)."""
        label = result.plan.label
        total = len(result.outcomes)
        mark = "✓" if result.ok else "✗"
        if result.error:
            self.line(f"[{label}] ✗ Failed: {result.error}")
            return
        invalid = f", {len(result.invalid)} invalid" if result.invalid else ""
        succeeded = len(result.succeeded)
        self.line(f"[{label}] {mark} Complete: {succeeded}/{total} success{invalid} in {result.elapsed_ms}ms")
        for outcome in result.failed:
            self.line(f"[{label}]   ✗ {outcome.name} ({outcome.address or 'no address'}): {outcome.reason}")
        for outcome in result.invalid:
            address = outcome.address or "no address"
            self.line(f"[{label}]   ! {outcome.name} ({address}): {invalid_text(outcome)}")
        for warning in result.warnings:
            self.line(f"[{label}]   Warning: {warning}")

    def summary(self, results: Sequence[JobResult], seconds: float, *, saving: bool) -> None:
        """The SUMMARY block (always printed, also under ``--quiet``)."""
        ok_jobs = sum(1 for result in results if result.ok)
        success = [outcome for result in results for outcome in result.succeeded]
        failed = [outcome for result in results for outcome in result.failed]
        invalid = [outcome for result in results for outcome in result.invalid]
        saved = sum(len(result.saved) for result in results)

        def emit(text: str = "") -> None:
            self.line(text, always=True)

        emit()
        emit(RULE)
        emit("SUMMARY")
        emit(RULE)
        emit(f"Jobs: {ok_jobs}/{len(results)} successful")
        emit(f"Devices: {_counts(success, failed, invalid)}")
        emit(f"Captures saved: {saved}" + ("" if saving else " (--no-save)"))
        counts = _change_counts(results)
        if counts is not None:
            emit(f"Changes: {counts}")
        emit(f"Total time: {seconds:.1f}s")
        emit()
        emit("Per-job results:")
        for result in results:
            mark = "✓" if result.ok else "✗"
            if result.error:
                emit(f"  {mark} {result.plan.label}: {result.error}")
            else:
                total = len(result.outcomes)
                emit(
                    f"  {mark} {result.plan.label}: {len(result.succeeded)}/{total} devices, "
                    f"{result.elapsed_ms}ms"
                )
        changed = _changed(results)
        if changed:
            emit()
            emit(f"Changed devices ({len(changed)}):")
            for label, outcome in changed:
                emit(
                    f"  - [{label}] {outcome.name}: +{outcome.lines_added or 0} -{outcome.lines_removed or 0}"
                )
        _listed(emit, "Failed devices", [
            f"[{result.plan.label}] {o.name} ({o.address or 'no address'}): {o.reason}"
            for result in results for o in result.failed
        ])  # fmt: skip
        _listed(emit, "Invalid devices", [
            f"[{result.plan.label}] {o.name} ({o.address or 'no address'}): {invalid_text(o)}"
            for result in results for o in result.invalid
        ])  # fmt: skip
        _listed(emit, "Warnings", [f"[{r.plan.label}] {warning}" for r in results for warning in r.warnings])


def _listed(emit: Callable[..., None], title: str, items: Sequence[str]) -> None:
    """A SUMMARY list: a blank line, ``title (N):`` and one ``  - item`` line each; nothing when empty."""
    if items:
        emit()
        emit(f"{title} ({len(items)}):")
        for item in items:
            emit(f"  - {item}")


def _counts(succeeded: Sequence[object], failed: Sequence[object], invalid: Sequence[object]) -> str:
    """``3 success, 1 failed`` (``, 2 invalid`` only when some are)."""
    text = f"{len(succeeded)} success, {len(failed)} failed"
    return text + (f", {len(invalid)} invalid" if invalid else "")


def _relative(path: Path, directory: Path | None) -> Path:
    """``path`` from ``directory`` when it is inside (a capture's usual place: directly in it)."""
    if directory is None:
        return path
    if path.parent == directory:
        return Path(path.name)
    try:
        return path.relative_to(directory)
    except ValueError:
        return path


def invalid_text(outcome: DeviceOutcome) -> str:
    """``invalid: 0 records from template cisco_ios_show_version (min_score 1); not saved``,
    with what became of the output (kept under .invalid/, saved by --force-save)."""
    text = f"invalid: {outcome.invalid}"
    if outcome.capture_path is not None:
        return text + "; saved anyway (--force-save)"
    if outcome.target is None:
        return text  # --no-save: nothing is saved anyway
    text += "; not saved"
    if outcome.invalid_path is not None:
        kept = _relative(outcome.invalid_path, outcome.target.parent)
        text += f", output kept in {kept}"
    return text


def _change_counts(results: Sequence[JobResult]) -> str | None:
    kinds = [outcome.change for result in results for outcome in result.outcomes if outcome.change]
    if not kinds:
        return None
    return f"{kinds.count('changed')} changed, {kinds.count('unchanged')} unchanged, {kinds.count('new')} new"


def _changed(results: Sequence[JobResult]) -> list[tuple[str, DeviceOutcome]]:
    return [
        (result.plan.label, outcome)
        for result in results
        for outcome in result.outcomes
        if outcome.change == "changed"
    ]


def _excluded(plan: JobPlan) -> str:
    """``5 devices the other filters matched (cisco_nxos: 4, unknown: 1)``."""
    counts = plan.excluded_by_platform
    shown = ", ".join(f"{platform}: {count}" for platform, count in counts.items())
    return f"{_plural(sum(counts.values()), 'device')} the other filters matched ({shown})"


def _filters(job: Job) -> list[tuple[str, str]]:
    labels = {
        "vendor": "Vendor filter",
        "site": "Site filter",
        "role": "Role filter",
        "name_pattern": "Name pattern",
        "platform": "Platform filter",
    }
    items = job.device_filter.spec().items()
    if not items:
        return [("Device filter", "none (all devices)")]
    return [(labels[key], value) for key, value in items]
