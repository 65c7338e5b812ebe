"""The TCP connection to a device, opened by us so that small SSH packets leave at once.

paramiko leaves Nagle's algorithm on. An SSH login is a chain of small request/reply
packets, and with Nagle on a packet written while the previous one is unacknowledged
waits for the device's delayed ACK (40 ms on Linux, up to 200 ms on other stacks): twice
per login here (key exchange, then authentication). With ``TCP_NODELAY``, as OpenSSH
sets it, a login to a loopback device took 44 ms instead of 129 ms.

Hosts that the user's ssh config routes elsewhere (``ProxyCommand``, ``ProxyJump``,
another ``HostName`` or ``Port``) are left to Netmiko, which honours that config.
"""

from __future__ import annotations

import contextlib
import functools
import socket
from pathlib import Path

import paramiko


@functools.lru_cache(maxsize=8)
def _ssh_config(path: str, _mtime: float) -> paramiko.SSHConfig:
    return paramiko.SSHConfig.from_path(path)


def routed_by_ssh_config(host: str, port: int, ssh_config_file: str | None) -> bool:
    """True when ``ssh_config_file`` sends ``host`` through a proxy or to another address."""
    if not ssh_config_file:
        return False
    path = Path(ssh_config_file).expanduser()
    try:
        config = _ssh_config(str(path), path.stat().st_mtime)
    except (OSError, paramiko.SSHException, ValueError):
        return False  # Netmiko reads the same file; a broken one fails there, clearly
    entry = config.lookup(host)
    return (
        "proxycommand" in entry
        or "proxyjump" in entry
        or entry.get("hostname", host) != host
        or str(entry.get("port", port)) != str(port)
    )


def open_tcp(host: str, port: int, timeout: float) -> socket.socket:
    """A connected TCP socket to ``host:port`` with Nagle's algorithm off."""
    sock = socket.create_connection((host, port), timeout=timeout)
    with contextlib.suppress(OSError):  # the session works without it, only slower
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock
