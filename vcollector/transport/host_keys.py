"""SSH host keys: trust on first use, remembered in ``<vcollector home>/known_hosts``.

A device's key is recorded the first time vcollector logs in; a different key later is
always refused before any password is sent, and so is a key marked ``@revoked`` (as
OpenSSH does); ``strict`` also refuses keys that are not recorded yet. The file is read
once, before any device is contacted: a file that cannot be read stops the run (checking
against an empty list would accept any key — it fails closed).

The check runs inside paramiko's handshake, as its missing-host-key policy, with no key
given to paramiko itself: every key reaches :meth:`KnownHosts.verify`, which looks it up
in a dict (paramiko's own lookup scans every entry, O(devices²) per run). Keys learnt
during the run are kept in memory and appended once, under an exclusive lock, by
:meth:`KnownHosts.save` (every line the file had is kept as it was).
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import paramiko
from paramiko.hostkeys import HostKeyEntry, InvalidHostKey

from vcollector.config.paths import default_known_hosts
from vcollector.errors import HostKeyRejected, HostKeyStoreError

CHANGED = (
    "host key changed since the last run (possible man-in-the-middle); refusing to connect. "
    "If the device was replaced, delete its line from the vcollector known_hosts file"
)
REVOKED = "host key is marked @revoked in known_hosts; refusing to connect"
UNKNOWN = "unknown host key (not in known_hosts; --strict-host-keys refuses new devices)"


def host_entry_name(address: str, port: int) -> str:
    """The known_hosts name of a device: ``addr`` on port 22, else ``[addr]:port``."""
    return address if port == 22 else f"[{address}]:{port}"


@dataclass
class _Index:
    """The usable content of a known_hosts file."""

    by_name: dict[str, dict[str, paramiko.PKey]] = field(default_factory=dict)
    hashed: list[HostKeyEntry] = field(default_factory=list)
    # (host patterns, key type, base64) of @revoked lines
    revoked: list[tuple[list[str], str, str]] = field(default_factory=list)


@dataclass
class HostKeyCheck:
    """One connection's check: the key the device presented, recorded after login."""

    name: str
    owner: KnownHosts
    presented: paramiko.PKey | None = None

    def policy(self) -> paramiko.MissingHostKeyPolicy:
        """The paramiko policy that checks this connection's key during the handshake."""
        return _Policy(self)

    def learn(self) -> None:
        """Record the presented key (trust on first use), once the login succeeded."""
        if self.presented is not None:
            self.owner.remember(self.name, self.presented)


class _Policy(paramiko.MissingHostKeyPolicy):  # type: ignore[misc]
    def __init__(self, check: HostKeyCheck) -> None:
        self.check = check

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        # paramiko names the host as we do ("addr" or "[addr]:port"), but the check's name is
        # where the connection really goes (ssh config HostName, jump host target).
        self.check.owner.verify(self.check.name, key)
        self.check.presented = key


class KnownHosts:
    """The known_hosts file of one run, shared by every connection of that run."""

    def __init__(self, path: Path | None = None, *, strict: bool = False) -> None:
        self.path = path or default_known_hosts()
        self.strict = strict
        self._lock = threading.Lock()
        self._index: _Index | None = None
        self._new: list[tuple[str, paramiko.PKey]] = []

    def load(self) -> None:
        """Read the file now; :class:`HostKeyStoreError` when it exists but cannot be read."""
        with self._lock:
            self._loaded()

    def _loaded(self) -> _Index:
        if self._index is None:
            # Assigned only after a complete read: a failed read leaves nothing to check
            # against, and every later connection fails the same way.
            self._index = _build_index(_read_text(self.path))
        return self._index

    @cached_property
    def _directory(self) -> str:
        """The file's directory (created 0700 once), for its temp and lock files."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise HostKeyStoreError(f"cannot create {self.path.parent}: {exc.strerror or exc}") from exc
        return str(self.path.parent)

    def _keys_of(self, index: _Index, name: str) -> dict[str, paramiko.PKey]:
        keys = dict(index.by_name.get(name, {}))
        for entry in index.hashed:
            hashed = entry.hostnames[0]
            if paramiko.HostKeys.hash_host(name, hashed) == hashed:
                keys.setdefault(entry.key.get_name(), entry.key)
        return keys

    def check(self, address: str, port: int) -> HostKeyCheck:
        """A check for one connection to ``address:port`` (its known_hosts name)."""
        with self._lock:
            self._loaded()
        return HostKeyCheck(host_entry_name(address, port), self)

    def verify(self, name: str, key: paramiko.PKey) -> None:
        """Accept ``key`` for ``name`` or raise :class:`HostKeyRejected` (before any password)."""
        with self._lock:
            index = self._loaded()
            if _is_revoked(index, name, key):
                raise HostKeyRejected(REVOKED)
            known = self._keys_of(index, name)
        recorded = known.get(key.get_name())
        if recorded is not None:
            if recorded.asbytes() != key.asbytes():
                raise HostKeyRejected(CHANGED)
            return
        if known:
            # Recorded with another key type only: a device that changed its key type is
            # as suspicious as one that changed its key.
            raise HostKeyRejected(CHANGED)
        if self.strict:
            raise HostKeyRejected(UNKNOWN)

    def remember(self, name: str, key: paramiko.PKey) -> None:
        """Keep a newly seen key (in memory until :meth:`save`)."""
        with self._lock:
            index = self._loaded()
            if key.get_name() not in self._keys_of(index, name):
                index.by_name.setdefault(name, {})[key.get_name()] = key
                self._new.append((name, key))

    def learnt(self) -> list[tuple[str, paramiko.PKey]]:
        """The keys first seen during this run."""
        with self._lock:
            return list(self._new)

    def save(self) -> None:
        """Append this run's new keys to the file, atomically, keeping every line it had.

        Under an exclusive lock, the file is read again first: keys that another run (a
        cron job overlapping this one) saved meanwhile are kept, not overwritten. Raises
        :class:`HostKeyStoreError`; the keys stay unsaved (a later save may succeed).
        """
        with self._lock:
            if not self._new:
                return
            with _exclusive(self._directory, self.path.name):
                self._append_new_keys()
            self._new.clear()

    def _append_new_keys(self) -> None:
        current = _read_text(self.path)
        present = {(name, entry.key.get_name()) for entry in _parse(current) for name in entry.hostnames}
        added = [key_line(name, key) for name, key in self._new if (name, key.get_name()) not in present]
        if not added:
            return
        if current and not current.endswith("\n"):
            current += "\n"
        try:
            fd, staged = tempfile.mkstemp(prefix=".known_hosts.", dir=self._directory)
        except OSError as exc:
            raise HostKeyStoreError(f"cannot update known_hosts {self.path}: {exc.strerror or exc}") from exc
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(current + "".join(added))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(staged, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                Path(staged).unlink()
            raise HostKeyStoreError(f"cannot update known_hosts {self.path}: {exc.strerror or exc}") from exc


@contextlib.contextmanager
def _exclusive(directory: str, name: str) -> Iterator[None]:
    """Hold ``<directory>/.<name>.lock`` exclusively (where the OS has ``flock``)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    lock_path = Path(directory) / f".{name}.lock"
    try:
        handle = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600)
    except OSError as exc:
        raise HostKeyStoreError(f"cannot lock known_hosts ({lock_path}): {exc.strerror or exc}") from exc
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)


def key_line(name: str, key: paramiko.PKey) -> str:
    """``key`` for ``name`` as one known_hosts line (how worker processes hand keys back)."""
    return f"{name} {key.get_name()} {key.get_base64()}\n"


def key_from_line(line: str) -> tuple[str, paramiko.PKey]:
    """The name and key of a :func:`key_line` line."""
    entry = HostKeyEntry.from_line(line.strip())
    if entry is None:
        raise ValueError("not a known_hosts line")
    return entry.hostnames[0], entry.key


def _build_index(text: str) -> _Index:
    index = _Index()
    for raw in text.splitlines():
        parts = raw.strip().split()
        if len(parts) >= 4 and parts[0] == "@revoked":
            index.revoked.append((parts[1].split(","), parts[2], parts[3]))
    for entry in _parse(text):
        for name in entry.hostnames:
            if name.startswith("|1|"):
                index.hashed.append(HostKeyEntry([name], entry.key))
            else:
                index.by_name.setdefault(name, {})[entry.key.get_name()] = entry.key
    return index


def _is_revoked(index: _Index, name: str, key: paramiko.PKey) -> bool:
    blob = key.get_base64()
    return any(revoked == blob and _matches(name, patterns) for patterns, _key_type, revoked in index.revoked)


def _matches(name: str, patterns: list[str]) -> bool:
    """OpenSSH host patterns: ``*``/``?`` wildcards, ``!`` negation, hashed names."""
    matched = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        pattern = pattern.removeprefix("!")
        if pattern.startswith("|1|"):
            hit = paramiko.HostKeys.hash_host(name, pattern) == pattern
        else:
            hit = fnmatch.fnmatchcase(name, pattern)
        if hit and negated:
            return False
        matched = matched or hit
    return matched


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
        raise HostKeyStoreError(f"cannot read known_hosts {path}: {exc.strerror or exc}") from exc


def policy_extras() -> dict[str, Any]:
    """Netmiko arguments that leave every host-key decision to our policy."""
    return {"system_host_keys": False, "alt_host_keys": False, "ssh_strict": False}
