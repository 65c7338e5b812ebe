"""Logging, configured once per process by whoever owns it (the CLI, a worker process)."""

from __future__ import annotations

import logging
import sys


def setup_logging(debug: bool) -> None:
    """Logging once per process: warnings only, or everything under ``--debug``."""
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    # Netmiko and paramiko are chatty; their debug output is only for --debug, and the
    # fake devices' servers (same process in tests) never belong in the user's output.
    for name in ("paramiko", "netmiko", "nornir"):
        logging.getLogger(name).setLevel(logging.DEBUG if debug else logging.CRITICAL)
    logging.getLogger("fakenos").setLevel(logging.CRITICAL)
