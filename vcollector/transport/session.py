"""An SSH session to one device: opened, guarded, used and always closed.

The session is Netmiko's (nornir_netmiko's ``netmiko`` connection of the host), opened with
Netmiko's own connect steps on our TCP socket, with our host-key policy inside the
handshake; its commands run through :mod:`vcollector.transport.channel`. A host that
already has an open ``netmiko`` connection (a script ran nornir_netmiko tasks first) is
used as it is and left open for its owner.
"""

from __future__ import annotations

import contextlib
import io
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nornir.core.plugins.connections import ConnectionPluginRegister
from nornir.core.task import Task
from nornir_netmiko.connections import CONNECTION_NAME, Netmiko

from vcollector.cancellation import Cancellation
from vcollector.errors import DeviceError, DeviceInterrupted, DeviceUnusable
from vcollector.transport.channel import run_command
from vcollector.transport.encoding import REPLACING_UTF8
from vcollector.transport.failures import connect_failure
from vcollector.transport.host_keys import HostKeyCheck, KnownHosts, policy_extras
from vcollector.transport.jump import JumpHosts
from vcollector.transport.jump_spec import JumpSpec
from vcollector.transport.limits import SessionLimiter
from vcollector.transport.netmiko_waits import Watch, watching
from vcollector.transport.prepare import lean_platform, pipeline_shell, prepare
from vcollector.transport.tcp import Route, open_tcp, route

CONNECTION = CONNECTION_NAME
RETRY_BACKOFF_SECONDS = 1.0
DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024 * 1024
# Netmiko keeps the first 16 characters of an IOS hostname as the base prompt (IOS shortens
# the prompt in configuration mode); the prompt itself carries the whole name.
IOS_BASE_PROMPT_CHARS = 16
IOS_FAMILY = frozenset({"cisco_ios", "cisco_xe"})


def ensure_registered() -> None:
    """Register nornir_netmiko's connection plugin (a bare ``Nornir()`` has no registry)."""
    if CONNECTION not in ConnectionPluginRegister.available:
        ConnectionPluginRegister.register(CONNECTION, Netmiko)


@dataclass(frozen=True)
class SessionOptions:
    """How the sessions of a run are opened and guarded (live objects of this process)."""

    retries: int = 0
    limiter: SessionLimiter | None = None
    cancellation: Cancellation | None = None
    host_keys: KnownHosts | None = None
    jumps: JumpHosts | None = None


class Session:
    """An open session: the Netmiko connection, its prompt, and whether it is privileged."""

    def __init__(self, connection: Any, watch: Watch | None, *, owned: bool) -> None:
        self.connection = connection
        self.watch = watch
        self.owned = owned
        # Known from the prompt the lean preparation read (False: not known to be privileged).
        self.privileged = bool(getattr(connection, "_vcollector_privileged", False))
        self.enable_refused = bool(getattr(connection, "_vcollector_enable_refused", False))
        self.platform = str(getattr(connection, "device_type", "") or "")

    def run(self, command: str, timeout: float, max_bytes: int = DEFAULT_MAX_OUTPUT_BYTES) -> str:
        """What the device printed for ``command`` (echo and prompt removed, else raw)."""
        base_prompt = str(self.connection.base_prompt)
        return run_command(
            self.connection,
            command,
            base_prompt=base_prompt,
            timeout=timeout,
            max_chars=max_bytes,
            wait=self._wait,
            truncated=len(base_prompt) >= IOS_BASE_PROMPT_CHARS and self.platform in IOS_FAMILY,
        )

    def _wait(self, seconds: float) -> None:
        if self.watch is not None and self.watch.channel is not None:
            self.watch.event.wait(seconds)
        else:  # a connection opened by someone else: no event to wake on
            time.sleep(min(seconds, 0.01))

    def abort(self) -> None:
        """Close from another thread (cancellation): reads on it end at once."""
        send_fin(self.connection)
        client = getattr(self.connection, "remote_conn_pre", None)
        if client is not None:
            client.close()


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


def _connection_extras(
    task: Task, timeout: float, session_log: Path | io.BufferedIOBase | None
) -> dict[str, Any]:
    params = task.host.get_connection_parameters(CONNECTION)
    extras: dict[str, Any] = dict(params.extras or {})
    extras.setdefault("fast_cli", True)
    extras.setdefault("allow_agent", False)
    extras.setdefault("encoding", REPLACING_UTF8)
    # Line endings are ours to clean (CRLF only; Netmiko would also turn a lone CR into a line).
    extras.setdefault("disable_lf_normalization", True)
    extras.update(
        conn_timeout=timeout,
        banner_timeout=timeout,
        auth_timeout=timeout,
        # Bounds every read, including the ones inside session preparation.
        read_timeout_override=timeout,
        **policy_extras(),
    )
    if session_log is not None:
        extras["session_log"] = str(session_log) if isinstance(session_log, Path) else session_log
    return extras


def _open(
    task: Task,
    timeout: float,
    options: SessionOptions,
    session_log: Path | io.BufferedIOBase | None,
    watch: Watch,
) -> Any:
    attempt = 0
    extras = _connection_extras(task, timeout, session_log)
    jump = task.host.data.get("jump")
    if isinstance(jump, JumpSpec):
        target = Route(str(task.host.hostname), int(task.host.port or 22), direct=True)
    else:
        jump = None
        ssh_config = extras.get("ssh_config_file", getattr(task.nornir.config.ssh, "config_file", None))
        target = route(str(task.host.hostname), int(task.host.port or 22), ssh_config)
    while True:
        # Keyed by where the SSH connection really goes: that is the name the device has there.
        check = options.host_keys.check(target.host, target.port) if options.host_keys else None
        try:
            return _login(task, dict(extras), timeout, watch, check, target, jump, options.jumps)
        except Exception as exc:
            failure = connect_failure(exc, timeout)
            if attempt >= options.retries or not failure.retryable:
                raise failure from exc
        attempt += 1
        if options.cancellation is not None:
            options.cancellation.check()
        time.sleep(RETRY_BACKOFF_SECONDS * 2 ** (attempt - 1))


def _client_builder(build: Callable[[], Any], check: HostKeyCheck | None, lean: bool) -> Callable[[], Any]:
    def build_client() -> Any:
        client = build()
        if check is not None:
            client.set_missing_host_key_policy(check.policy())
        return pipeline_shell(client) if lean else client

    return build_client


def _login(
    task: Task,
    extras: dict[str, Any],
    timeout: float,
    watch: Watch,
    check: HostKeyCheck | None,
    target: Route,
    jump: JumpSpec | None = None,
    jumps: JumpHosts | None = None,
) -> Any:
    """Netmiko's own connect sequence (``BaseConnection._open``), on our TCP socket.

    The steps are Netmiko's; our host-key policy goes into the SSH client Netmiko builds,
    and between the login and the session preparation the channel is handed to ``watch``,
    so that preparation already wakes on data.
    """
    options = {**extras, "auto_connect": False}
    connection = task.host.open_connection(CONNECTION, task.nornir.config, extras=options).connection
    # Netmiko's disconnect() first asks the device whether it is in config mode (one more
    # round trip, or a whole timeout when preparation failed) before sending ``exit``; a
    # collector never enters config mode, and closing the channel ends the session the same.
    connection.cleanup = lambda *args, **kwargs: None
    lean = lean_platform(str(connection.device_type)) and connection.protocol == "ssh"
    connection._build_ssh_client = _client_builder(connection._build_ssh_client, check, lean)
    sock = None
    try:
        if jump is not None and jumps is not None:
            sock = connection.sock = jumps.open_channel(jump, target.host, target.port, timeout)
            connection._vcollector_jump = (jumps, jump, sock)
        elif target.direct and connection.protocol == "ssh":
            sock = connection.sock = open_tcp(target.host, target.port, timeout)
        connection._modify_connection_params()
        connection.establish_connection()
        watch.attach(connection)
        if check is not None:
            check.learn()
        _prepare(connection, task, timeout, watch, lean)
        return connection
    except BaseException:
        _close(task)
        if sock is not None:
            sock.close()
        raise


def _prepare(connection: Any, task: Task, timeout: float, watch: Watch, lean: bool) -> None:
    """The lean preparation where it applies (see :mod:`.prepare`), else Netmiko's own."""
    if lean:
        wants_enable = bool(task.host.data.get("enable_at_login") or task.host.data.get("wants_enable"))
        prepared = prepare(connection, str(connection.device_type), want_enable=wants_enable, timeout=timeout,
                           wait=lambda seconds: watch.event.wait(seconds))  # fmt: skip
        if prepared is not None:
            connection._vcollector_privileged = prepared.privileged
            connection._vcollector_enable_refused = prepared.enable_refused
            return
    connection._try_session_preparation()


def _close(task: Task) -> None:
    """Close the session (without Netmiko's exit dance: see :func:`_login`)."""
    plugin = task.host.connections.get(CONNECTION)
    connection = getattr(plugin, "connection", None)
    if connection is not None:
        send_fin(connection)
    with contextlib.suppress(Exception):
        task.host.close_connection(CONNECTION)
    through = getattr(connection, "_vcollector_jump", None)
    if connection is not None and through is not None:
        connection._vcollector_jump = None  # released once
        jumps, spec, channel = through
        jumps.release(spec, channel)  # the bastion's channel slot is free again


def _existing(task: Task) -> Any:
    """The host's open Netmiko connection, if a script opened one before us."""
    plugin = task.host.connections.get(CONNECTION)
    connection = getattr(plugin, "connection", None)
    if connection is None:
        return None
    try:
        alive = connection.is_alive()
    except Exception:
        alive = False
    if alive:
        return connection
    _close(task)  # a dead one would make open_connection fail (ConnectionAlreadyOpen)
    return None


@contextlib.contextmanager
def open_session(
    task: Task, timeout: float, options: SessionOptions, session_log: Path | io.BufferedIOBase | None = None
) -> Iterator[Session]:
    """An open session to ``task.host``, inside its session slot; closed at the end (unless
    it was already open: then it stays open for whoever opened it)."""
    problem = task.host.data.get("problem")
    if problem:
        raise DeviceUnusable(str(problem))
    stop = options.cancellation or Cancellation()
    stop.check()
    ensure_registered()
    existing = _existing(task)
    if existing is not None:
        with watching() as watch:
            watch.attach(existing)
            yield Session(existing, watch, owned=False)
        return
    limiter = options.limiter
    slot = limiter.session(f"{task.host.hostname}:{task.host.port}") if limiter else nullcontext()
    with slot, watching() as watch:
        stop.check()
        connection = _open(task, timeout, options, session_log, watch)
        session = Session(connection, watch, owned=True)
        try:
            with stop.session(session.abort):
                yield session
        except DeviceError as exc:
            if stop.cancelled and not isinstance(exc, DeviceInterrupted):
                raise DeviceInterrupted() from exc
            raise
        finally:
            _close(task)
