"""Nornir tasks: run a job's commands on one device over Netmiko, and save the capture.

``collect_commands`` is reusable from any Nornir script::

    nr.run(task=collect_commands, commands=["show version"], timeout=30)

Each command's output is checked: a command the device rejects (``% Invalid input``,
Junos ``syntax error`` ...) fails the device, where Netmiko alone would call it success.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from nornir.core.task import Result, Task

from vcollector.cancellation import INTERRUPTED, Cancellation
from vcollector.collection.outcome import DeviceOutcome
from vcollector.collection.output import clean_output, rejection
from vcollector.errors import CommandRejectedError, DeviceError, VCollectorError
from vcollector.jobs.model import is_enable_command, is_paging_command
from vcollector.storage.captures import CaptureTarget, safe_part, write_capture
from vcollector.transport.encoding import REPLACING_UTF8
from vcollector.transport.failures import (
    describe_command_failure,
    describe_connect_failure,
    is_connect_failure,
    one_line,
)
from vcollector.transport.host_keys import HostKeyCheck, KnownHosts
from vcollector.transport.limits import SessionLimiter
from vcollector.transport.netmiko_waits import Watch, watching
from vcollector.transport.tcp import Route, open_tcp, route

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
    task: Task,
    timeout: float,
    retries: int,
    session_log: Path | None,
    host_keys: KnownHosts | None,
    watch: Watch,
) -> Any:
    attempt = 0
    base_extras = _connection_extras(task, timeout, session_log)
    ssh_config = base_extras.get("ssh_config_file", getattr(task.nornir.config.ssh, "config_file", None))
    target = route(str(task.host.hostname), int(task.host.port or 22), ssh_config)
    while True:
        extras = dict(base_extras)
        try:
            # Keyed by where the SSH connection really goes: that is the name paramiko checks.
            with host_keys.connection(target.host, target.port) if host_keys else nullcontext() as check:
                if check is not None:
                    extras.update(check.extras)
                return _login(task, extras, timeout, watch, check, target)
        except Exception as exc:
            reason = describe_connect_failure(exc, timeout)
            if attempt >= retries or not is_connect_failure(reason):
                raise DeviceError(reason) from exc
        attempt += 1
        time.sleep(RETRY_BACKOFF_SECONDS * 2 ** (attempt - 1))


def _login(
    task: Task,
    extras: dict[str, Any],
    timeout: float,
    watch: Watch,
    check: HostKeyCheck | None,
    target: Route,
) -> Any:
    """Netmiko's own connect sequence (``BaseConnection._open``), on our TCP socket.

    The steps are Netmiko's; between the SSH login and the session preparation the
    session's channel is handed to ``watch``, so that preparation already wakes on data.
    """
    options = {**extras, "auto_connect": False}
    connection = task.host.open_connection(CONNECTION, task.nornir.config, extras=options).connection
    # Netmiko's disconnect() first asks the device whether it is in config mode (one more
    # round trip, or a whole timeout when preparation failed) before sending ``exit``; a
    # collector never enters config mode, and closing the channel ends the session the same.
    connection.cleanup = lambda *args, **kwargs: None
    sock = None
    try:
        if target.direct and connection.protocol == "ssh":
            sock = connection.sock = open_tcp(target.host, target.port, timeout)
        connection._modify_connection_params()
        connection.establish_connection()
        watch.attach(connection)
        if check is not None:
            check.learn(connection)
        connection._try_session_preparation()
        return connection
    except BaseException:
        _close(task)
        if sock is not None:
            sock.close()
        raise


def send_fin(netmiko_connection: Any) -> None:
    """End a Netmiko session's TCP connection now, before paramiko's close.

    paramiko closes the socket while its reader thread may still sit in ``recv()``, which
    delays the actual close by up to its poll interval: the per-device session slot would be
    free while the device still saw the session.
    """
    client = getattr(netmiko_connection, "remote_conn_pre", None)
    transport = client.get_transport() if client is not None else None
    sock = getattr(transport, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)



def _abort(connection: Any) -> None:
    """Close a session from another thread (cancellation): its reads end at once."""
    send_fin(connection)
    client = getattr(connection, "remote_conn_pre", None)
    if client is not None:
        client.close()


def _close(task: Task) -> None:
    """Close the session (without Netmiko's exit dance: see :func:`_login`)."""
    plugin = task.host.connections.get(CONNECTION)
    connection = getattr(plugin, "connection", None)
    if connection is not None:
        send_fin(connection)
    with contextlib.suppress(Exception):
        task.host.close_connection(CONNECTION)


# Set on a Netmiko connection once it is in privileged mode: a job's ``enable`` after the
# login already entered it would cost one more prompt check (a round trip) per device.
_PRIVILEGED = "_vcollector_privileged"


def _enable(connection: Any) -> None:
    """Privileged mode; Netmiko's ``enable()`` checks first and is a no-op where there is none."""
    if getattr(connection, _PRIVILEGED, False):
        return
    try:
        connection.enable()
    except (AttributeError, NotImplementedError):
        return
    except ValueError as exc:
        raise DeviceError("could not enter enable mode (check the credential's enable secret)") from exc
    setattr(connection, _PRIVILEGED, True)


# ``disable`` / ``disable 1`` leave privileged mode; "disable clipaging" (EXOS paging) and
# the like are ordinary commands.
_DISABLE = re.compile(r"disable(\s+\d+)?", re.IGNORECASE)


def _is_disable_command(command: str) -> bool:
    return _DISABLE.fullmatch(command.strip()) is not None


def _disable(connection: Any, command: str, timeout: float) -> None:
    """Leave privileged mode the way Netmiko does (the prompt changes, so not send_command)."""
    try:
        connection.exit_enable_mode(exit_command=command.strip())
    except (AttributeError, NotImplementedError):
        pass
    except Exception as exc:
        raise DeviceError(describe_command_failure(exc, command, timeout)) from exc
    setattr(connection, _PRIVILEGED, False)


# Netmiko drivers whose session preparation already switches paging off: a job's own
# paging command would only repeat it (two more round trips per device).
PAGING_DISABLED_BY_NETMIKO = frozenset(
    {
        "cisco_ios",
        "cisco_xe",
        "cisco_nxos",
        "cisco_xr",
        "cisco_asa",
        "arista_eos",
        "juniper_junos",
        "juniper",
        "hp_procurve",
    }
)

_UNPRIVILEGED_HINT = (
    " (the session is not in privileged mode and enable failed: check the credential's enable secret)"
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


ENABLE_RETRY_TIMEOUT = 10.0


def _send(connection: Any, command: str, timeout: float) -> str:
    try:
        return str(connection.send_command(command, read_timeout=timeout))
    except Exception as exc:
        if _session_closed(connection):
            lost = f"connection lost while running {command!r} (closed by the device)"
            raise DeviceError(lost) from exc
        raise DeviceError(describe_command_failure(exc, command, timeout)) from exc


def _escalate(connection: Any, timeout: float) -> bool:
    """Try privileged mode once (bounded in time); True when the session is now privileged.

    Many logins land at privilege 1 where ``show running-config`` is refused; jobs written
    for privilege-15 logins then fail for no reason a person cares about.
    """
    previous = getattr(connection, "read_timeout_override", None)
    connection.read_timeout_override = min(timeout, ENABLE_RETRY_TIMEOUT)
    try:
        connection.enable()
    except Exception:
        with contextlib.suppress(Exception):
            connection.write_channel(connection.RETURN)  # leave any "Password:" prompt
        return False
    finally:
        connection.read_timeout_override = previous
    privileged = not _unprivileged(connection)
    setattr(connection, _PRIVILEGED, privileged)
    return privileged


def run_commands(
    connection: Any,
    commands: Sequence[str],
    timeout: float,
    inter_command_time: float,
) -> str:
    """Send ``commands`` on an open Netmiko session; returns the collected, cleaned output.

    A command the device rejects fails the whole list. When it was rejected because the
    session is unprivileged, privileged mode is tried once (with the enable secret, else
    the password) and the command repeated.
    """
    paging_done = getattr(connection, "device_type", None) in PAGING_DISABLED_BY_NETMIKO
    outputs: list[str] = []
    sent = 0
    escalated = False
    for command in commands:
        if paging_done and is_paging_command(command):
            continue
        if sent and inter_command_time:
            time.sleep(inter_command_time)
        sent += 1
        if is_enable_command(command):
            _enable(connection)
            continue
        if _is_disable_command(command):
            _disable(connection, command, timeout)
            continue
        output = _send(connection, command, timeout)
        if is_paging_command(command):
            continue  # Netmiko has disabled paging already; some platforms reject the job's way
        refused = rejection(output)
        if refused and not escalated and _unprivileged(connection):
            escalated = True
            if _escalate(connection, timeout):
                output = _send(connection, command, timeout)
                refused = rejection(output)
        if refused:
            hint = _UNPRIVILEGED_HINT if _unprivileged(connection) else ""
            raise CommandRejectedError(f"device rejected {command!r}: {refused}{hint}")
        outputs.append(output)
    return clean_output("\n".join(outputs))


@dataclass(frozen=True)
class SessionOptions:
    """How sessions are opened and guarded (shared by every device of a run)."""

    retries: int = 0
    session_limiter: SessionLimiter | None = None
    session_log_dir: Path | None = None
    cancellation: Cancellation | None = None
    host_keys: KnownHosts | None = None


@contextlib.contextmanager
def _session(task: Task, timeout: float, options: SessionOptions, session_log: Path | None) -> Iterator[Any]:
    """An open Netmiko session to ``task.host``, inside its session slot; always closed."""
    problem = task.host.data.get("problem")
    if problem:
        raise DeviceError(str(problem))
    limiter = options.session_limiter
    slot = limiter.session(f"{task.host.hostname}:{task.host.port}") if limiter else nullcontext()
    stop = options.cancellation or Cancellation()
    with slot, watching() as watch:
        stop.check()
        connection = _open(task, timeout, options.retries, session_log, options.host_keys, watch)
        try:
            with stop.session(lambda: _abort(connection)):
                if task.host.data.get("enable_at_login"):
                    _enable(connection)
                yield connection
        except DeviceError as exc:
            if stop.cancelled:
                raise DeviceError(INTERRUPTED) from exc
            raise
        finally:
            _close(task)


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
    options = SessionOptions(retries, session_limiter, None, cancellation, host_keys)
    with _session(task, timeout, options, session_log) as connection:
        output = run_commands(connection, commands, timeout, inter_command_time)
    return Result(host=task.host, result=output)


@dataclass(frozen=True)
class JobStep:
    """What one job asks of one device: its commands, timing and capture target."""

    plan_index: int
    commands: tuple[str, ...]
    timeout: float
    inter_command_time: float
    target: CaptureTarget | None


StepReport = Callable[[DeviceOutcome], None]


def _private_log(directory: Path, host_name: str) -> Path:
    """A 0600 session log file (Netmiko would create it world-readable)."""
    path = directory / f"{safe_part(host_name)}.log"
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    return path


def _reason(exc: BaseException) -> str:
    if isinstance(exc, DeviceError):
        return one_line(exc.reason)
    if isinstance(exc, VCollectorError):  # capture and known_hosts problems
        return one_line(str(exc))
    return one_line(f"unexpected {type(exc).__name__}: {exc}")


def collect_jobs(
    task: Task,
    steps: Mapping[str, Sequence[JobStep]],
    options: SessionOptions,
    report: StepReport | None = None,
) -> Result:
    """Run every job step of ``task.host`` over one SSH login, saving each job's capture.

    ``steps`` maps host names to their steps, in job order. Never raises: the result is
    one :class:`DeviceOutcome` per step (each also passed to ``report`` as it finishes).
    A failed login fails every step with the same reason; a failed step (a rejected
    command, a capture that cannot be written) does not stop the next one.
    """
    host = task.host
    todo = list(steps.get(host.name, ()))
    outcomes: list[DeviceOutcome] = []
    device_id = int(host.data.get("device_id") or 0)
    file_name = str(host.data.get("normalized_name") or host.name)

    def finish(
        step: JobStep,
        started: datetime,
        *,
        path: Path | None = None,
        size: int | None = None,
        error: BaseException | None = None,
    ) -> None:
        outcome = DeviceOutcome(
            name=str(host.data.get("name") or host.name),
            address=host.hostname,
            device_id=device_id,
            ok=error is None,
            reason=_reason(error) if error is not None else None,
            started=started,
            ended=datetime.now(timezone.utc),
            capture_path=path,
            capture_bytes=size,
            plan_index=step.plan_index,
        )
        outcomes.append(outcome)
        if report is not None:
            report(outcome)

    started = datetime.now(timezone.utc)
    stop = options.cancellation
    try:
        log = _private_log(options.session_log_dir, host.name) if options.session_log_dir else None
        with _session(task, max(step.timeout for step in todo), options, log) as connection:
            while todo:
                step = todo.pop(0)
                try:
                    path = step.target.path_for(file_name, device_id) if step.target else None
                    output = run_commands(connection, step.commands, step.timeout, step.inter_command_time)
                    size = None
                    if path is not None:
                        with stop.writing() if stop else nullcontext():
                            size = write_capture(path, output)
                except Exception as failure:
                    interrupted = stop is not None and stop.cancelled
                    finish(step, started, error=DeviceError(INTERRUPTED) if interrupted else failure)
                else:
                    finish(step, started, path=path, size=size)
                started = datetime.now(timezone.utc)
    except Exception as exc:
        for step in todo:
            finish(step, started, error=exc)
    failed = any(not outcome.ok for outcome in outcomes)
    return Result(host=host, result=outcomes, failed=failed)
