"""SSH host keys: trust on first use, remembered in ``<vcollector home>/known_hosts``.

A device's key is recorded the first time vcollector logs in; a different key later is
always refused before any password is sent (paramiko checks it during the handshake), and
the device is named. ``strict`` refuses keys that are not recorded yet.

Paramiko's own "auto add" rewrites the whole file from each connection's copy, which loses
entries when many sessions run at once and costs O(devices²) per run. So each connection
gets a private file holding only its device's recorded key; keys learnt during the run are
kept in memory and appended once, atomically, by :meth:`KnownHosts.save` (every line
the file had is kept as it was).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import paramiko
from paramiko.hostkeys import HostKeyEntry, InvalidHostKey

from vcollector.config.paths import default_known_hosts
from vcollector.errors import VCollectorError


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
    """The known_hosts file of one run, shared by every connection of that run.

    Looked up by name in a dict: paramiko's ``HostKeys.lookup`` scans every entry (and
    builds a class) per call, which made remembering keys O(devices²), a quarter of the
    client's CPU in a 300-device run. Hashed names (``|1|…``, as OpenSSH may write) are
    matched by hashing, as paramiko does.
    """

    def __init__(self, path: Path | None = None, *, strict: bool = False) -> None:
        self.path = path or default_known_hosts()
        self.strict = strict
        self._lock = threading.Lock()
        self._by_name: dict[str, dict[str, paramiko.PKey]] | None = None
        self._hashed: list[HostKeyEntry] = []
        self._new: list[tuple[str, paramiko.PKey]] = []
        self._unsaved = False

    @cached_property
    def _directory(self) -> str:
        """The file's directory (created 0700 once), for its temp and lock files."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        return str(self.path.parent)

    def _index(self) -> dict[str, dict[str, paramiko.PKey]]:
        if self._by_name is None:
            self._by_name = {}
            for entry in _parse(_read_text(self.path)):
                for name in entry.hostnames:
                    if name.startswith("|1|"):
                        self._hashed.append(HostKeyEntry([name], entry.key))
                    else:
                        self._by_name.setdefault(name, {})[entry.key.get_name()] = entry.key
        return self._by_name

    def _keys_of(self, name: str) -> dict[str, paramiko.PKey]:
        keys = dict(self._index().get(name, {}))
        for entry in self._hashed:
            hashed = entry.hostnames[0]
            if paramiko.HostKeys.hash_host(name, hashed) == hashed:
                keys.setdefault(entry.key.get_name(), entry.key)
        return keys

    @contextlib.contextmanager
    def connection(self, address: str, port: int) -> Iterator[HostKeyCheck]:
        """Netmiko arguments that check this device's recorded key (if any)."""
        name = host_entry_name(address, port)
        with self._lock:
            known = self._keys_of(name)
        extras: dict[str, Any] = {
            "system_host_keys": False,
            "alt_host_keys": False,
            "ssh_strict": self.strict,
        }
        private = None
        if known:
            # Netmiko only reads host keys from a file: give it this device's entry alone.
            fd, private = tempfile.mkstemp(prefix=".known_host.", dir=self._directory)
            with os.fdopen(fd, "w") as handle:
                handle.writelines(_line(name, key) for key in known.values())
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
            if key.get_name() not in self._keys_of(name):
                self._index().setdefault(name, {})[key.get_name()] = key
                self._new.append((name, key))
                self._unsaved = True

    def learnt(self) -> list[tuple[str, paramiko.PKey]]:
        """The keys first seen during this run."""
        with self._lock:
            return list(self._new)

    def save(self) -> None:
        """Append this run's new keys to the file, atomically, keeping every line it had.

        Under an exclusive lock, the file is read again first: keys that another run (a
        cron job overlapping this one) saved meanwhile are kept, not overwritten.
        """
        with self._lock:
            if not self._unsaved:
                return
            with _exclusive(self._directory, self.path.name):
                self._append_new_keys()
            self._unsaved = False

    def _append_new_keys(self) -> None:
        current = _read_text(self.path)
        present = {(name, entry.key.get_name()) for entry in _parse(current) for name in entry.hostnames}
        added = [_line(name, key) for name, key in self._new if (name, key.get_name()) not in present]
        if current and not current.endswith("\n"):
            current += "\n"
        fd, staged = tempfile.mkstemp(prefix=".known_hosts.", dir=self._directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(current + "".join(added))
            os.replace(staged, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                Path(staged).unlink()
            problem = exc.strerror or exc
            raise VCollectorError(f"cannot update known_hosts {self.path}: {problem}") from exc


@contextlib.contextmanager
def _exclusive(directory: str, name: str) -> Iterator[None]:
    """Hold ``<directory>/.<name>.lock`` exclusively (where the OS has ``flock``; elsewhere,
    no lock)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    lock_path = Path(directory) / f".{name}.lock"
    try:
        handle = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600)
    except OSError as exc:
        raise VCollectorError(f"cannot lock known_hosts in {directory}: {exc.strerror or exc}") from exc
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)


def _line(name: str, key: paramiko.PKey) -> str:
    return f"{name} {key.get_name()} {key.get_base64()}\n"


def _parse(text: str) -> Iterator[HostKeyEntry]:
    """The usable entries of known_hosts text; lines paramiko cannot use are skipped, as
    OpenSSH skips them (markers, unknown key types, damaged lines)."""
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", "@")):
            continue
        try:
            entry = HostKeyEntry.from_line(line, number)
        except (paramiko.SSHException, InvalidHostKey, ValueError):
            continue
        if entry is not None:
            yield entry


def _read_text(path: Path) -> str:
    """The file's text; empty when there is no file yet."""
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise VCollectorError(f"cannot read known_hosts {path}: {exc.strerror or exc}") from exc
