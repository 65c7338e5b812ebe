"""Default locations, each overridable by an environment variable, in one place.

The vcollector home (``$VCOLLECTOR_HOME``, else ``~/.vcollector``) holds the vault
(``collector.db``), default captures (``collections/``), the SSH ``known_hosts`` file and
``--debug`` session logs. Nothing here creates a directory.
"""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "VCOLLECTOR_HOME"
ASSETS_DB_ENV = "VCOLLECTOR_ASSETS_DB"
VAULT_ENV = "VCOLLECTOR_VAULT"
CAPTURE_DIR_ENV = "VCOLLECTOR_CAPTURE_DIR"

DEFAULT_ASSETS_DB = Path("~/.velocitycmdb/data/assets.db")
DEFAULT_CAPTURE_BASE = Path("~/.vcollector/collections")


def _from_env(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else None


def vcollector_home() -> Path:
    """``$VCOLLECTOR_HOME`` or ``~/.vcollector``."""
    return _from_env(HOME_ENV) or Path.home() / ".vcollector"


def default_db_path() -> Path:
    """``$VCOLLECTOR_ASSETS_DB`` or ``~/.velocitycmdb/data/assets.db``."""
    return _from_env(ASSETS_DB_ENV) or DEFAULT_ASSETS_DB.expanduser()


def default_vault_path() -> Path:
    """``$VCOLLECTOR_VAULT`` or ``<vcollector home>/collector.db``."""
    return _from_env(VAULT_ENV) or vcollector_home() / "collector.db"


def default_known_hosts() -> Path:
    """``<vcollector home>/known_hosts``."""
    return vcollector_home() / "known_hosts"


def make_private_dirs(path: Path) -> Path:
    """Create ``path`` and any missing parents as 0700 directories (whatever the umask).

    ``mkdir(parents=True, mode=...)`` gives the mode to the last directory only; the
    vcollector home holds the vault, host keys and debug logs, so every level made here is
    private.
    """
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=0o700)
        except FileExistsError:
            continue
        directory.chmod(0o700)
    return path


def debug_root() -> Path:
    """``<vcollector home>/debug``: one folder per ``--debug`` run."""
    return vcollector_home() / "debug"
