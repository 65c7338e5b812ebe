"""Nornir tasks: run a job's commands on one device, and save each job's capture.

``collect_commands`` is reusable from any Nornir script::

    nr.run(task=collect_commands, commands=["show version"], timeout=30)

A host that already has an open Netmiko connection (nornir_netmiko's tasks ran first) is
used as it is. Each command's output is checked: a command the device rejects fails the
device, where Netmiko alone would call it success.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from nornir.core.task import Result, Task

from vcollector.cancellation import Cancellation
from vcollector.collection.commands import collect_outputs, run_commands
from vcollector.collection.debug_log import ScrubbedLog, private_log
from vcollector.collection.login import DEFAULT_MAX_AUTH_ATTEMPTS, Login, login
from vcollector.collection.outcome import DeviceOutcome
from vcollector.collection.output import without_secrets
from vcollector.credentials.store import CredentialSource
from vcollector.errors import DeviceError, DeviceInterrupted, VCollectorError
from vcollector.jobs.commands import is_enable_command
from vcollector.storage.scrub import scrub_secrets
from vcollector.transport import privilege
from vcollector.transport.failures import one_line
from vcollector.transport.host_keys import KnownHosts
from vcollector.transport.limits import SessionLimiter
from vcollector.transport.session import (
    DEFAULT_MAX_OUTPUT_BYTES,
    Session,
    SessionOptions,
    open_session,
)

if TYPE_CHECKING:
    from vcollector.parsing.validation import TfsmValidation


def _prepared(task: Task, session: Session) -> Session:
    # An explicit enable secret (or device_types.requires_enable) means "privileged at login".
    if task.host.data.get("enable_at_login"):
        privilege.enable(session)
    return session


def collect_commands(
    task: Task,
    commands: Sequence[str],
    timeout: float = 60,
    inter_command_time: float = 0,
    retries: int = 0,
    session_limiter: SessionLimiter | None = None,
    session_log: Path | None = None,
    cancellation: Cancellation | None = None,
    host_keys: KnownHosts | None = None,
    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES,
) -> Result:
    """Log in to ``task.host`` and run ``commands``; the result is the cleaned output.

    ``enable`` entries enter privileged mode with the host's enable secret; paging
    commands run but their output is not kept. Raises :class:`DeviceError` with a
    one-line reason on any failure.
    """
    options = SessionOptions(retries, session_limiter, cancellation, host_keys)
    task.host.data["wants_enable"] = any(is_enable_command(command) for command in commands)
    with open_session(task, timeout, options, session_log) as session:
        session = _prepared(task, session)
        output = run_commands(session, commands, timeout, inter_command_time, max_output_bytes)
    return Result(host=task.host, result=output)


@dataclass(frozen=True)
class JobStep:
    """What one job asks of one device: its commands, timing and capture file (None: not saved)."""

    plan_index: int
    commands: tuple[str, ...]
    timeout: float
    inter_command_time: float
    path: Path | None
    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES
    scrub: bool = False  # replace secrets in the output before it is stored (scrub_secrets)
    history: bool = False  # keep a version of the capture when it changed (the store fingerprints it)
    validation: TfsmValidation | None = None  # check the output with TextFSM before it is stored


StepReport = Callable[[DeviceOutcome], None]


def _failure(exc: BaseException) -> tuple[str, str]:
    """One-line reason and kind of a failure."""
    if isinstance(exc, DeviceError):
        return one_line(exc.reason), exc.kind
    if isinstance(exc, VCollectorError):  # capture and known_hosts problems
        return one_line(str(exc)), "capture"
    return one_line(f"unexpected {type(exc).__name__}: {exc}"), "failed"


def _finisher(secrets: Sequence[str], platform: str | None, scrub: bool) -> Callable[[str], str]:
    """What each command's output goes through before it leaves the session: the run's own
    secrets removed, and secrets scrubbed where the job asks."""

    def finish(text: str) -> str:
        text = without_secrets(text, secrets)
        return scrub_secrets(text, platform) if scrub else text

    return finish


def collect_jobs(
    task: Task,
    steps: Mapping[str, Sequence[JobStep]],
    options: SessionOptions,
    report: StepReport | None = None,
    session_log_dir: Path | None = None,
    credentials: CredentialSource | None = None,
    max_auth_attempts: int = DEFAULT_MAX_AUTH_ATTEMPTS,
) -> Result:
    """Run every job step of ``task.host`` over one SSH login.

    With ``credentials``, the host logs in with its chain (``host.data["credentials"]``:
    set names in order; the next only after an authentication failure).

    ``steps`` maps host names to their steps, in job order. Never raises: the result is
    one :class:`DeviceOutcome` per step (each also passed to ``report`` as it finishes),
    carrying the step's output for the store to write. The run's own secrets are removed
    from outputs and reasons, and secrets scrubbed where the job asks, before anything
    leaves this function. A failed login fails every step with the same reason; a failed
    step (a rejected command) does not stop the next one.
    """
    host = task.host
    todo = list(steps.get(host.name, ()))
    outcomes: list[DeviceOutcome] = []
    device_id = int(host.data.get("device_id") or 0)
    attempt = Login()
    chain = tuple(host.data.get("credentials") or ())

    def finish(
        step: JobStep,
        started: datetime,
        *,
        output: str | None = None,
        spans: tuple[tuple[str, int, int], ...] = (),
        error: BaseException | None = None,
    ) -> None:
        reason, kind = _failure(error) if error is not None else (None, None)
        outcome = DeviceOutcome(
            name=str(host.data.get("name") or host.name),
            address=host.hostname,
            device_id=device_id,
            ok=error is None,
            reason=without_secrets(reason, attempt.secrets) if reason else None,
            failure=kind,
            started=started,
            ended=datetime.now(timezone.utc),
            plan_index=step.plan_index,
            output=output,
            spans=spans,
            target=step.path,
            platform=str(host.platform or "") or None,
            history=step.history,
            validation=step.validation,
            credential=attempt.used,
            credentials_tried=tuple(attempt.tried),
        )
        outcomes.append(outcome)
        if report is not None:
            report(outcome)

    started = datetime.now(timezone.utc)
    stop = options.cancellation
    log: Path | ScrubbedLog | None = None
    try:
        if session_log_dir is not None:
            log = private_log(session_log_dir, host.name)
            if any(step.scrub for step in todo):
                log = ScrubbedLog(log, str(host.platform or "") or None, attempt.secrets)
        timeout = max(step.timeout for step in todo)
        # The session's preparation enters privileged mode in its own round trip when asked.
        host.data["wants_enable"] = any(is_enable_command(c) for step in todo for c in step.commands)
        with login(task, timeout, options, log, chain, credentials, max_auth_attempts, attempt) as opened:
            session = _prepared(task, opened)
            while todo:
                step = todo.pop(0)
                try:
                    collected = collect_outputs(
                        session,
                        step.commands,
                        step.timeout,
                        step.inter_command_time,
                        step.max_output_bytes,
                        _finisher(attempt.secrets, session.platform, step.scrub),
                    )
                except Exception as failure:
                    interrupted = stop is not None and stop.cancelled
                    finish(step, started, error=DeviceInterrupted() if interrupted else failure)
                else:
                    finish(step, started, output=collected.text, spans=collected.spans)
                started = datetime.now(timezone.utc)
    except Exception as exc:
        for step in todo:
            finish(step, started, error=exc)
    finally:
        if isinstance(log, ScrubbedLog):
            log.close()
    failed = any(not outcome.ok for outcome in outcomes)
    return Result(host=host, result=outcomes, failed=failed)
