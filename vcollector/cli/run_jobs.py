"""``run_jobs_concurrent``: many job files in parallel, one vault unlock, one summary."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Annotated

import typer

from vcollector.cli import common, head_start, runs
from vcollector.errors import InventoryError, VCollectorError
from vcollector.jobs.model import load_job
from vcollector.jobs.sets import expand_job_paths
from vcollector.run.plan import JobPlan, capture_clashes, plan_job
from vcollector.run.retry import restrict
from vcollector.run.spec import RunSpec, run_timestamp
from vcollector.transport.limits import DEFAULT_SESSIONS_PER_DEVICE
from vcollector.ui.console import Reporter


def run_jobs_concurrent(
    jobs: Annotated[
        list[str] | None,
        typer.Option(
            "--jobs",
            help="Job file(s) to run (space-separated; glob patterns supported).",
            show_default=False,
        ),
    ] = None,
    jobs_dir: Annotated[
        Path | None, typer.Option("--jobs-dir", help="Directory of job files (runs all *.json, sorted).")
    ] = None,
    credential: common.CredentialOption = None,
    vault_pass: common.VaultPassOption = None,
    max_concurrent_jobs: Annotated[
        int, typer.Option("--max-concurrent-jobs", min=1, help="Max jobs to run in parallel.")
    ] = 4,
    max_sessions_per_device: Annotated[
        int,
        typer.Option(
            "--max-sessions-per-device",
            min=1,
            help="Max simultaneous SSH sessions to one device across all running jobs.",
        ),
    ] = DEFAULT_SESSIONS_PER_DEVICE,
    max_sessions: Annotated[
        int | None, typer.Option("--max-sessions", min=1, help="Max simultaneous SSH sessions overall.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show jobs and device counts without executing.")
    ] = False,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Limit devices per job.")] = None,
    debug: common.DebugOption = False,
    no_save: common.NoSaveOption = False,
    yes: common.YesOption = False,
    quiet: common.QuietOption = False,
    db: common.DbOption = None,
    output_dir: common.OutputDirOption = None,
    vault: common.VaultPathOption = None,
    retries: common.RetriesOption = 0,
    json_path: common.JsonOption = None,
    strict_host_keys: common.StrictHostKeysOption = False,
    processes: common.ProcessesOption = None,
    max_output_mb: common.MaxOutputOption = None,
    no_history: common.NoHistoryOption = False,
    scrub_secrets: common.ScrubSecretsOption = False,
    max_auth_attempts: common.MaxAuthAttemptsOption = None,
    jump_host: common.JumpHostOption = None,
    jump_credential: common.JumpCredentialOption = None,
    max_sessions_per_jump_host: common.MaxSessionsPerJumpOption = None,
    broker: common.BrokerOption = None,
    report: common.ReportOption = None,
    retry_failed: common.RetryFailedOption = None,
    force_save: common.ForceSaveOption = False,
    shared_sessions: Annotated[
        bool,
        typer.Option(
            "--shared-sessions/--no-shared-sessions",
            help="Log in to a device once for all the jobs that select it (default), or once per job.",
        ),
    ] = True,
) -> None:
    """Run many v2.0 job files in parallel, each with its own device pool."""
    common.configure_output()
    common.setup_logging(debug)
    common.warn_command_line_password(vault_pass)
    if retry_failed is not None and (jobs or jobs_dir is not None):
        raise typer.BadParameter("--retry-failed takes its jobs from the results file", param_hint="--jobs")
    if not jobs and jobs_dir is None and retry_failed is None:
        raise typer.BadParameter(
            "give job files with --jobs or a directory with --jobs-dir", param_hint="--jobs"
        )
    retry = runs.load_retry(retry_failed) if retry_failed is not None else None
    if retry is not None and not retry.jobs:
        runs.nothing_to_retry(retry)
    results_file = runs.ResultsFile(
        None if dry_run else json_path, "run_jobs_concurrent", None if dry_run else report
    )
    if not dry_run:
        head_start.begin_vault_unlock(vault, vault_pass)  # begun already under python -m
    reporter = Reporter(quiet=quiet)
    timestamp = run_timestamp()
    options = runs.RunOptions(
        credential=credential,
        vault=vault,
        db=db,
        output_dir=output_dir,
        limit=limit,
        no_save=no_save,
        retries=retries,
        strict_host_keys=strict_host_keys,
        processes=processes,
        max_output_mb=max_output_mb,
        no_history=no_history,
        scrub_secrets=scrub_secrets,
        max_auth_attempts=max_auth_attempts,
        jump_host=jump_host,
        jump_credential=jump_credential,
        max_sessions_per_jump_host=max_sessions_per_jump_host,
        broker=broker,
        force_save=force_save,
    )
    given = options.given_credentials
    try:
        paths = [entry.file for entry in retry.jobs] if retry else expand_job_paths(jobs or [], jobs_dir)
        spec = options.spec(
            sessions_per_device=max_sessions_per_device,
            max_sessions=max_sessions,
            shared_sessions=shared_sessions,
            max_concurrent_jobs=max_concurrent_jobs,
        )
        plans = [_plan(path, spec, timestamp, given, dry_run) for path in paths]
    except VCollectorError as exc:
        common.fail(str(exc))
    if retry is not None:
        plans = [
            restrict(plan, entry) if plan.job else plan for plan, entry in zip(plans, retry.jobs, strict=True)
        ]
        done = ", ".join(f"{entry.label}: {entry.describe}" for entry in retry.jobs)
        reporter.line(f"Retrying what failed in {retry_failed}: {done}")
    # Quiet runs (cron) still print the job list when nothing will run, so errors show.
    overview = Reporter(quiet=quiet and not dry_run)
    overview.jobs_overview(plans, max_concurrent_jobs)
    for clash in capture_clashes(plans):
        reporter.line(
            f"Warning: jobs {', '.join(clash.jobs)} would write the same {clash.files} capture file(s) "
            f"(e.g. {clash.example}); job {clash.jobs[0]} writes them, the others fail for those devices "
            "(add device_filter.platform to separate the jobs).",
            always=True,
        )
    if dry_run:
        return
    runnable = [plan for plan in plans if plan.runnable]
    if not runnable:
        common.fail("no job has devices to run against")
    reporter.line()
    runs.check_broker(spec)
    common.confirm(f"Run {len(plans)} jobs?", yes)
    runs.prefetch_runner()
    first = next(plan.job for plan in runnable if plan.job)
    reach = options.reach()
    credentials = runs.unlock(
        plans, reach, options.vault_path, vault_pass, first.credentials.fallback_env, spec.broker
    )
    if debug:
        spec = dataclasses.replace(spec, debug_dir=common.debug_log_dir(timestamp))
    reporter.line("=" * 60)
    started = time.monotonic()
    shown = runs.observers(reporter, devices=False, jobs=True, quiet=quiet)
    results, problems = runs.execute(
        plans, spec, reach, credentials, reporter, results_file, shown, f"{timestamp} (run_jobs_concurrent)"
    )
    reporter.summary(results, time.monotonic() - started, saving=spec.save)
    runs.finish(results, problems, results_file)


def _plan(path: Path, spec: RunSpec, timestamp: str, given: list[str], dry_run: bool) -> JobPlan:
    """Plan one job; a job that fails to load becomes a failed plan, an unreadable
    assets.db stops the run (it would fail every job the same way)."""
    try:
        job = load_job(path)
        return plan_job(job, spec, timestamp, common.job_credentials(job, given), explain_platforms=dry_run)
    except InventoryError:
        raise
    except VCollectorError as exc:
        return JobPlan(source=path, job=None, error=str(exc))


app = typer.Typer(add_completion=False, pretty_exceptions_show_locals=False, rich_markup_mode=None)
app.command(help=run_jobs_concurrent.__doc__)(run_jobs_concurrent)


def spread_multi_value_options(argv: list[str], options: tuple[str, ...] = ("--jobs",)) -> list[str]:
    """Accept ``--jobs a.json b.json`` (as the seed documents) by repeating the option per value."""
    result: list[str] = []
    current: str | None = None
    for arg in argv:
        if arg in options:
            current = arg
            continue
        if current and not arg.startswith("-"):
            result.extend([current, arg])
            continue
        current = None
        result.append(arg)
    return result


def main() -> None:
    """Entry point of ``python -m vcollector.run_jobs_concurrent``."""
    import sys

    common.run_and_exit(
        app, "python -m vcollector.run_jobs_concurrent", spread_multi_value_options(sys.argv[1:])
    )
