"""Threads in this process: one Nornir run of :func:`~vcollector.collection.tasks.collect_jobs`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from nornir.core import Nornir
from nornir.core.configuration import Config
from nornir.plugins.runners import ThreadedRunner

from vcollector.collection.tasks import StepReport, collect_jobs
from vcollector.credentials.store import CredentialSource
from vcollector.inventory.plugin import inventory_from_entries
from vcollector.run.context import RunContext
from vcollector.run.work import WorkItem
from vcollector.transport.session import SessionOptions, ensure_registered


def run_items(items: Sequence[WorkItem], context: RunContext, workers: int, report: StepReport) -> None:
    """Run ``items`` on ``workers`` threads; every step's outcome goes to ``report``."""
    run_nornir(
        items,
        workers,
        lambda outcome: report(context.store(outcome)),
        context.session_options(),
        context.credentials,
        context.spec.max_auth_attempts,
        context.spec.debug_dir,
    )


def run_nornir(
    items: Sequence[WorkItem],
    workers: int,
    report: StepReport,
    options: SessionOptions,
    credentials: CredentialSource,
    max_auth_attempts: int,
    session_log_dir: Path | None = None,
) -> None:
    """One Nornir run of :func:`collect_jobs` over ``items`` (``report`` gets each step's
    outcome with its output, to store or send on)."""
    if not items:
        return
    ensure_registered()
    inventory = inventory_from_entries([(item.host, item.device, item.device.problem) for item in items])
    for item in items:
        host = inventory.hosts[item.host]
        host.data["credentials"] = item.credentials  # collect_jobs logs in with the chain
        host.data["jump"] = item.jump
    config = Config(logging={"enabled": False})  # type: ignore[arg-type]
    runner = ThreadedRunner(num_workers=max(1, min(workers, len(items))))
    nornir = Nornir(inventory=inventory, config=config, runner=runner)
    # Not ``with Nornir(...)``: its exit runs one more task per host to close connections,
    # which collect_jobs has always closed already (~5 % of a large run's CPU).
    nornir.run(
        task=collect_jobs,
        name="vcollector",
        steps={item.host: item.steps for item in items},
        options=options,
        report=report,
        session_log_dir=session_log_dir,
        credentials=credentials,
        max_auth_attempts=max_auth_attempts,
    )
