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
from vcollector.errors import CredentialError

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


class CredentialSource:
    """Credentials by name for one run, each decrypted once; ``None`` is the default.

    Built from an unlocked vault, or from credentials handed over whole (a spawned worker
    process receives the few it needs from its parent, never from disk or arguments).
    """

    def __init__(
        self, unlocked: UnlockedVault | None = None, given: dict[str, Credential] | None = None
    ) -> None:
        self._unlocked = unlocked
        self._cache: dict[str | None, Credential] = {
            (None if name == "default" else name): credential for name, credential in (given or {}).items()
        }
        self._lock = threading.Lock()

    def get(self, name: str | None = None) -> Credential:
        """The named credential (``None`` or ``"default"``: the vault's default)."""
        key = None if name in (None, "default") else name
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                return cached
            if self._unlocked is None:
                raise CredentialError(f"credential {key or 'default'!r} was not handed to this process")
            credential = self._unlocked.get(key)
            self._cache[key] = credential
            self._cache.setdefault(credential.name, credential)
            return credential

    def resolved(self) -> dict[str, Credential]:
        """Every credential looked up so far, by name (``default`` for the default)."""
        with self._lock:
            return {name or "default": credential for name, credential in self._cache.items()}
