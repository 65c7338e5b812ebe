"""The TCP connection to a device, opened by us so that small SSH packets leave at once.

paramiko leaves Nagle's algorithm on. An SSH login is a chain of small request/reply
packets, and with Nagle on a packet written while the previous one is unacknowledged
waits for the device's delayed ACK (40 ms on Linux, up to 200 ms on other stacks): twice
per login here (key exchange, then authentication). With ``TCP_NODELAY``, as OpenSSH
sets it, a login to a loopback device took 44 ms instead of 129 ms.

The user's ssh config is honoured as Netmiko honours it: ``HostName`` and ``Port`` change
where we connect; hosts behind a ``ProxyCommand`` or ``ProxyJump`` are left to Netmiko.
"""

from __future__ import annotations

import contextlib
import functools
import socket
from dataclasses import dataclass
from pathlib import Path

import paramiko


@functools.lru_cache(maxsize=8)
def _ssh_config(path: str, _mtime: float) -> paramiko.SSHConfig:
    return paramiko.SSHConfig.from_path(path)


@dataclass(frozen=True)
class Route:
    """Where Netmiko's SSH connection to a device goes, given the user's ssh config."""

    host: str
    port: int
    direct: bool  # False: through a ProxyCommand/ProxyJump, which Netmiko sets up itself


def route(host: str, port: int, ssh_config_file: str | None) -> Route:
    """The address and port Netmiko will use for ``host:port`` (as its ``_use_ssh_config``
    decides them: ``HostName``; ``Port`` only in place of 22), and whether there is a proxy."""
    if not ssh_config_file:
        return Route(host, port, direct=True)
    path = Path(ssh_config_file).expanduser()
    try:
        config = _ssh_config(str(path), path.stat().st_mtime)
    except (OSError, paramiko.SSHException, ValueError):
        return Route(host, port, direct=True)  # Netmiko reads the same file; a broken one fails there
    entry = config.lookup(host)
    target = str(entry.get("hostname") or host)
    if port == 22 and entry.get("port"):
        port = int(entry["port"])
    proxied = bool(entry.get("proxycommand")) or bool(entry.get("proxyjump"))  # "none" is None
    return Route(target, port, direct=not proxied)


def open_tcp(host: str, port: int, timeout: float) -> socket.socket:
    """A connected TCP socket to ``host:port`` with Nagle's algorithm off."""
    sock = socket.create_connection((host, port), timeout=timeout)
    with contextlib.suppress(OSError):  # the session works without it, only slower
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock
