"""Running planned jobs from a CLI: progress, Ctrl-C/SIGTERM, and the ``--json`` file."""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import threading
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import typer

from vcollector.cli import head_start
from vcollector.cli.signals import run_interruptibly
from vcollector.collection.outcome import DeviceOutcome
from vcollector.credentials.vault import Credential
from vcollector.errors import Interrupted, VCollectorError
from vcollector.run.plan import JobPlan, RunSettings
from vcollector.run.results import JobResult, RunRecorder
from vcollector.run.results_json import results_document, write_results
from vcollector.ui.console import Reporter

EXIT_INTERRUPTED = 130


def prefetch_runner() -> None:
    """Import Netmiko, paramiko and Nornir in the background while the vault is unlocked.

    That overlaps with a keyring lookup or a password prompt; a key derived ahead
    (:mod:`vcollector.cli.head_start`) makes the unlock itself instant.
    """
    threading.Thread(
        target=importlib.import_module, args=("vcollector.run.backends.local",), daemon=True
    ).start()


def run_plans(
    tool: str,
    plans: Sequence[JobPlan],
    credential: Credential,
    settings: RunSettings,
    reporter: Reporter,
    *,
    max_concurrent_jobs: int,
    json_path: Path | None,
    device_lines: bool,
    job_lines: bool,
) -> list[JobResult]:
    """Execute ``plans``; on Ctrl-C/SIGTERM report what completed and exit 130."""
    head_start.loaded()
    recorder = RunRecorder(plans)
    started = datetime.now(timezone.utc)

    def on_start(plan: JobPlan) -> None:
        recorder.job_started(plan)
        if job_lines:
            reporter.job_started(plan)

    def on_device(plan: JobPlan, outcome: DeviceOutcome, index: int, total: int) -> None:
        recorder.device_done(plan, outcome, index, total)
        if device_lines:
            reporter.device_done(plan, outcome, index, total)

    def on_done(result: JobResult) -> None:
        recorder.job_done(result)
        if job_lines:
            reporter.job_finished(result)

    from vcollector.run.backends.local import execute_jobs  # Netmiko and Nornir load only when a run starts

    try:
        results = run_interruptibly(
            lambda: execute_jobs(
                plans, credential, settings, max_concurrent_jobs, on_start, on_device, on_done
            ),
            settings.cancellation,
        )
    except Interrupted:
        if settings.host_keys is not None:
            with contextlib.suppress(VCollectorError):
                settings.host_keys.save()
        results, unstarted = recorder.partial_results("interrupted")
        done = sum(len(result.succeeded) for result in results)
        reporter.line(always=True)
        reporter.line(
            f"Interrupted: stopped; {done} device(s) completed successfully before the stop.", always=True
        )
        reporter.summary(
            results, (datetime.now(timezone.utc) - started).total_seconds(), saving=settings.save
        )
        if unstarted:
            reporter.line(f"Not started: {', '.join(plan.label for plan in unstarted)}", always=True)
        _write_json(json_path, tool, results, started, interrupted=True, unstarted=unstarted)
        sys.stdout.flush()
        sys.stderr.flush()
        # Workers may still sit in a TCP connect; their sockets die with the process.
        os._exit(EXIT_INTERRUPTED)
    _write_json(json_path, tool, results, started)
    return results


def _write_json(
    path: Path | None,
    tool: str,
    results: Sequence[JobResult],
    started: datetime,
    *,
    interrupted: bool = False,
    unstarted: Sequence[JobPlan] = (),
) -> None:
    if path is None:
        return
    document = results_document(
        tool, results, started, datetime.now(timezone.utc), interrupted=interrupted, unstarted=unstarted
    )
    try:
        write_results(path, document)
    except VCollectorError as exc:
        typer.echo(f"Error: {exc}", err=True)
