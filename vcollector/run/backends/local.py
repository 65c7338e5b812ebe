"""Threads in this process: one Nornir run of :func:`~vcollector.collection.tasks.collect_jobs`."""

from __future__ import annotations

from collections.abc import Sequence

from nornir.core import Nornir
from nornir.core.configuration import Config
from nornir.plugins.runners import ThreadedRunner

from vcollector.collection.tasks import StepReport, collect_jobs
from vcollector.inventory.plugin import inventory_from_entries
from vcollector.run.context import RunContext
from vcollector.run.work import WorkItem
from vcollector.transport.session import ensure_registered


def run_items(items: Sequence[WorkItem], context: RunContext, workers: int, report: StepReport) -> None:
    """Run ``items`` on ``workers`` threads; every step's outcome goes to ``report``."""
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
        options=context.session_options(),
        report=lambda outcome: report(context.store(outcome)),
        session_log_dir=context.spec.debug_dir,
        credentials=context.credentials,
        max_auth_attempts=context.spec.max_auth_attempts,
    )
