"""The worker side of a distributed run: one Celery task per device, run with this machine's vault.

A task carries the device, its jobs' commands and the *names* of the credential sets; the
worker resolves them in its own vault, logs in once (credential chain, jump host, host key
checks against its own known_hosts), runs every step and sends the cleaned outputs back to
the run's reply queue. It writes no capture: the coordinator does.

A payload that does not fit :class:`TaskMessage`, a command that would change a device
(unless its job allows changes), or a credential set missing from this vault is refused:
the reply says why and nothing is contacted. A run cancelled by its coordinator
(the ``vcollector_cancel_run`` control command) stops its devices between commands, as Ctrl-C does locally.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from celery import Celery
from celery.utils.collections import LimitedSet
from celery.worker.control import control_command
from pydantic import ValidationError

from vcollector.cancellation import Cancellation
from vcollector.collection.outcome import DeviceOutcome
from vcollector.collection.tasks import JobStep
from vcollector.credentials.store import CredentialSource
from vcollector.errors import VCollectorError
from vcollector.inventory.records import DeviceRecord
from vcollector.jobs.commands import changing_reason
from vcollector.run.backends.celery_app import TASK_NAME, make_app, reply_queue_named
from vcollector.run.backends.celery_messages import (
    REPLY_TO_PATTERN,
    Reply,
    SpanMessage,
    StepResult,
    TaskMessage,
)
from vcollector.run.backends.local import run_nornir
from vcollector.run.work import WorkItem
from vcollector.transport.credentials import private_key
from vcollector.transport.host_keys import KnownHosts
from vcollector.transport.jump import JumpHosts
from vcollector.transport.jump_spec import JumpSpec
from vcollector.transport.limits import DEFAULT_SESSIONS_PER_DEVICE, SessionLimiter
from vcollector.transport.session import SessionOptions

log = logging.getLogger("vcollector.worker")
Publish = Callable[[str, Reply], None]
_runtime: WorkerRuntime | None = None  # the one this process serves (for the cancel command)


class WorkerRuntime:
    """What every task of this worker shares: its vault, host keys, bastions, session limits."""

    def __init__(
        self,
        credentials: CredentialSource,
        name: str,
        known_hosts: Path | None = None,
        max_sessions_per_jump_host: int = 20,
    ) -> None:
        self.credentials = credentials
        self.name = name
        self.known_hosts = known_hosts
        self.max_sessions_per_jump_host = max_sessions_per_jump_host
        self.limiter = SessionLimiter(DEFAULT_SESSIONS_PER_DEVICE, None)
        self._lock = threading.Lock()
        self._host_keys: dict[bool, KnownHosts] = {}
        self._jumps: dict[bool | None, JumpHosts] = {}
        self._running: dict[str, set[Cancellation]] = {}
        self.cancelled = LimitedSet(maxlen=10_000, expires=24 * 3600)

    def host_keys(self, strict: bool) -> KnownHosts:
        """This worker's known_hosts, checked as the run asks (read once; fails closed)."""
        with self._lock:
            keys = self._host_keys.get(strict)
            if keys is None:
                keys = KnownHosts(self.known_hosts, strict=strict)
                keys.load()
                self._host_keys[strict] = keys
            return keys

    def jumps(self, host_keys: KnownHosts | None) -> JumpHosts:
        """The bastion sessions of tasks with these host key checks (one login per bastion)."""
        key = None if host_keys is None else host_keys.strict
        with self._lock:
            jumps = self._jumps.get(key)
            if jumps is None:
                jumps = JumpHosts(self.credentials, host_keys, self.max_sessions_per_jump_host)
                self._jumps[key] = jumps
            return jumps

    def cancel_run(self, run_id: str) -> int:
        """Stop ``run_id``'s devices here (running ones between commands); how many were running."""
        with self._lock:
            self.cancelled.add(run_id)
            running = list(self._running.get(run_id, ()))
        for cancellation in running:
            cancellation.cancel()
        return len(running)

    def _track(self, run_id: str, cancellation: Cancellation, add: bool) -> None:
        with self._lock:
            if add:
                self._running.setdefault(run_id, set()).add(cancellation)
                if run_id in self.cancelled:
                    cancellation.cancel()
            else:
                running = self._running.get(run_id, set())
                running.discard(cancellation)
                if not running:
                    self._running.pop(run_id, None)

    def refusal(self, message: TaskMessage) -> str | None:
        """Why this worker will not run ``message`` (None: it will)."""
        for step in message.steps:
            if step.allow_changes:
                continue
            for command in step.commands:
                reason = changing_reason(command)
                if reason:
                    return f"{command!r} would change the device ({reason}); this worker is read-only"
        names = list(message.credentials)
        if message.jump is not None and message.jump.credential:
            names.append(message.jump.credential)
        try:
            for name in names:
                private_key(self.credentials.get(name))
        except VCollectorError as exc:
            return f"{exc} (in the vault of worker {self.name})"
        return None

    def collect(self, message: TaskMessage) -> list[StepResult]:
        """Log in to the device once and run every step; never raises."""
        cancellation = Cancellation()
        self._track(message.run_id, cancellation, add=True)
        outcomes: list[DeviceOutcome] = []
        try:
            host_keys = self.host_keys(message.strict_host_keys) if message.check_host_keys else None
            options = SessionOptions(
                retries=message.retries,
                limiter=self.limiter,
                cancellation=cancellation,
                host_keys=host_keys,
                jumps=self.jumps(host_keys),
            )
            run_nornir(
                [_item(message)], 1, outcomes.append, options, self.credentials, message.max_auth_attempts
            )
        except VCollectorError as exc:  # known_hosts unreadable: nothing was contacted
            return [_failed(step.plan_index, str(exc), "capture") for step in message.steps]
        finally:
            self._track(message.run_id, cancellation, add=False)
            self.save_host_keys()
        return [_result(outcome) for outcome in outcomes]

    def save_host_keys(self) -> None:
        """Record the host keys first seen by this worker's tasks."""
        with self._lock:
            stores = list(self._host_keys.values())
        for keys in stores:
            try:
                keys.save()
            except VCollectorError as exc:
                log.warning("%s", exc)

    def close(self) -> None:
        """Close the bastion sessions and record the host keys learnt."""
        with self._lock:
            jumps = list(self._jumps.values())
        for each in jumps:
            each.close()
        self.save_host_keys()


def _item(message: TaskMessage) -> WorkItem:
    device = DeviceRecord(**message.device.model_dump())
    steps = tuple(
        JobStep(
            plan_index=step.plan_index,
            commands=tuple(step.commands),
            timeout=step.timeout,
            inter_command_time=step.inter_command_time,
            path=None,
            max_output_bytes=step.max_output_bytes,
            scrub=step.scrub,
        )
        for step in message.steps
    )
    jump = JumpSpec(**message.jump.model_dump()) if message.jump is not None else None
    return WorkItem(message.host, device, tuple(message.credentials), steps, jump)


def _time(value: datetime) -> str:
    return value.isoformat()


def _result(outcome: DeviceOutcome) -> StepResult:
    return StepResult(
        plan_index=outcome.plan_index,
        ok=outcome.ok,
        reason=outcome.reason,
        failure=outcome.failure,
        started=_time(outcome.started),
        ended=_time(outcome.ended),
        output=outcome.output,
        platform=outcome.platform,
        credential=outcome.credential,
        credentials_tried=list(outcome.credentials_tried),
        spans=[SpanMessage(command=command, start=start, end=end) for command, start, end in outcome.spans],
    )


def _failed(plan_index: int, reason: str, failure: str) -> StepResult:
    now = _time(datetime.now().astimezone())
    return StepResult(
        plan_index=plan_index,
        ok=False,
        reason=reason,
        failure=failure,
        started=now,
        ended=now,
        output=None,
        platform=None,
        credential=None,
        credentials_tried=[],
    )


def _summary(error: ValidationError) -> str:
    problems = [
        f"{'.'.join(str(part) for part in item['loc']) or 'task'}: {item['msg']}" for item in error.errors()
    ]
    shown = "; ".join(problems[:3]) + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else "")
    return f"invalid task: {shown}"


def handle(runtime: WorkerRuntime, publish: Publish, task_id: str, payload: Any) -> str:
    """Run one task: validate it, refuse it or collect the device; the reply goes to ``publish``.

    Returns what became of it (``refused``, ``cancelled``, ``done``), for the worker's log.
    """
    try:
        message = TaskMessage.model_validate(payload)
    except ValidationError as exc:
        reply_to = payload.get("reply_to") if isinstance(payload, dict) else None
        reason = _summary(exc)
        log.warning("task %s refused: %s", task_id, reason)
        if isinstance(reply_to, str) and _valid_reply_to(reply_to):
            publish(reply_to, Reply(kind="refused", task_id=task_id, worker=runtime.name, reason=reason))
        return "refused"
    refusal = runtime.refusal(message)
    if refusal:
        log.warning("task %s refused: %s", task_id, refusal)
        publish(message.reply_to, Reply(kind="refused", task_id=task_id, worker=runtime.name, reason=refusal))
        return "refused"
    if message.run_id in runtime.cancelled:
        results = [_failed(step.plan_index, "interrupted", "interrupted") for step in message.steps]
        publish(message.reply_to, Reply(kind="done", task_id=task_id, worker=runtime.name, results=results))
        return "cancelled"
    publish(message.reply_to, Reply(kind="started", task_id=task_id, worker=runtime.name))
    results = runtime.collect(message)
    publish(message.reply_to, Reply(kind="done", task_id=task_id, worker=runtime.name, results=results))
    return "done"


def _valid_reply_to(name: str) -> bool:
    return re.match(REPLY_TO_PATTERN, name) is not None


# Above this, a reply is compressed (configs compress ~10x; brokers cap message sizes).
COMPRESS_ABOVE = 256 * 1024


def publisher(app: Celery) -> Publish:
    """Publish replies through the app's producer pool (kombu connections are per thread)."""

    def publish(reply_to: str, reply: Reply) -> None:
        body = reply.model_dump(mode="json")
        size = sum(len(result.output or "") for result in reply.results)
        with app.producer_or_acquire() as producer:
            producer.publish(
                body,
                exchange="",
                routing_key=reply_to,
                serializer="json",
                compression="zlib" if size > COMPRESS_ABOVE else None,
                declare=[reply_queue_named(reply_to)],
                retry=True,
                retry_policy={"max_retries": 5, "interval_start": 0.5, "interval_step": 1, "interval_max": 3},
            )

    return publish


def worker_app(broker_url: str, runtime: WorkerRuntime) -> Celery:
    """The Celery app of a worker, with the device task bound to ``runtime``."""
    global _runtime
    _runtime = runtime
    app = make_app(broker_url)
    publish = publisher(app)

    @app.task(name=TASK_NAME, bind=True, ignore_result=True)  # type: ignore[untyped-decorator]
    def collect_device(self: Any, *args: Any, **kwargs: Any) -> str:
        payload = kwargs.get("task") if not args and set(kwargs) == {"task"} else {"args": args, **kwargs}
        return handle(runtime, publish, str(self.request.id), payload)

    return app


@control_command(args=[("run_id", str)], signature="<run_id>")  # type: ignore[untyped-decorator]
def vcollector_cancel_run(state: Any, run_id: str) -> dict[str, str]:
    """Remote control: stop a run's devices on this worker (its coordinator was interrupted)."""
    running = _runtime.cancel_run(str(run_id)) if _runtime is not None else 0
    return {"ok": f"run {run_id} cancelled ({running} running)"}
