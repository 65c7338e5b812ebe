"""Execute planned jobs: build the work, pick where it runs, and stream what happens.

By default a run logs in to each device once, whatever the number of jobs that select it
(*shared sessions*): the device's jobs run one after another over that session. With
shared sessions off, each job is its own run (at most ``max_concurrent_jobs`` at once, in
one process, so the per-device session limit sees every session to a device). With a
broker, the sessions run on Celery workers and this process writes the files.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from vcollector.run.backends.local import run_items
from vcollector.run.context import RunContext
from vcollector.run.events import RunEvents
from vcollector.run.plan import JobPlan
from vcollector.run.results import JobResult
from vcollector.run.work import WorkItem, build_work


def pool_size(plans: Sequence[JobPlan], max_concurrent_jobs: int) -> int:
    """Threads for a shared-session run: the pools of the ``max_concurrent_jobs`` largest
    jobs together."""
    sizes = sorted((plan.job.execution.max_workers for plan in plans if plan.job), reverse=True)
    return sum(sizes[: max(1, max_concurrent_jobs)]) or 1


def _run(items: Sequence[WorkItem], context: RunContext, events: RunEvents, workers: int) -> None:
    if not items:
        return
    workers = max(1, min(workers, len(items)))
    processes = context.spec.process_count(len(items), workers)
    if processes > 1:
        from vcollector.run.backends.processes import run_items_in_processes

        run_items_in_processes(items, context, workers, processes, events.device)
    else:
        run_items(items, context, workers, events.device)


def execute(
    plans: Sequence[JobPlan], context: RunContext, events: RunEvents | None = None
) -> list[JobResult]:
    """Run ``plans``, reporting to ``events``; results in plan order.

    The caller keeps ``events`` to report what completed when the run is interrupted.
    """
    events = events or RunEvents(plans)
    events.start()
    spec = context.spec
    # Built for the whole run even when jobs run apart: no two jobs may write one file.
    work = build_work(plans, spec, context.reach)
    for outcome in work.blocked:
        events.device(outcome)
    if spec.broker:
        from vcollector.run.backends.celery_coordinator import Coordinator

        # One task per device whatever the sharing: the workers hold the sessions.
        allow_changes = {
            i: bool(plan.job and plan.job.execution.allow_changes) for i, plan in enumerate(plans)
        }
        Coordinator(work.items, context, events.device, allow_changes).run()
        return events.results()
    if spec.shared_sessions or len(plans) <= 1:
        try:
            _run(work.items, context, events, pool_size(plans, spec.max_concurrent_jobs))
        finally:
            context.jumps.close()
        return events.results()
    single_process = dataclasses.replace(context, spec=dataclasses.replace(spec, processes=1))

    def one(index: int) -> None:
        job = plans[index].job
        items = [
            dataclasses.replace(item, steps=steps)
            for item in work.items
            if (steps := tuple(step for step in item.steps if step.plan_index == index))
        ]
        _run(items, single_process, events, job.execution.max_workers if job else 1)

    try:
        with ThreadPoolExecutor(max(1, spec.max_concurrent_jobs), thread_name_prefix="job") as pool:
            list(pool.map(one, range(len(plans))))
    finally:
        single_process.jumps.close()
    return events.results()
