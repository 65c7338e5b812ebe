"""SSH host keys: trust on first use, remembered in ``<vcollector home>/known_hosts``.

A device's key is recorded the first time vcollector logs in; a different key later is
always refused before any password is sent (paramiko checks it during the handshake), and
the device is named. ``strict`` refuses keys that are not recorded yet.

Paramiko's own "auto add" rewrites the whole file from each connection's copy, which loses
entries when many sessions run at once and costs O(devices²) per run. So each connection
gets a private file holding only its device's recorded key; keys learnt during the run are
kept in memory and written once, atomically, by :meth:`KnownHosts.save`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paramiko

from vcollector.errors import VCollectorError
from vcollector.home import vcollector_home


def default_known_hosts() -> Path:
    """``<vcollector home>/known_hosts``."""
    return vcollector_home() / "known_hosts"


def host_entry_name(address: str, port: int) -> str:
    """The known_hosts name of a device: ``addr`` on port 22, else ``[addr]:port``."""
    return address if port == 22 else f"[{address}]:{port}"


@dataclass
class HostKeyCheck:
    """The Netmiko arguments for one connection, and how to record what it learnt."""

    name: str
    extras: dict[str, Any]
    owner: KnownHosts

    def learn(self, netmiko_connection: Any) -> None:
        """Record the device's key after a successful login (first use)."""
        client = getattr(netmiko_connection, "remote_conn_pre", None)
        transport = client.get_transport() if client is not None else None
        if transport is not None:
            self.owner.remember(self.name, transport.get_remote_server_key())


class KnownHosts:
    """The known_hosts file of one run, shared by every connection of that run."""

    def __init__(self, path: Path | None = None, *, strict: bool = False) -> None:
        self.path = path or default_known_hosts()
        self.strict = strict
        self._lock = threading.Lock()
        self._keys: paramiko.HostKeys | None = None
        self._learnt = False
        self._new: list[tuple[str, paramiko.PKey]] = []

    def _loaded(self) -> paramiko.HostKeys:
        if self._keys is None:
            keys = paramiko.HostKeys()
            if self.path.is_file():
                try:
                    keys.load(str(self.path))
                except (OSError, paramiko.SSHException, ValueError) as exc:
                    raise VCollectorError(f"cannot read known_hosts {self.path}: {exc}") from exc
            self._keys = keys
        return self._keys

    @contextlib.contextmanager
    def connection(self, address: str, port: int) -> Iterator[HostKeyCheck]:
        """Netmiko arguments that check this device's recorded key (if any)."""
        name = host_entry_name(address, port)
        with self._lock:
            known = dict(self._loaded().lookup(name) or {})
        extras: dict[str, Any] = {
            "system_host_keys": False,
            "alt_host_keys": False,
            "ssh_strict": self.strict,
        }
        private = None
        if known:
            # Netmiko only reads host keys from a file: give it this device's entry alone.
            fd, private = tempfile.mkstemp(prefix=".known_host.", dir=_private_dir(self.path))
            os.close(fd)
            one = paramiko.HostKeys()
            for key_type, key in known.items():
                one.add(name, key_type, key)
            one.save(private)
            extras.update(alt_host_keys=True, alt_key_file=private)
        try:
            yield HostKeyCheck(name, extras, self)
        finally:
            if private:
                with contextlib.suppress(OSError):
                    Path(private).unlink()

    def remember(self, name: str, key: paramiko.PKey) -> None:
        """Keep a newly seen key (in memory until :meth:`save`)."""
        with self._lock:
            keys = self._loaded()
            if key.get_name() not in (keys.lookup(name) or {}):
                keys.add(name, key.get_name(), key)
                self._learnt = True
                self._new.append((name, key))

    def learnt(self) -> list[tuple[str, paramiko.PKey]]:
        """The keys first seen during this run."""
        with self._lock:
            return list(self._new)

    def save(self) -> None:
        """Write the file once, atomically, if this run learnt any key."""
        with self._lock:
            if not self._learnt or self._keys is None:
                return
            fd, staged = tempfile.mkstemp(prefix=".known_hosts.", dir=_private_dir(self.path))
            os.close(fd)
            try:
                self._keys.save(staged)
                os.replace(staged, self.path)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    Path(staged).unlink()
                problem = exc.strerror or exc
                raise VCollectorError(f"cannot update known_hosts {self.path}: {problem}") from exc
            self._learnt = False


def _private_dir(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return str(path.parent)
