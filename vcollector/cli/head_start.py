"""What a run can begin before its command line is parsed: deriving the vault key.

Loading the command line takes ~0.5 s (typer, SQLAlchemy, pydantic) before a run knows its
options. The vault key (~0.3 s of PBKDF2 in OpenSSL, which releases the GIL) does not
depend on them: started first, in a background thread, it is ready on another core by the
time the run unlocks the vault (measured: first device 0.15 s sooner). It is a head start
only: the run still parses its options and unlocks the vault itself, and uses the early key
when vault and password match. (Importing the SSH stack in a thread as well made start-up
slower: two importing threads only fight over the GIL.)

The garbage collector is paused while the program loads (~200 collections over freshly
imported modules, ~50 ms) and resumed by :func:`loaded` once a run starts, with what was
loaded frozen out of later collections.

The entry modules call :func:`begin` first thing; this module imports nothing heavy.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from pathlib import Path

from vcollector.credentials.password import given_or_env

_NO_RUN = frozenset({"--help", "-h", "--dry-run"})


def _option(argv: Sequence[str], name: str) -> str | None:
    for index, arg in enumerate(argv):
        if arg == name and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith(name + "="):
            return arg[len(name) + 1 :]
    return None


def begin(argv: Sequence[str]) -> None:
    """Start the head starts for a run with these arguments (nothing for help or dry runs)."""
    if not argv or _NO_RUN.intersection(argv):
        return
    gc.disable()
    begin_vault_unlock(_option(argv, "--vault"), _option(argv, "--vault-pass"))


_begun: set[tuple[str | None, str]] = set()


def begin_vault_unlock(vault_path: str | Path | None, given_password: str | None) -> None:
    """Start deriving the vault key now, if the password is at hand (option or env); once."""
    at_hand = given_or_env(given_password)
    if at_hand is None:
        return
    key = (str(vault_path) if vault_path else None, at_hand[0])
    if key not in _begun:
        _begun.add(key)
        from vcollector.credentials.vault import Vault

        Vault(vault_path).begin_unlock(at_hand[0])


def loaded() -> None:
    """The run starts: keep what was loaded out of future collections, resume collecting."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
