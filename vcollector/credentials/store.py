"""Unlocked vaults, once per process: the key is derived once and reused by every lookup.

The Nornir transform (``vcollector_credentials``) runs once per host, serially, so it looks
credentials up here. The vault password never goes into a Nornir config: it comes from the
caller (:func:`unlock`) or the usual non-interactive sources (env vars, OS keyring).
"""

from __future__ import annotations

import threading
from pathlib import Path

from vcollector.credentials import password as vault_password
from vcollector.credentials.vault import Credential, UnlockedVault, Vault

_lock = threading.Lock()
_unlocked: dict[Path, UnlockedVault] = {}


def unlock(vault_path: str | Path | None, password: str) -> UnlockedVault:
    """Unlock a vault once per process; later calls reuse the derived key."""
    path = Vault(vault_path).path.resolve()
    with _lock:
        cached = _unlocked.get(path)
        if cached is None:
            cached = _unlocked[path] = Vault(path).unlock(password)
        return cached


def resolve(credential: str | None = None, vault_path: str | Path | None = None) -> Credential:
    """The named credential (the vault default for None), from the vault unlocked once.

    A vault not unlocked yet in this process is unlocked with the password from the
    environment or the OS keyring (never a prompt: a transform has no terminal).
    """
    path = Vault(vault_path).path.resolve()
    with _lock:
        unlocked = _unlocked.get(path)
    if unlocked is None:
        password, _source = vault_password.resolve(path, interactive=False)
        unlocked = unlock(path, password)
    return unlocked.get(credential)
