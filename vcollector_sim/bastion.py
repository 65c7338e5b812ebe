"""A simulated SSH jump host (bastion) on loopback, for ``ssh -J`` / ProxyJump tests.

:class:`Bastion` is an asyncssh server on its own event-loop thread (a context manager, like
:class:`vcollector_sim.lean_fleet.LeanFleet`). It accepts password logins (``users``: name →
password; default ``jump`` / ``jump-pass``) and public-key logins (``authorized_keys``: name →
``["ssh-ed25519 AAAA...", ...]``), and ``direct-tcpip`` channel requests — what ``ssh -J``
and paramiko's ``Transport.open_channel("direct-tcpip", (host, port), origin)`` send — which
it forwards to the requested host and port:

* only to literal addresses in 127.0.0.0/8 (``localhost`` means 127.0.0.1): any other target
  is refused with *administratively prohibited* (code 1), so nothing leaves the machine;
* ``allow_forwarding=False`` refuses every request the same way, as ``AllowTcpForwarding no``;
* ``allowed_targets(host, port)`` returning False refuses that target the same way;
* a target that refuses the TCP connection → *connect failed* (code 2).

Session channels (shells, exec) are refused: a jump host needs none.

``stats`` (:class:`BastionStats`) counts TCP ``connections``, and per username
``auth_attempts`` (each password or key checked; OpenSSH checks a key before signing with
it, which counts twice), ``logins`` (successful authentications), ``channels`` (opened),
``refused_channels`` (every failed open, either code), ``open_channels`` and
``peak_channels`` (simultaneous), plus ``targets``: channels opened per (host, port).

``host_key`` is the public key (``ssh-ed25519 AAAA...``); :meth:`Bastion.known_hosts_line`
is the line for a known_hosts file. Pass ``host_key=`` an asyncssh private key to keep one.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncssh

from vcollector_sim.fleet import free_port

JUMP_USER = "jump"
JUMP_PASSWORD = "jump-pass"  # noqa: S105 - a simulated jump host's login, on loopback only
LOOPBACK = ipaddress.ip_network("127.0.0.0/8")


@dataclass
class BastionStats:
    """What the bastion saw; every counter but ``connections`` and ``targets`` is per username."""

    connections: int = 0
    auth_attempts: Counter[str] = field(default_factory=Counter)
    logins: Counter[str] = field(default_factory=Counter)
    channels: Counter[str] = field(default_factory=Counter)
    refused_channels: Counter[str] = field(default_factory=Counter)
    open_channels: Counter[str] = field(default_factory=Counter)
    peak_channels: Counter[str] = field(default_factory=Counter)
    targets: Counter[tuple[str, int]] = field(default_factory=Counter)

    def reset(self) -> None:
        """Forget every count but the channels open now."""
        self.connections = 0
        for counter in (self.auth_attempts, self.logins, self.channels, self.refused_channels):
            counter.clear()
        self.peak_channels.clear()
        self.peak_channels.update(self.open_channels)
        self.targets.clear()


def loopback_target(host: str) -> str | None:
    """``host`` as an address to connect to if it is in 127.0.0.0/8 (or ``localhost``), else None."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    return host if address.version == 4 and address in LOOPBACK else None


class _Forwarder(asyncssh.SSHForwarder):
    """The channel side of one forwarded connection: reports its close once."""

    def __init__(self, peer: asyncssh.SSHForwarder, on_close: Callable[[], None]) -> None:
        super().__init__(peer)
        self._on_close: Callable[[], None] | None = on_close

    def close(self) -> None:
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            on_close()
        super().close()


class _BastionServer(asyncssh.SSHServer):
    def __init__(self, bastion: Bastion) -> None:
        self.bastion = bastion
        self.stats = bastion.stats
        self.username = ""
        self.conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.stats.connections += 1
        self.conn = conn
        self.bastion._connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.conn is not None:
            self.bastion._connections.discard(self.conn)

    def begin_auth(self, username: str) -> bool:
        self.username = username
        return True

    def password_auth_supported(self) -> bool:
        return bool(self.bastion.users)

    def validate_password(self, username: str, password: str) -> bool:
        self.stats.auth_attempts[username] += 1
        expected = self.bastion.users.get(username)
        return expected is not None and password == expected

    def public_key_auth_supported(self) -> bool:
        return bool(self.bastion.authorized_keys)

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        self.stats.auth_attempts[username] += 1
        offered = key.export_public_key().decode().split()[:2]
        return any(line.split()[:2] == offered for line in self.bastion.authorized_keys.get(username, ()))

    def auth_completed(self) -> None:
        self.stats.logins[self.username] += 1

    def _refuse(self, code: int, reason: str) -> asyncssh.ChannelOpenError:
        self.stats.refused_channels[self.username] += 1
        return asyncssh.ChannelOpenError(code, reason)

    def connection_requested(
        self, dest_host: str, dest_port: int, orig_host: str, orig_port: int
    ) -> Awaitable[asyncssh.SSHTCPSession[bytes]]:
        prohibited = asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED
        address = loopback_target(dest_host)
        if not self.bastion.allow_forwarding:
            raise self._refuse(prohibited, "TCP forwarding is disabled on this bastion")
        if address is None:
            raise self._refuse(prohibited, f"forwarding to {dest_host} is not permitted (loopback only)")
        allowed = self.bastion.allowed_targets
        if allowed is not None and not allowed(dest_host, dest_port):
            raise self._refuse(prohibited, f"forwarding to {dest_host} port {dest_port} is not permitted")
        return self._connect(address, dest_host, dest_port)

    async def _connect(self, address: str, host: str, port: int) -> asyncssh.SSHTCPSession[bytes]:
        loop = asyncio.get_running_loop()
        try:
            _, peer = await loop.create_connection(asyncssh.SSHForwarder, address, port)
        except OSError as exc:
            raise self._refuse(
                asyncssh.OPEN_CONNECT_FAILED, f"connect to {host} port {port}: {exc}"
            ) from None
        user, stats = self.username, self.stats
        stats.channels[user] += 1
        stats.targets[host, port] += 1
        stats.open_channels[user] += 1
        stats.peak_channels[user] = max(stats.peak_channels[user], stats.open_channels[user])

        def closed() -> None:
            stats.open_channels[user] -= 1

        return _Forwarder(peer, closed)  # type: ignore[return-value]  # an SSHTCPSession in all but name


class Bastion:
    """An SSH jump host on ``address``; a context manager that always stops."""

    def __init__(
        self,
        address: str = "127.0.0.1",
        port: int = 0,
        users: Mapping[str, str] | None = None,
        authorized_keys: Mapping[str, Sequence[str]] | None = None,
        allow_forwarding: bool = True,
        allowed_targets: Callable[[str, int], bool] | None = None,
        host_key: asyncssh.SSHKey | None = None,
    ) -> None:
        if loopback_target(address) is None:
            raise ValueError(f"a bastion listens on loopback only, not {address!r}")
        self.address = address
        self.port = port or free_port([address])
        self.users = dict({JUMP_USER: JUMP_PASSWORD} if users is None else users)
        self.authorized_keys = {name: list(keys) for name, keys in (authorized_keys or {}).items()}
        self.allow_forwarding = allow_forwarding
        self.allowed_targets = allowed_targets
        self.host_private_key = host_key or asyncssh.generate_private_key("ssh-ed25519")
        self.host_key = self.host_private_key.export_public_key().decode().strip()
        self.stats = BastionStats()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="bastion", daemon=True)
        self._server: asyncssh.SSHAcceptor | None = None
        self._connections: set[asyncssh.SSHServerConnection] = set()

    def known_hosts_line(self) -> str:
        """``[address]:port key-type key`` for a known_hosts file."""
        return f"[{self.address}]:{self.port} {' '.join(self.host_key.split()[:2])}"

    def _run(self, coroutine: Any, timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def start(self) -> Bastion:
        """Listen on ``address``:``port``."""
        logging.getLogger("asyncio").setLevel(logging.ERROR)
        self._thread.start()

        async def listen() -> asyncssh.SSHAcceptor:
            return await asyncssh.create_server(
                lambda: _BastionServer(self),
                self.address,
                self.port,
                server_host_keys=[self.host_private_key],
                keepalive_interval=0,
                allow_scp=False,
            )

        try:
            self._server = self._run(listen())
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Close the listener and every connection, stop the event loop."""
        if not self._thread.is_alive():
            return
        server, self._server = self._server, None

        async def close() -> None:
            if server is not None:
                server.close()
            for conn in list(self._connections):
                conn.abort()
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            self._run(close(), 15)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def __enter__(self) -> Bastion:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
