"""The vcollector home directory: ``$VCOLLECTOR_HOME`` or ``~/.vcollector``.

Holds the vault (``collector.db``), default captures (``collections/``), the SSH
``known_hosts`` file and ``--debug`` session logs.
"""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "VCOLLECTOR_HOME"


def vcollector_home() -> Path:
    """``$VCOLLECTOR_HOME`` or ``~/.vcollector`` (not created here)."""
    configured = os.environ.get(HOME_ENV)
    return Path(configured).expanduser() if configured else Path.home() / ".vcollector"
