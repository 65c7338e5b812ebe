"""Nornir tasks: run a job's commands on one device over Netmiko, and save the capture.

``collect_commands`` is reusable from any Nornir script::

    nr.run(task=collect_commands, commands=["show version"], timeout=30)

Each command's output is checked: a command the device rejects (``% Invalid input``,
Junos ``syntax error`` ...) fails the device, where Netmiko alone would call it success.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from nornir.core.task import Result, Task

from vcollector.cancellation import INTERRUPTED, Cancellation
from vcollector.captures import CaptureTarget, safe_part, write_capture
from vcollector.device_output import REPLACING_UTF8, clean_output, rejection
from vcollector.errors import CommandRejectedError, DeviceError, VCollectorError
from vcollector.failures import (
    describe_command_failure,
    describe_connect_failure,
    is_connect_failure,
    one_line,
)
from vcollector.host_keys import KnownHosts
from vcollector.jobs import is_enable_command, is_paging_command
from vcollector.sessions import SessionLimiter

CONNECTION = "netmiko"
RETRY_BACKOFF_SECONDS = 1.0


def _connection_extras(task: Task, timeout: float, session_log: Path | None) -> dict[str, Any]:
    params = task.host.get_connection_parameters(CONNECTION)
    extras: dict[str, Any] = dict(params.extras or {})
    extras.setdefault("fast_cli", True)
    extras.setdefault("allow_agent", False)
    extras.setdefault("encoding", REPLACING_UTF8)
    extras.update(
        conn_timeout=timeout,
        banner_timeout=timeout,
        auth_timeout=timeout,
        # Bounds every read, including the ones inside session preparation and disconnect.
        read_timeout_override=timeout,
    )
    if session_log is not None:
        extras["session_log"] = str(session_log)
    return extras


def _open(
    task: Task, timeout: float, retries: int, session_log: Path | None, host_keys: KnownHosts | None
) -> Any:
    attempt = 0
    while True:
        extras = _connection_extras(task, timeout, session_log)
        try:
            if host_keys is None:
                return task.host.open_connection(CONNECTION, task.nornir.config, extras=extras).connection
            with host_keys.connection(str(task.host.hostname), int(task.host.port or 22)) as key_checks:
                return task.host.open_connection(
                    CONNECTION, task.nornir.config, extras={**extras, **key_checks}
                ).connection
        except Exception as exc:
            reason = describe_connect_failure(exc, timeout)
            if attempt >= retries or not is_connect_failure(reason):
                raise DeviceError(reason) from exc
        attempt += 1
        time.sleep(RETRY_BACKOFF_SECONDS * 2 ** (attempt - 1))


def _enable(connection: Any) -> None:
    try:
        if connection.check_enable_mode():
            return
    except (AttributeError, NotImplementedError):
        return  # platforms without a privileged mode (Junos) treat "enable" as a no-op
    try:
        connection.enable()
    except ValueError as exc:
        raise DeviceError("could not enter enable mode (check the credential's enable secret)") from exc


_UNPRIVILEGED_HINT = (
    " (the session is not in privileged mode: add 'enable' to the job's commands, give the credential "
    "an enable secret, or set device_types.requires_enable)"
)


def _session_closed(connection: Any) -> bool:
    """True when the device closed the SSH channel (Netmiko then only reports a read timeout)."""
    channel = getattr(connection, "remote_conn", None)
    transport = getattr(channel, "transport", None)
    return bool(getattr(channel, "closed", False)) or (transport is not None and not transport.is_active())


def _unprivileged(connection: Any) -> bool:
    try:
        return not connection.check_enable_mode()
    except Exception:
        return False


def run_commands(
    connection: Any,
    commands: Sequence[str],
    timeout: float,
    inter_command_time: float,
    enable_first: bool = False,
) -> str:
    """Send ``commands`` on an open Netmiko session; returns the collected, cleaned output."""
    if enable_first:
        _enable(connection)
    outputs: list[str] = []
    for index, command in enumerate(commands):
        if index and inter_command_time:
            time.sleep(inter_command_time)
        try:
            if is_enable_command(command):
                _enable(connection)
                continue
            output = str(connection.send_command(command, read_timeout=timeout))
        except DeviceError:
            raise
        except Exception as exc:
            if _session_closed(connection):
                lost = f"connection lost while running {command!r} (closed by the device)"
                raise DeviceError(lost) from exc
            raise DeviceError(describe_command_failure(exc, command, timeout)) from exc
        if is_paging_command(command):
            continue  # Netmiko has disabled paging already; some platforms reject the job's way
        refused = rejection(output)
        if refused:
            hint = _UNPRIVILEGED_HINT if _unprivileged(connection) else ""
            raise CommandRejectedError(f"device rejected {command!r}: {refused}{hint}")
        outputs.append(output)
    return clean_output("\n".join(outputs))


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
) -> Result:
    """Log in to ``task.host`` and run ``commands``; the result is the cleaned output.

    ``enable`` entries enter privileged mode with the host's enable secret; paging
    commands run but their output is not kept. Raises :class:`DeviceError` with a
    one-line reason on any failure.
    """
    problem = task.host.data.get("problem")
    if problem:
        raise DeviceError(str(problem))
    slot = (
        session_limiter.session(f"{task.host.hostname}:{task.host.port}")
        if session_limiter
        else nullcontext()
    )
    stop = cancellation or Cancellation()
    with slot:
        stop.check()
        connection = _open(task, timeout, retries, session_log, host_keys)
        try:
            with stop.session(connection):
                enable_first = bool(task.host.data.get("enable_at_login"))
                output = run_commands(connection, commands, timeout, inter_command_time, enable_first)
        except DeviceError as exc:
            if stop.cancelled:
                raise DeviceError(INTERRUPTED) from exc
            raise
        finally:
            task.host.close_connection(CONNECTION)
    return Result(host=task.host, result=output)


@dataclass
class DeviceOutcome:
    """What happened to one device in one job run."""

    name: str
    address: str | None
    device_id: int
    ok: bool
    reason: str | None
    started: datetime
    ended: datetime
    capture_path: Path | None = None
    capture_bytes: int | None = None

    @property
    def elapsed_ms(self) -> int:
        """Wall time spent on this device, in milliseconds."""
        return int((self.ended - self.started).total_seconds() * 1000)


def _private_log(directory: Path, host_name: str) -> Path:
    """A 0600 session log file (Netmiko would create it world-readable)."""
    path = directory / f"{safe_part(host_name)}.log"
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    return path


def collect_to_capture(
    task: Task,
    commands: Sequence[str],
    timeout: float,
    inter_command_time: float,
    target: CaptureTarget | None,
    retries: int = 0,
    session_limiter: SessionLimiter | None = None,
    session_log_dir: Path | None = None,
    cancellation: Cancellation | None = None,
    host_keys: KnownHosts | None = None,
) -> Result:
    """Collect from one device and, when ``target`` is given, save its capture atomically.

    Never raises: the result is a :class:`DeviceOutcome`, failed when anything went wrong.
    """
    host = task.host
    started = datetime.now(timezone.utc)
    outcome = DeviceOutcome(
        name=str(host.data.get("name") or host.name),
        address=host.hostname,
        device_id=int(host.data.get("device_id") or 0),
        ok=False,
        reason=None,
        started=started,
        ended=started,
    )
    try:
        path = (
            target.path_for(str(host.data.get("normalized_name") or host.name), outcome.device_id)
            if target
            else None
        )
        log = _private_log(session_log_dir, host.name) if session_log_dir else None
        output = collect_commands(
            task,
            commands,
            timeout,
            inter_command_time,
            retries,
            session_limiter,
            log,
            cancellation,
            host_keys,
        ).result
        if path is not None:
            with cancellation.writing() if cancellation else nullcontext():
                outcome.capture_bytes = write_capture(path, output)
            outcome.capture_path = path
        outcome.ok = True
    except DeviceError as exc:
        outcome.reason = one_line(exc.reason)
    except VCollectorError as exc:  # capture and known_hosts problems
        outcome.reason = one_line(str(exc))
    except Exception as exc:
        outcome.reason = one_line(f"unexpected {type(exc).__name__}: {exc}")
    outcome.ended = datetime.now(timezone.utc)
    return Result(host=host, result=outcome, failed=not outcome.ok)
