"""The coordinator of a distributed run: each device's task goes to a Celery worker, files stay here.

One task per work item (a device with every job that selects it) goes to the queue of the
device's site when a worker serves it, else to the default queue; a device no worker can
take fails at once. Replies come back on the run's own queue and are acknowledged only once
the device's captures are written here, by the same store as a local run. The loop ticks
every second, so nothing waits unbounded:

* a device whose worker reported it started has the time its commands may take;
* a worker that stops answering the broker's roll call has its devices wait for the broker
  to hand them to another worker (at once on RabbitMQ, after the visibility timeout on Redis);
* devices whose queue lost its last worker fail after a short grace;
* a lost broker connection is retried briefly, then fails the devices in flight.

A redelivered task keeps its id: the first reply counts, later ones are dropped.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from kombu.connection import Connection
from kombu.exceptions import OperationalError
from kombu.message import Message

from vcollector.collection.outcome import DeviceOutcome
from vcollector.collection.tasks import JobStep, StepReport
from vcollector.run.backends.celery_app import (
    CANCEL_COMMAND,
    TASK_NAME,
    default_queue,
    make_app,
    one_line_reason,
    redelivery_seconds,
    reply_queue,
    safe_url,
    served_queues,
    site_queue,
    task_queue,
)
from vcollector.run.backends.celery_messages import Reply, StepResult, task_payload
from vcollector.run.context import RunContext
from vcollector.run.work import WorkItem

ROLL_CALL_SECONDS = 5.0  # how often the workers' queues are asked for during a run
GRACE_SECONDS = float(os.environ.get("VCOLLECTOR_WORKER_GRACE", 15))  # missed roll calls tolerated
QUEUE_HOURS = 12  # a task no worker started by then is dropped (and its device failed)
RECONNECT_ATTEMPTS = 3
LAST_REPLIES_SECONDS = 3.0  # interrupted: how long the devices stopped mid-command may take to say so
log = logging.getLogger("vcollector.coordinator")


def _where(queue: str, site: str | None) -> str:
    return f"site {site}" if site and queue != default_queue() else "the default queue"


@dataclass
class _Task:
    id: str
    item: WorkItem
    queue: str
    where: str
    expires: float
    started: float | None = None
    worker: str | None = None
    allowed: float = 0.0  # once started: the seconds its commands may take
    lost: float | None = None  # its worker stopped answering then; back with the broker


def _bound(item: WorkItem, retries: int, attempts: int) -> float:
    """The longest a device's task can take on a healthy worker, plus a margin."""
    login = max(step.timeout for step in item.steps)
    commands = sum(len(step.commands) * (step.timeout + step.inter_command_time) for step in item.steps)
    return (retries + 1) * attempts * login + commands + 30


class Coordinator:
    """One distributed run of ``items``; each step's outcome goes to ``report`` once stored."""

    def __init__(
        self,
        items: Sequence[WorkItem],
        context: RunContext,
        report: StepReport,
        allow_changes: Mapping[int, bool],
    ) -> None:
        self.items = list(items)
        self.context = context
        self.report = report
        self.allow_changes = allow_changes
        self.url = context.spec.broker or ""
        self.app = make_app(self.url)
        self.run_id = uuid.uuid4().hex
        self.replies = reply_queue(self.run_id)
        self.pending: dict[str, _Task] = {}
        self._lock = threading.Lock()
        self._served: dict[str, set[str]] = {}
        self._unserved_since: dict[str, float] = {}
        self._seen_workers: dict[str, float] = {}
        self._stop = threading.Event()
        self._unsent = deque(self.items)
        self._broker_lost = False
        self._draining = False
        self._broker_errors: tuple[type[BaseException], ...] = ()

    # -- outcomes -------------------------------------------------------------------------

    def _fail(self, item: WorkItem, reason: str, kind: str, worker: str | None = None) -> None:
        now = datetime.now(timezone.utc)
        for step in item.steps:
            self._emit(item, step, DeviceOutcome(
                name=item.device.name, address=item.device.address, device_id=item.device.id,
                ok=False, reason=reason, failure=kind, started=now, ended=now, worker=worker,
            ))  # fmt: skip

    def _emit(self, item: WorkItem, step: JobStep, outcome: DeviceOutcome) -> None:
        outcome.plan_index = step.plan_index
        outcome.target = step.path
        outcome.history = step.history
        outcome.validation = step.validation
        outcome.platform = outcome.platform or item.device.platform
        self.report(self.context.store(outcome))

    def _done(self, task: _Task, worker: str, results: Sequence[StepResult]) -> None:
        by_index = {result.plan_index: result for result in results}
        for step in task.item.steps:
            result = by_index.get(step.plan_index)
            if result is None:
                self._fail_step(task.item, step, f"worker {worker} returned no result for this job", worker)
                continue
            device = task.item.device
            self._emit(task.item, step, DeviceOutcome(
                name=device.name, address=device.address, device_id=device.id, ok=result.ok,
                reason=result.reason, failure=result.failure,
                started=datetime.fromisoformat(result.started), ended=datetime.fromisoformat(result.ended),
                output=result.output, platform=result.platform, credential=result.credential,
                credentials_tried=tuple(result.credentials_tried), worker=worker,
                spans=tuple((span.command, span.start, span.end) for span in result.spans),
            ))  # fmt: skip

    def _fail_step(self, item: WorkItem, step: JobStep, reason: str, worker: str) -> None:
        now = datetime.now(timezone.utc)
        device = item.device
        self._emit(item, step, DeviceOutcome(
            name=device.name, address=device.address, device_id=device.id, ok=False,
            reason=reason, failure="worker", started=now, ended=now, worker=worker,
        ))  # fmt: skip

    def _close(self, task: _Task, reason: str, kind: str) -> None:
        """Fail an outstanding task's device, and make sure no worker starts it later."""
        if self.pending.pop(task.id, None) is None:
            return
        self._fail(task.item, reason, kind, task.worker)
        self._revoke([task.id])

    # -- the broker -----------------------------------------------------------------------

    def _control(self, command: Callable[[Connection], object]) -> None:
        """Revoke, cancel or clean up over a connection of its own; skipped within seconds
        when the broker does not answer (kombu alone would retry for minutes): the tasks
        expire, the reply queue too."""
        try:
            with self.app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=3)
                command(connection)
        except Exception as exc:
            log.debug("broker control skipped: %s", one_line_reason(exc))

    def _revoke(self, ids: Sequence[str]) -> None:
        if ids and not self._broker_lost:
            self._control(
                lambda connection: self.app.control.revoke(list(ids), reply=False, connection=connection)
            )

    def _route(self, served: Mapping[str, set[str]], item: WorkItem) -> tuple[str, str] | None:
        site = (item.device.site or "").strip()
        if site and served.get(site_queue(site)):
            return site_queue(site), f"site {site}"
        if served.get(default_queue()):
            return default_queue(), _where(default_queue(), site)
        return None

    def _discover(self) -> dict[str, set[str]]:
        served = served_queues(self.app)
        if any(self._route(served, item) is None for item in self.items):
            # Roll calls are best-effort (a worker busy reconnecting misses one): ask again
            # before failing devices for want of a worker.
            for queue, workers in served_queues(self.app, timeout=2.0).items():
                served.setdefault(queue, set()).update(workers)
        return served

    def _send(self, connection: Connection, served: Mapping[str, set[str]]) -> None:
        now = time.monotonic()
        with self.app.producer_or_acquire() as producer:
            while self._unsent:
                if self.context.cancellation.cancelled:
                    return
                item = self._unsent.popleft()
                route = self._route(served, item)
                if route is None:
                    site = (item.device.site or "").strip()
                    where = f"site {site}" if site else "the default queue"
                    self._fail(item, f"no vcollector worker serves {where}", "worker")
                    continue
                queue, where = route
                task = _Task(uuid.uuid4().hex, item, queue, where, now + QUEUE_HOURS * 3600)
                self.pending[task.id] = task
                try:
                    self.app.send_task(
                        TASK_NAME,
                        kwargs={
                            "task": task_payload(
                                item, self.context.spec, self.allow_changes, self.run_id, self.replies.name
                            )
                        },
                        queue=task_queue(queue),
                        task_id=task.id,
                        expires=QUEUE_HOURS * 3600,
                        argsrepr="()",
                        kwargsrepr=f"{{device: {item.device.id}}}",
                        producer=producer,
                    )
                except Exception as exc:
                    self._close(
                        task, f"cannot send the device's task to the broker: {one_line_reason(exc)}", "broker"
                    )

    def _on_reply(self, body: Any, message: Message) -> None:
        try:
            reply = Reply.model_validate(body)
        except Exception:
            message.ack()  # not ours to read; nothing in it can be trusted
            return
        task = self.pending.get(reply.task_id)
        if task is not None and self._draining:
            if reply.kind != "started":
                del self.pending[task.id]
        elif task is not None:
            if reply.kind == "started":
                task.started, task.worker, task.lost = time.monotonic(), reply.worker, None
                spec = self.context.spec
                task.allowed = _bound(task.item, spec.retries, spec.max_auth_attempts)
            elif reply.kind == "refused":
                del self.pending[task.id]
                self._fail(
                    task.item, f"refused by worker {reply.worker}: {reply.reason}", "worker", reply.worker
                )
            else:
                del self.pending[task.id]
                self._done(task, reply.worker, reply.results)
        message.ack()  # after the files are written: a crash before here redelivers the reply

    # -- the run --------------------------------------------------------------------------

    def _roll_call(self) -> None:
        while not self._stop.wait(ROLL_CALL_SECONDS):
            try:
                served = served_queues(self.app)
            except Exception as exc:  # the consumer loop notices a broker that is gone
                log.debug("roll call failed: %s", one_line_reason(exc))
                continue
            now = time.monotonic()
            with self._lock:
                self._served = served
                for workers in served.values():
                    for worker in workers:
                        self._seen_workers[worker] = now
                for queue in {task.queue for task in self.pending.values()}:
                    if served.get(queue):
                        self._unserved_since.pop(queue, None)
                    else:
                        self._unserved_since.setdefault(queue, now)

    def _check(self) -> None:
        now = time.monotonic()
        with self._lock:
            unserved = dict(self._unserved_since)
            seen = dict(self._seen_workers)
        for task in list(self.pending.values()):
            reason = self._overdue(task, now, unserved.get(task.queue), seen)
            if reason:
                self._close(task, reason, "worker")

    def _overdue(
        self, task: _Task, now: float, unserved: float | None, seen: Mapping[str, float]
    ) -> str | None:
        """Why ``task`` will never report (None: it still may)."""
        waiting = task.started is None or task.lost is not None
        if waiting and unserved is not None and now - unserved > GRACE_SECONDS:
            return f"no vcollector worker serves {task.where} any more"
        if task.worker is not None and task.started is not None:
            last_seen = max(seen.get(task.worker, 0.0), task.started)
            if task.lost is not None and last_seen > task.lost:
                task.lost = None  # it answered after all (it had missed a roll call)
            elif task.lost is None and now - last_seen > GRACE_SECONDS:
                task.lost = now  # gone: the broker hands its device to another worker of the queue
            if task.lost is not None:
                if now - task.lost > redelivery_seconds(self.url):
                    return f"worker {task.worker} was lost and no other worker took the device"
            elif now - task.started > task.allowed:
                return f"no result from worker {task.worker} in {int(task.allowed)} s"
        if task.started is None and now > task.expires:
            return f"no worker of {task.where} started the device in {QUEUE_HOURS} h"
        return None

    def _consume(self, connection: Connection) -> None:
        consumer = connection.Consumer(
            self.replies, callbacks=[self._on_reply], accept=["json"], prefetch_count=50
        )
        with consumer:
            while self.pending and not self.context.cancellation.cancelled:
                with contextlib.suppress(TimeoutError):
                    connection.drain_events(timeout=1.0)
                self._check()
            if self.pending and self.context.cancellation.cancelled:
                self._stop_workers(connection)

    def _stop_workers(self, connection: Connection) -> None:
        """Interrupted: revoke what is queued, stop what runs, and take the last replies (the
        run reports nothing more) so that no reply outlives the run in the broker."""
        self._draining = True
        self._revoke(list(self.pending))
        self._control(lambda control: self.app.control.broadcast(
            CANCEL_COMMAND, arguments={"run_id": self.run_id}, reply=False, connection=control
        ))  # fmt: skip
        deadline = time.monotonic() + LAST_REPLIES_SECONDS
        while any(task.started for task in self.pending.values()) and time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                connection.drain_events(timeout=0.2)

    def run(self) -> None:
        """Send every item, then report each device as its reply arrives (or it fails)."""
        try:
            with self.app.connection_for_write() as connection:
                self._broker_errors = (*connection.connection_errors, *connection.channel_errors)
                connection.ensure_connection(max_retries=1, timeout=5)
                self.replies(connection.default_channel).declare()
                served = self._discover()
                self._served = served
                self._send(connection, served)
                poller = threading.Thread(target=self._roll_call, name="vcollector-roll-call", daemon=True)
                poller.start()
                try:
                    self._run_loop(connection)
                except Exception:
                    self._broker_lost = True
                    raise
                finally:
                    self._stop.set()
                    self._finish()
        except Exception as exc:
            self._broker_lost = True
            if isinstance(exc, (*self._broker_errors, OperationalError, OSError)):
                reason = f"lost the connection to the broker {safe_url(self.url)}: {one_line_reason(exc)}"
            else:
                reason = (
                    f"the distributed run failed: unexpected {type(exc).__name__}: {one_line_reason(exc)}"
                )
            if self.context.cancellation.cancelled:
                return  # the run reports what completed; the rest is interrupted
            for task in list(self.pending.values()):
                self._close(task, reason, "broker")
            while self._unsent:
                self._fail(self._unsent.popleft(), reason, "broker")

    def _run_loop(self, connection: Connection) -> None:
        for attempt in range(RECONNECT_ATTEMPTS + 1):
            try:
                self._consume(connection)
                return
            except connection.connection_errors:
                if attempt == RECONNECT_ATTEMPTS or self.context.cancellation.cancelled:
                    raise
                time.sleep(1)
                connection.ensure_connection(max_retries=2, timeout=5)
                self.replies(connection.default_channel).declare()

    def _finish(self) -> None:
        if not self._broker_lost:
            # A reply later than this (a duplicate) re-creates it, until it expires.
            self._control(lambda connection: self.replies(connection.default_channel).delete())
