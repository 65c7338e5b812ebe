"""Jump hosts: one SSH login to each bastion per process, device sessions as its channels.

A device behind a bastion is reached over a ``direct-tcpip`` channel of one shared SSH
connection to that bastion (what ``ssh -J`` opens), not with a bastion login per device;
at most ``max_channels`` device sessions go through one bastion at once. The bastion's
credential comes from the vault (password or key) and its host key is checked like a
device's (trust on first use, ``--strict-host-keys``). A bastion that refused us is not
asked again in the same run: every device behind it fails with that one reason, and no
account is locked out by a run of retries.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from typing import Any

import paramiko

from vcollector.credentials.store import CredentialSource
from vcollector.errors import DeviceError, HostKeyStoreError, JumpHostFailed, VCollectorError
from vcollector.transport.credentials import private_key
from vcollector.transport.host_keys import KnownHosts
from vcollector.transport.jump_spec import JumpSpec
from vcollector.transport.tcp import open_tcp

REASK = 2  # a channel refused without its reason is asked again this often


@dataclass
class _Bastion:
    spec: JumpSpec
    slots: threading.BoundedSemaphore
    lock: threading.Lock = field(default_factory=threading.Lock)
    opening: threading.Lock = field(default_factory=threading.Lock)  # see _open_channel
    transport: paramiko.Transport | None = None
    failure: str | None = None


def _open_channel(
    bastion: _Bastion, transport: paramiko.Transport, host: str, port: int, timeout: float
) -> Any:
    """A direct-tcpip channel; a refusal raises :class:`paramiko.ChannelException` with the
    bastion's reason.

    paramiko keeps one refusal reason per transport: when several channels are refused at
    once, a thread may find its reason taken by another and get a bare "Unable to open
    channel.". That open is asked again, one thread at a time, so that each device gets its
    own reason (a bare failure is raised after :data:`REASK`).
    """
    for attempt in range(REASK + 1):
        try:
            if attempt == 0:
                return transport.open_channel("direct-tcpip", (host, port), ("127.0.0.1", 0), timeout=timeout)
            with bastion.opening:
                return transport.open_channel("direct-tcpip", (host, port), ("127.0.0.1", 0), timeout=timeout)
        except paramiko.ChannelException:
            raise
        except paramiko.SSHException:
            if not transport.is_active() or attempt == REASK:
                raise
    raise AssertionError("unreachable")


class JumpHosts:
    """The bastions of one run in this process (thread-safe)."""

    def __init__(
        self, credentials: CredentialSource, host_keys: KnownHosts | None, max_channels: int = 20
    ) -> None:
        self.credentials = credentials
        self.host_keys = host_keys
        self.max_channels = max_channels
        self._lock = threading.Lock()
        self._bastions: dict[tuple[str, int, str | None, str | None], _Bastion] = {}

    def _bastion(self, spec: JumpSpec) -> _Bastion:
        key = (spec.host, spec.port, spec.user, spec.credential)
        with self._lock:
            bastion = self._bastions.get(key)
            if bastion is None:
                bastion = self._bastions[key] = _Bastion(
                    spec, slots=threading.BoundedSemaphore(self.max_channels)
                )
            return bastion

    def open_channel(self, spec: JumpSpec, host: str, port: int, timeout: float) -> Any:
        """A channel to ``host:port`` through the bastion (logged in to once); the caller
        gives it back with :meth:`release` when the device session ends."""
        bastion = self._bastion(spec)
        if not bastion.slots.acquire(timeout=timeout):
            raise JumpHostFailed(
                f"jump host {spec.label}: no free channel within {timeout:g}s "
                f"(--max-sessions-per-jump-host {self.max_channels})"
            )
        try:
            transport = self._login(bastion, timeout)
            try:
                channel = _open_channel(bastion, transport, host, port, timeout)
            except paramiko.ChannelException as exc:
                reason = (exc.text or "refused").strip().rstrip(".").lower()
                raise JumpHostFailed(
                    f"jump host {spec.label}: cannot reach {host}:{port} from there ({reason})"
                ) from exc
            except (paramiko.SSHException, OSError, EOFError) as exc:
                raise JumpHostFailed(
                    f"jump host {spec.label}: connection lost ({exc or type(exc).__name__})"
                ) from exc
        except BaseException:
            bastion.slots.release()
            raise
        channel.settimeout(None)
        return channel

    def release(self, spec: JumpSpec, channel: Any) -> None:
        """Give a channel back (its device session has ended)."""
        with contextlib.suppress(Exception):
            channel.close()
        bastion = self._bastion(spec)
        with contextlib.suppress(ValueError):
            bastion.slots.release()

    def _login(self, bastion: _Bastion, timeout: float) -> paramiko.Transport:
        with bastion.lock:
            if bastion.failure is not None:
                raise JumpHostFailed(bastion.failure)
            if bastion.transport is not None and bastion.transport.is_active():
                return bastion.transport
            try:
                bastion.transport = _connect(bastion.spec, self.credentials, self.host_keys, timeout)
            except JumpHostFailed as exc:
                bastion.failure = exc.reason  # not asked again this run
                raise
            return bastion.transport

    def close(self) -> None:
        """Log out of every bastion."""
        with self._lock:
            bastions = list(self._bastions.values())
        for bastion in bastions:
            if bastion.transport is not None:
                with contextlib.suppress(Exception):
                    bastion.transport.close()


def _connect(
    spec: JumpSpec, credentials: CredentialSource, host_keys: KnownHosts | None, timeout: float
) -> paramiko.Transport:
    label = f"jump host {spec.label}"
    try:
        credential = credentials.get(spec.credential)
    except VCollectorError as exc:
        raise JumpHostFailed(f"{label}: {exc}") from exc
    try:
        sock = open_tcp(spec.host, spec.port, timeout)
    except ConnectionRefusedError as exc:
        raise JumpHostFailed(f"{label}: connection refused") from exc
    except TimeoutError as exc:
        raise JumpHostFailed(f"{label}: timed out connecting after {timeout:g}s") from exc
    except OSError as exc:
        raise JumpHostFailed(f"{label}: cannot connect: {exc.strerror or exc}") from exc
    transport = paramiko.Transport(sock)
    try:
        transport.banner_timeout = timeout
        transport.start_client(timeout=timeout)
        key = transport.get_remote_server_key()
        if host_keys is not None:
            check = host_keys.check(spec.host, spec.port)
            check.policy().missing_host_key(paramiko.SSHClient(), check.name, key)
            check.learn()
        user = spec.user or credential.username
        pkey = private_key(credential)
        if pkey is not None:
            with contextlib.suppress(paramiko.AuthenticationException):  # then the password, if any
                transport.auth_publickey(user, pkey)
        if not transport.is_authenticated() and credential.password:
            transport.auth_password(user, credential.password)
        if not transport.is_authenticated():
            raise paramiko.AuthenticationException("no method left")
        transport.set_keepalive(30)
        return transport
    except paramiko.AuthenticationException as exc:
        transport.close()
        raise JumpHostFailed(f"{label}: authentication failed") from exc
    except (DeviceError, HostKeyStoreError) as exc:
        transport.close()
        reason = exc.reason if isinstance(exc, DeviceError) else str(exc)
        raise JumpHostFailed(f"{label}: {reason}") from exc
    except (paramiko.SSHException, OSError, EOFError) as exc:
        transport.close()
        raise JumpHostFailed(f"{label}: no SSH banner or handshake ({exc or type(exc).__name__})") from exc
