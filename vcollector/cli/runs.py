"""What both runners do once their jobs are planned: unlock, run, report, write, exit.

The results file (``--json``) always tells the truth about the last run: it is checked
writable before anything is contacted, written after a run that failed early (wrong vault
password, missing assets.db) as well as after one that ran, and a failure to write it
fails the run.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NoReturn

import typer

from vcollector.cli import common, head_start
from vcollector.cli.run_options import RunOptions as RunOptions
from vcollector.cli.signals import run_interruptibly
from vcollector.collection.outcome import DeviceOutcome
from vcollector.credentials import password as vault_password
from vcollector.credentials.chain import device_key
from vcollector.credentials.store import CredentialSource
from vcollector.credentials.vault import Vault
from vcollector.errors import Interrupted, ResultsFileError, VCollectorError
from vcollector.run.events import RunObserver
from vcollector.run.history import record_history
from vcollector.run.plan import JobPlan
from vcollector.run.reach import Reach
from vcollector.run.results import JobResult
from vcollector.run.results_json import check_writable, results_document, write_results
from vcollector.run.retry import Retry
from vcollector.run.retry import load_retry as read_retry
from vcollector.run.spec import RunSpec
from vcollector.storage.atomic import remove_stale_partials
from vcollector.transport.jump_spec import JumpSpec
from vcollector.ui.console import Reporter

EXIT_INTERRUPTED = 130


def prefetch_runner() -> None:
    """Import Netmiko, paramiko and Nornir in the background while the vault is unlocked.

    That overlaps with a keyring lookup or a password prompt; a key derived ahead
    (:mod:`vcollector.cli.head_start`) makes the unlock itself instant.
    """
    global _prefetch
    _prefetch = threading.Thread(target=_import_quietly, args=("vcollector.run.execute",), daemon=True)
    _prefetch.start()


_prefetch: threading.Thread | None = None


def _import_quietly(name: str) -> None:
    with contextlib.suppress(Exception):  # the main thread imports it again and reports
        importlib.import_module(name)


def prefetched() -> None:
    """Wait for the background import: two threads importing one package cycle deadlock."""
    if _prefetch is not None:
        _prefetch.join()


class ResultsFile:
    """The ``--json`` file and the ``--report`` page of this run (nothing without a path)."""

    def __init__(self, path: Path | None, tool: str, report: Path | None = None) -> None:
        self.path = path.expanduser() if path else None
        self.report = report.expanduser() if report else None
        self.tool = tool
        self.started = datetime.now(timezone.utc)
        for target, what in ((self.path, "results file"), (self.report, "report")):
            if target is not None:
                try:
                    check_writable(target, what)
                except ResultsFileError as exc:
                    common.fail(str(exc))
        if self.path is not None or self.report is not None:
            common.on_failure(self.failed_early)

    def _write(self, document: dict[str, Any], results: Sequence[JobResult]) -> bool:
        written = True
        try:
            if self.path is not None:
                write_results(self.path, document)
        except ResultsFileError as exc:
            common.echo(f"Error: {exc}", err=True)
            written = False
        if self.report is not None:
            from vcollector.ui.report_html import write_report

            try:
                write_report(self.report, document, results)
            except ResultsFileError as exc:
                common.echo(f"Error: {exc}", err=True)
                written = False
        return written

    def failed_early(self, error: str, interrupted: bool = False) -> None:
        """The run stopped before any job ran: say so, instead of leaving an old file."""
        if self.path is None and self.report is None:
            return
        document = results_document(
            self.tool, [], self.started, datetime.now(timezone.utc), interrupted=interrupted, error=error
        )
        self._write(document, [])

    def write(
        self,
        results: Sequence[JobResult],
        *,
        interrupted: bool = False,
        unstarted: Sequence[JobPlan] = (),
        problems: Sequence[str] = (),
    ) -> bool:
        """Write the run's results (and report); False (with one line on stderr) when that failed."""
        common.clear_failure_hooks()
        if self.path is None and self.report is None:
            return True
        document = results_document(
            self.tool,
            results,
            self.started,
            datetime.now(timezone.utc),
            interrupted=interrupted,
            unstarted=unstarted,
            error="; ".join(problems) or None,
        )
        return self._write(document, results)


def observers(reporter: Reporter, *, devices: bool, jobs: bool, quiet: bool) -> list[RunObserver]:
    """The seed's lines, and the live progress when standard output is a terminal."""
    from vcollector.ui import progress

    shown: list[RunObserver] = [ConsoleLines(reporter, devices=devices, jobs=jobs)]
    if progress.wanted(quiet):
        shown.append(progress.LiveProgress())
    return shown


class ConsoleLines(RunObserver):
    """The seed's progress lines: one per device (run_job) or per job (run_jobs_concurrent)."""

    def __init__(self, reporter: Reporter, *, devices: bool, jobs: bool) -> None:
        self.reporter = reporter
        self.devices = devices
        self.jobs = jobs

    def job_started(self, plan: JobPlan) -> None:
        """``[id] Starting`` lines (run_jobs_concurrent)."""
        if self.jobs:
            self.reporter.job_started(plan)

    def device_done(self, plan: JobPlan, outcome: DeviceOutcome, position: int, total: int) -> None:
        """``[i/N] ✓ address - ms`` lines (run_job)."""
        if self.devices:
            self.reporter.device_done(plan, outcome, position, total)

    def job_done(self, result: JobResult) -> None:
        """``[id] ✓ Complete`` lines (run_jobs_concurrent)."""
        if self.jobs:
            self.reporter.job_finished(result)


def load_retry(path: Path) -> Retry:
    """``--retry-failed``: the results file read, or one error line."""
    try:
        return read_retry(path)
    except VCollectorError as exc:
        common.fail(str(exc))


def nothing_to_retry(retry: Retry) -> NoReturn:
    """Every device of the results file succeeded: say so and stop (exit 0)."""
    common.echo(f"Nothing failed in {retry.source}: nothing to run.")
    raise typer.Exit(0)


def check_broker(spec: RunSpec) -> None:
    """With a broker: reach it now (seconds, one line if not), before anything is asked."""
    if not spec.broker:
        return
    from vcollector.run.backends.celery_app import check_broker as reach_broker

    try:
        reach_broker(spec.broker)
    except VCollectorError as exc:
        common.fail(str(exc))


def unlock(
    plans: Sequence[JobPlan],
    reach: Reach,
    vault_path: Path | None,
    given_password: str | None,
    extra_env: str | None,
    broker: str | None = None,
) -> CredentialSource:
    """Unlock the vault once, check every credential set the run may use, print who we are.

    A set that cannot be used (missing, a key that does not load) stops the run here,
    before any device is contacted. With a broker and no vault here, each worker's own
    vault resolves the names.
    """
    from vcollector.credentials import store

    vault = Vault(vault_path)
    if broker and not vault.path.is_file():
        prefetched()
        return _workers_resolve(plans, reach, broker)
    try:
        if not vault.path.is_file():
            raise VCollectorError(f"vault not found: {vault.path} (create one with: vcollector vault init)")
        password, _source = vault_password.resolve(vault.path, given_password, extra_env=extra_env)
        prefetched()
        from vcollector.transport.credentials import private_key

        source = CredentialSource(store.unlock(vault.path, password))
        for name in reach.names(plans):
            private_key(source.get(name))
        chains = reach.chains(plans)
        jumps = _jump_use(plans, reach)
    except VCollectorError as exc:
        common.fail(str(exc))
    for chain, devices in chains.items():
        sets = ", then ".join(f"{c.name} (user: {c.username})" for c in map(source.get, chain))
        common.echo(f"Using credentials: {sets}" + (f" for {_devices(devices)}" if len(chains) > 1 else ""))
    for spec, devices in jumps.items():
        user = spec.user or source.get(spec.credential).username
        common.echo(f"Using jump host {spec.host}:{spec.port} (user: {user}) for {_devices(devices)}")
    if broker:
        from vcollector.run.backends.celery_app import safe_url

        common.echo(f"Using broker {safe_url(broker)}")
    return source


def _workers_resolve(plans: Sequence[JobPlan], reach: Reach, broker: str) -> CredentialSource:
    from vcollector.run.backends.celery_app import safe_url

    chains = reach.chains(plans)
    for chain, devices in chains.items():
        sets = ", then ".join(chain)
        where = f" for {_devices(devices)}" if len(chains) > 1 else ""
        common.echo(f"Using credentials: {sets} (from each worker's vault){where}")
    for spec, devices in _jump_use(plans, reach).items():
        common.echo(f"Using jump host {spec.host}:{spec.port} for {_devices(devices)}")
    common.echo(f"Using broker {safe_url(broker)}")
    return CredentialSource()


def _devices(count: int) -> str:
    return f"{count} device{'' if count == 1 else 's'}"


def _jump_use(plans: Sequence[JobPlan], reach: Reach) -> dict[JumpSpec, int]:
    used: dict[JumpSpec, int] = {}
    for plan in plans:
        if plan.runnable:
            for device in plan.devices:
                spec = reach.jump(device)
                if spec is not None:
                    used[spec] = used.get(spec, 0) + 1
    return used


def execute(
    plans: Sequence[JobPlan],
    spec: RunSpec,
    reach: Reach,
    credentials: CredentialSource,
    reporter: Reporter,
    results_file: ResultsFile,
    observers: Sequence[RunObserver],
    run_name: str,
) -> tuple[list[JobResult], list[str]]:
    """Run ``plans``, then keep the new versions of what changed; returns the results and the
    run-level problems (known_hosts or history updates that failed).

    On Ctrl-C/SIGTERM: records what completed, reports it, writes the results file, exits 130.
    """
    prefetched()
    head_start.loaded()
    from vcollector.run.context import RunContext
    from vcollector.run.events import RunEvents
    from vcollector.run.execute import execute as execute_plans

    try:
        context = RunContext.create(spec, credentials, reach)
    except VCollectorError as exc:
        common.fail(str(exc))
    remove_stale_partials(plan.target.directory for plan in plans if plan.target is not None)
    started = datetime.now(timezone.utc)
    events = RunEvents(plans, observers)
    try:
        try:
            results = run_interruptibly(lambda: execute_plans(plans, context, events), context.cancellation)
        finally:
            for observer in observers:
                observer.run_finished()  # the live display leaves the terminal first
    except Interrupted:
        results, unstarted = events.partial("interrupted")
        problems = save_host_keys(context) + record_history(results, run_name)
        done = sum(len(result.succeeded) for result in results)
        reporter.line(always=True)
        reporter.line(
            f"Interrupted: stopped; {done} device(s) completed successfully before the stop.", always=True
        )
        seconds = (datetime.now(timezone.utc) - started).total_seconds()
        reporter.summary(results, seconds, saving=spec.save)
        if unstarted:
            reporter.line(f"Not started: {', '.join(plan.label for plan in unstarted)}", always=True)
        results_file.write(results, interrupted=True, unstarted=unstarted, problems=problems)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    return results, save_host_keys(context) + record_history(results, run_name) + remember_logins(
        results, reach
    )


def remember_logins(results: Sequence[JobResult], reach: Reach) -> list[str]:
    """Remember which credential set logged in to which device (names only)."""
    if reach.memory is None:
        return []
    worked: list[tuple[str, str]] = []
    for result in results:
        devices = {device.id: device for device in result.plan.devices}
        for outcome in result.outcomes:
            device = devices.get(outcome.device_id)
            if outcome.credential and device is not None:
                worked.append((device_key(device), outcome.credential))
    reach.memory.learn(worked)
    try:
        reach.memory.save()
    except OSError as exc:
        return [
            f"cannot remember the credential sets that worked ({reach.memory.path}): {exc.strerror or exc}"
        ]
    return []


def save_host_keys(context: object) -> list[str]:
    """Append the run's new host keys; a failure is a problem of the run, not a traceback."""
    host_keys = getattr(context, "host_keys", None)
    if host_keys is None:
        return []
    try:
        host_keys.save()
    except VCollectorError as exc:
        return [f"{exc}; the host keys first seen in this run were not recorded"]
    return []


def finish(results: Sequence[JobResult], problems: Sequence[str], results_file: ResultsFile) -> None:
    """Write the results file, name the run's problems, and exit 0 only when all is well."""
    written = results_file.write(results, problems=problems)
    for problem in problems:
        common.echo(f"Error: {problem}", err=True)
    ok = bool(results) and all(result.ok for result in results) and not problems and written
    raise typer.Exit(0 if ok else 1)
