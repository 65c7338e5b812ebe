"""Which credential sets a device is tried with, in order, and the set that worked last time.

The chain of a device is the first of these that names any set — they are not added up,
so no account is tried that nobody meant for that device:

1. ``--credential a,b`` (or repeated) on the command line;
2. the job's ``credentials.credential_set`` (a name or a list; ``"default"`` names none);
3. the first ``[[credential_rules]]`` of config.toml that matches the device (site, role,
   vendor, platform, name pattern), else its ``[sites.CODE] credentials``, else
   ``[defaults] credentials``;
4. the vault's default credential.

A set is tried only after the one before failed *authentication* (never after a timeout or
a refused connection), each set at most once per device and run, and no more than
``max_auth_attempts`` sets per device, so no AAA server or local account is locked out.
The set that worked is remembered (names only) and tried first next time.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

from vcollector.config.paths import make_private_dirs, vcollector_home
from vcollector.config.settings import Settings, names
from vcollector.inventory.filters import DeviceFilterSpec
from vcollector.inventory.records import DeviceRecord

MEMORY_FILE = "credential-memory.json"
DEFAULT = "default"


def rule_chain(settings: Settings, device: DeviceRecord) -> tuple[str, ...]:
    """The sets config.toml gives ``device`` (empty: it names none for it)."""
    for rule in settings.rules:
        if DeviceFilterSpec.from_mapping(rule.as_filter()).matches(device):
            return names(rule.credentials)
    site = settings.site(device.site)
    if site is not None and site.credentials:
        return names(site.credentials)
    return names(settings.defaults.credentials)


def device_chain(
    given: Sequence[str], job_sets: Sequence[str], settings: Settings, device: DeviceRecord
) -> tuple[str, ...]:
    """The ordered, de-duplicated sets to try on ``device``; ``("default",)`` when nothing names one."""
    for source in (given, job_sets, rule_chain(settings, device)):
        chosen = tuple(dict.fromkeys(name for name in source if name))
        if chosen:
            return chosen
    return (DEFAULT,)


def device_key(device: DeviceRecord) -> str:
    """How the memory knows a device: its normalized name and address (a device that moved
    to another address may need another account)."""
    return f"{device.normalized_name}@{device.address}"


class CredentialMemory:
    """``$VCOLLECTOR_HOME/credential-memory.json``: device -> the set that logged in last."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or vcollector_home() / MEMORY_FILE
        self._known: dict[str, str] | None = None
        self._learnt: dict[str, str] = {}
        self._lock = threading.Lock()

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def first(self, key: str, chain: Sequence[str]) -> tuple[str, ...]:
        """``chain`` with the remembered set of ``key`` first (when it is in the chain)."""
        with self._lock:
            if self._known is None:
                self._known = self._read()
            remembered = self._known.get(key)
        if remembered and remembered in chain and chain[0] != remembered:
            return (remembered, *(name for name in chain if name != remembered))
        return tuple(chain)

    def learn(self, worked: Iterable[tuple[str, str]]) -> None:
        """Note which set worked on which device (kept until :meth:`save`)."""
        with self._lock:
            self._learnt.update(worked)

    def save(self) -> None:
        """Merge what was learnt into the file (under a lock; other runs' entries kept)."""
        with self._lock:
            if not self._learnt:
                return
            make_private_dirs(self.path.parent)
            lock = os.open(self.path.with_name(f".{self.path.name}.lock"), os.O_CREAT | os.O_RDWR, 0o600)
            try:
                fcntl.flock(lock, fcntl.LOCK_EX)
                merged = {**self._read(), **self._learnt}
                staged = self.path.with_name(f".{self.path.name}.{os.getpid()}")
                with contextlib.suppress(FileNotFoundError):
                    staged.unlink()
                descriptor = os.open(staged, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
                with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                    json.dump(dict(sorted(merged.items())), handle, indent=1)
                os.replace(staged, self.path)
                self._learnt.clear()
            finally:
                os.close(lock)
