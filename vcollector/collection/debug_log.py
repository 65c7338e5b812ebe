"""``--debug`` session logs: private files, and scrubbed when the job scrubs its captures.

Netmiko writes everything the device says to its session log. With ``scrub_secrets`` on,
that log must not keep what the capture does not: it is collected in memory and written
scrubbed (and without the run's own secrets) when the session ends.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path

from vcollector.collection.output import without_secrets
from vcollector.storage.captures import safe_part
from vcollector.storage.scrub import scrub_secrets


def private_log(directory: Path, host_name: str) -> Path:
    """A 0600 session log file (Netmiko would create it world-readable)."""
    path = directory / f"{safe_part(host_name)}.log"
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600))
    return path


class ScrubbedLog(io.BufferedIOBase):
    """A session log Netmiko writes into; scrubbed and saved on :meth:`close`."""

    def __init__(self, path: Path, platform: str | None, secrets: Sequence[str]) -> None:
        super().__init__()
        self.path = path
        self.platform = platform
        self.secrets = tuple(secrets)
        self._parts: list[bytes] = []

    def writable(self) -> bool:  # noqa: D102 - io protocol
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]  # noqa: D102
        self._parts.append(bytes(data))
        return len(data)

    def close(self) -> None:
        """Write what was logged, scrubbed, to the 0600 file."""
        if not self.closed and self._parts:
            text = b"".join(self._parts).decode("utf-8", errors="replace")
            self._parts.clear()
            clean = scrub_secrets(without_secrets(text, self.secrets), self.platform)
            with self.path.open("w", encoding="utf-8") as handle:
                handle.write(clean)
        super().close()
