"""Where the vault password comes from, in order: ``--vault-pass``, ``VELOCITYCMDB_VAULT_PASS``,
``VCOLLECTOR_VAULT_PASS``, the OS keyring (``vcollector vault remember``), then a prompt on a TTY.
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

from vcollector.errors import VaultError

ENV_VARIABLES = ("VELOCITYCMDB_VAULT_PASS", "VCOLLECTOR_VAULT_PASS")
KEYRING_SERVICE = "vcollector"


def _keyring_user(vault_path: Path) -> str:
    return str(vault_path.expanduser().resolve())


def from_keyring(vault_path: Path) -> str | None:
    """The remembered password for this vault, or None (no backend counts as none)."""
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:  # pragma: no cover - keyring is a dependency
        return None
    try:
        value = keyring.get_password(KEYRING_SERVICE, _keyring_user(vault_path))
    except (KeyringError, RuntimeError, OSError):
        return None
    return value or None


def remember(vault_path: Path, password: str) -> None:
    """Store the vault password in the OS keyring."""
    import keyring
    from keyring.errors import KeyringError

    try:
        keyring.set_password(KEYRING_SERVICE, _keyring_user(vault_path), password)
    except (KeyringError, RuntimeError, OSError) as exc:
        raise VaultError(f"cannot store the password in the OS keyring: {exc}") from exc


def forget(vault_path: Path) -> bool:
    """Remove a remembered password; False when none was stored."""
    import keyring
    from keyring.errors import KeyringError, PasswordDeleteError

    try:
        keyring.delete_password(KEYRING_SERVICE, _keyring_user(vault_path))
    except PasswordDeleteError:
        return False
    except (KeyringError, RuntimeError, OSError) as exc:
        raise VaultError(f"cannot reach the OS keyring: {exc}") from exc
    return True


def given_or_env(given: str | None, extra_env: str | None = None) -> tuple[str, str] | None:
    """The password from ``--vault-pass`` or the environment, and its source; no keyring
    lookup and no prompt."""
    if given:
        return given, "--vault-pass"
    names = [*ENV_VARIABLES, *([extra_env] if extra_env and extra_env not in ENV_VARIABLES else [])]
    for name in names:
        value = os.environ.get(name)
        if value:
            return value, name
    return None


def resolve(
    vault_path: Path,
    given: str | None = None,
    *,
    extra_env: str | None = None,
    interactive: bool | None = None,
) -> tuple[str, str]:
    """The vault password and where it came from; a clear error when there is none."""
    at_hand = given_or_env(given, extra_env)
    if at_hand:
        return at_hand
    remembered = from_keyring(vault_path)
    if remembered:
        return remembered, "keyring"
    if interactive is None:
        interactive = sys.stdin is not None and sys.stdin.isatty()
    if not interactive:
        raise VaultError(
            "no vault password: set VELOCITYCMDB_VAULT_PASS, run 'vcollector vault remember', "
            "or run on a terminal to be prompted"
        )
    try:
        value = getpass.getpass("Vault password: ")
    except (EOFError, KeyboardInterrupt) as exc:
        raise VaultError("no vault password given") from exc
    if not value:
        raise VaultError("no vault password given")
    return value, "prompt"
