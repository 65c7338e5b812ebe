"""``run_job``: one job file, many devices at once, one capture file per device."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer

from vcollector.cli import common, head_start, runs
from vcollector.errors import VCollectorError
from vcollector.jobs.model import load_job
from vcollector.run.plan import plan_job
from vcollector.run.retry import RetryJob, restrict
from vcollector.run.spec import run_timestamp
from vcollector.ui.console import Reporter


def run_job(
    job: Annotated[
        Path | None,
        typer.Option(
            "--job",
            help="Path to a v2.0 job JSON file (with --retry-failed: the results' job).",
            show_default=False,
        ),
    ] = None,
    credential: common.CredentialOption = None,
    vault_pass: common.VaultPassOption = None,
    dry_run: common.DryRunOption = False,
    limit: common.LimitOption = None,
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
) -> None:
    """Run one v2.0 collection job against every matching device in assets.db."""
    common.configure_output()
    common.setup_logging(debug)
    common.warn_command_line_password(vault_pass)
    results_file = runs.ResultsFile(None if dry_run else json_path, "run_job", None if dry_run else report)
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
    retry = _retried(job, retry_failed)
    job_file = retry.file if retry is not None else job or Path()  # _retried asked for one
    try:
        loaded = load_job(job_file)
        spec = options.spec()
        chain = common.job_credentials(loaded, options.given_credentials)
        plan = plan_job(loaded, spec, timestamp, chain, explain_platforms=dry_run)
    except VCollectorError as exc:
        common.fail(str(exc))
    if retry is not None:
        matched = len(plan.devices)
        plan = restrict(plan, retry)
        reporter.line(f"Retrying what failed in {retry_failed}: {retry.describe} of job {plan.label}")
        if not plan.devices and matched:
            common.fail("none of the devices to retry matches the job's filter any more")
    if loaded.unknown_keys():
        common.log.debug("%s: unknown keys ignored: %s", job_file, ", ".join(loaded.unknown_keys()))
    reporter.job_header(plan, list_all=dry_run)
    if dry_run:
        return
    if plan.error:
        common.fail(plan.error)
    if not plan.devices:
        common.fail(f"no devices in {spec.db_path} match the job's filter")
    reporter.line()
    runs.check_broker(spec)
    common.confirm(f"Run job against {len(plan.devices)} devices?", yes)
    runs.prefetch_runner()
    reach = options.reach()
    credentials = runs.unlock(
        [plan], reach, options.vault_path, vault_pass, loaded.credentials.fallback_env, spec.broker
    )
    if debug:
        spec = dataclasses.replace(spec, debug_dir=common.debug_log_dir(timestamp))
    reporter.line()
    reporter.line(f"Executing against {len(plan.devices)} devices...")
    shown = runs.observers(reporter, devices=True, jobs=False, quiet=quiet)
    results, problems = runs.execute(
        [plan], spec, reach, credentials, reporter, results_file, shown, f"{timestamp} (run_job)"
    )
    reporter.line()
    reporter.job_results(results[0], saving=spec.save)
    reporter.changes(results)
    runs.finish(results, problems, results_file)


def _retried(job: Path | None, results: Path | None) -> RetryJob | None:
    """The job entry of ``--retry-failed`` (None without it); stops when there is none."""
    if results is None:
        if job is None:
            raise typer.BadParameter(
                "give a job file with --job (or --retry-failed RESULTS)", param_hint="--job"
            )
        return None
    retry = runs.load_retry(results)
    if job is not None:
        entry = retry.find(job)
        if entry is None and not retry.knows(job):
            common.fail(f"{results} has no results for job file {job}")
        return entry or runs.nothing_to_retry(retry)
    if len(retry.jobs) > 1:
        common.fail(
            f"{results} has {len(retry.jobs)} jobs to retry; pick one with --job, or run them all with "
            "run_jobs_concurrent --retry-failed"
        )
    return retry.jobs[0] if retry.jobs else runs.nothing_to_retry(retry)


app = typer.Typer(add_completion=False, pretty_exceptions_show_locals=False, rich_markup_mode=None)
app.command(help=run_job.__doc__)(run_job)


def main() -> None:
    """Entry point of ``python -m vcollector.run_job``."""
    common.run_and_exit(app, "python -m vcollector.run_job")
