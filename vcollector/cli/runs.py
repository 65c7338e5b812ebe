"""What both runners do once their jobs are planned: unlock, run, report, write, exit.

The results file (``--json``) always tells the truth about the last run: it is checked
writable before anything is contacted, written after a run that failed early (wrong vault
password, missing assets.db) as well as after one that ran, and a failure to write it
fails the run.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import typer

from vcollector.cli import common, head_start
from vcollector.cli.signals import run_interruptibly
from vcollector.collection.outcome import DeviceOutcome
from vcollector.credentials import password as vault_password
from vcollector.credentials.store import CredentialSource
from vcollector.credentials.vault import Credential, Vault
from vcollector.errors import Interrupted, ResultsFileError, VCollectorError
from vcollector.run.events import RunObserver
from vcollector.run.history import record_history
from vcollector.run.plan import JobPlan
from vcollector.run.results import JobResult
from vcollector.run.results_json import check_writable, results_document, write_results
from vcollector.run.spec import RunSpec
from vcollector.storage.atomic import remove_stale_partials
from vcollector.ui.console import Reporter

EXIT_INTERRUPTED = 130


def prefetch_runner() -> None:
    """Import Netmiko, paramiko and Nornir in the background while the vault is unlocked.

    That overlaps with a keyring lookup or a password prompt; a key derived ahead
    (:mod:`vcollector.cli.head_start`) makes the unlock itself instant.
    """
    threading.Thread(target=importlib.import_module, args=("vcollector.run.execute",), daemon=True).start()


class ResultsFile:
    """The ``--json`` file of this run (nothing when no path was given)."""

    def __init__(self, path: Path | None, tool: str) -> None:
        self.path = path.expanduser() if path else None
        self.tool = tool
        self.started = datetime.now(timezone.utc)
        if self.path is not None:
            try:
                check_writable(self.path)
            except ResultsFileError as exc:
                common.fail(str(exc))
            common.on_failure(self.failed_early)

    def failed_early(self, error: str, interrupted: bool = False) -> None:
        """The run stopped before any job ran: say so, instead of leaving an old file."""
        if self.path is None:
            return
        document = results_document(
            self.tool, [], self.started, datetime.now(timezone.utc), interrupted=interrupted, error=error
        )
        try:
            write_results(self.path, document)
        except ResultsFileError as exc:
            common.echo(f"Error: {exc}", err=True)

    def write(
        self,
        results: Sequence[JobResult],
        *,
        interrupted: bool = False,
        unstarted: Sequence[JobPlan] = (),
        problems: Sequence[str] = (),
    ) -> bool:
        """Write the run's results; False (with one line on stderr) when that failed."""
        common.clear_failure_hooks()
        if self.path is None:
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
        try:
            write_results(self.path, document)
        except ResultsFileError as exc:
            common.echo(f"Error: {exc}", err=True)
            return False
        return True


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


def unlock(
    plans: Sequence[JobPlan], vault_path: Path | None, given_password: str | None, extra_env: str | None
) -> CredentialSource:
    """Unlock the vault once, check every credential the plans name, print who we are.

    A credential that cannot be used (missing, a key that does not load) stops the run
    here, before any device is contacted.
    """
    from vcollector.credentials import store
    from vcollector.transport.credentials import private_key

    vault = Vault(vault_path)
    users: dict[str, list[str]] = {}
    try:
        if not vault.path.is_file():
            raise VCollectorError(f"vault not found: {vault.path} (create one with: vcollector vault init)")
        password, _source = vault_password.resolve(vault.path, given_password, extra_env=extra_env)
        source = CredentialSource(store.unlock(vault.path, password))
        credentials: dict[str, Credential] = {}
        for plan in plans:
            if not plan.runnable:
                continue
            for name in plan.credentials or ("default",):
                credential = source.get(name)
                private_key(credential)
                credentials[credential.name] = credential
                users.setdefault(credential.name, []).append(plan.label)
    except VCollectorError as exc:
        common.fail(str(exc))
    labels = [plan.label for plan in plans if plan.runnable]
    for number, (name, jobs) in enumerate(users.items()):
        credential = credentials[name]
        shown = f"Using credentials: {credential.name} (user: {credential.username})"
        if number and len(jobs) < len(labels):
            shown += f" for job{'s' if len(jobs) > 1 else ''} {', '.join(dict.fromkeys(jobs))}"
        common.echo(shown)
    return source


def execute(
    plans: Sequence[JobPlan],
    spec: RunSpec,
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
    head_start.loaded()
    from vcollector.run.context import RunContext
    from vcollector.run.events import RunEvents
    from vcollector.run.execute import execute as execute_plans

    try:
        context = RunContext.create(spec, credentials)
    except VCollectorError as exc:
        common.fail(str(exc))
    remove_stale_partials(plan.target.directory for plan in plans if plan.target is not None)
    started = datetime.now(timezone.utc)
    events = RunEvents(plans, observers)
    try:
        results = run_interruptibly(lambda: execute_plans(plans, context, events), context.cancellation)
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
    return results, save_host_keys(context) + record_history(results, run_name)


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
