"""SSH host keys: trust on first use, remembered in ``<vcollector home>/known_hosts``.

A device's key is recorded the first time vcollector logs in; a different key later is
always refused (the device is named, the password is never sent). ``strict`` refuses keys
that are not recorded yet.

Paramiko's own "auto add" rewrites the whole file from each connection's copy, which loses
entries when many sessions run at once. So each connection gets a private file holding
only its device's entry; keys learnt there are merged into the shared file under a lock
and written atomically.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Iterator
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


class KnownHosts:
    """The known_hosts file of one run, shared by every connection of that run."""

    def __init__(self, path: Path | None = None, *, strict: bool = False) -> None:
        self.path = path or default_known_hosts()
        self.strict = strict
        self._lock = threading.Lock()
        self._keys: paramiko.HostKeys | None = None

    def _loaded(self) -> paramiko.HostKeys:
        if self._keys is None:
            keys = paramiko.HostKeys()
            if self.path.is_file():
                try:
                    keys.load(str(self.path))
                except (OSError, paramiko.SSHException) as exc:
                    raise VCollectorError(f"cannot read known_hosts {self.path}: {exc}") from exc
            self._keys = keys
        return self._keys

    @contextlib.contextmanager
    def connection(self, address: str, port: int) -> Iterator[dict[str, Any]]:
        """Netmiko arguments that check this device's key; learns a new key on success."""
        name = host_entry_name(address, port)
        with self._lock:
            known = self._loaded().lookup(name)
            entries = {key_type: key for key_type, key in (known or {}).items()}
        fd, private = tempfile.mkstemp(prefix=".known_hosts.", dir=_private_dir(self.path))
        os.close(fd)
        try:
            one = paramiko.HostKeys()
            for key_type, key in entries.items():
                one.add(name, key_type, key)
            one.save(private)
            # Netmiko loads this file; its auto-add policy (when not strict) appends the
            # device's key to it on first contact, and paramiko refuses a changed key.
            yield {
                "system_host_keys": False,
                "alt_host_keys": True,
                "alt_key_file": private,
                "ssh_strict": self.strict,
            }
            self._learn(name, private, entries)
        finally:
            with contextlib.suppress(OSError):
                Path(private).unlink()

    def _learn(self, name: str, private: str, before: dict[str, paramiko.PKey]) -> None:
        seen = paramiko.HostKeys()
        try:
            seen.load(private)
        except (OSError, paramiko.SSHException):
            return
        found = seen.lookup(name) or {}
        learnt = {key_type: key for key_type, key in found.items() if key_type not in before}
        if not learnt:
            return
        with self._lock:
            keys = self._loaded()
            for key_type, key in learnt.items():
                keys.add(name, key_type, key)
            fd, staged = tempfile.mkstemp(prefix=".known_hosts.", dir=_private_dir(self.path))
            os.close(fd)
            try:
                keys.save(staged)
                os.replace(staged, self.path)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    Path(staged).unlink()
                problem = exc.strerror or exc
                raise VCollectorError(f"cannot update known_hosts {self.path}: {problem}") from exc


def _private_dir(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return str(path.parent)
