"""What the history knows of each capture, kept beside the repository for speed.

Deciding that 10,000 captures are unchanged must not read 10,000 versions: each capture's
*fingerprint* — the git blob id of its bytes and a hash of its significant text (volatile
lines removed, see :mod:`vcollector.storage.volatile`) — is computed where the capture is
written, and compared here with the one of its last stored version. The index names the
revision it describes; when a crash left it behind the repository, it is rebuilt from the
repository's tree.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from vcollector.storage.atomic import write_atomic
from vcollector.storage.volatile import significant_text

INDEX_FILE = "vcollector-index.json"
INDEX_VERSION = 1


@dataclass(frozen=True)
class Fingerprint:
    """A capture's identity for the history: its git blob id and its significant hash."""

    blob: str
    significant: str


def blob_id(data: bytes) -> str:
    """The git blob id (SHA-1 of ``blob <size>\\0<data>``) of ``data``."""
    digest = hashlib.sha1(f"blob {len(data)}\0".encode(), usedforsecurity=False)
    digest.update(data)
    return digest.hexdigest()


def fingerprint(text: str, platform: str | None) -> Fingerprint:
    """The fingerprint of capture ``text`` (as written: UTF-8, unencodable characters replaced)."""
    data = text.encode("utf-8", errors="replace")
    significant = significant_text(text, platform).encode("utf-8", errors="replace")
    return Fingerprint(blob_id(data), hashlib.sha256(significant).hexdigest())


@dataclass
class Entry:
    """One capture in the history: where it is, whose it is, and its last stored version."""

    path: str  # in the repository: <output directory>/<file name>
    device_id: int
    name: str
    normalized_name: str
    capture_type: str  # the output directory
    platform: str | None
    blob: str
    significant: str
    revision: str


class Index:
    """The index file of one history repository."""

    def __init__(self, directory: Path) -> None:
        self.file = directory / INDEX_FILE
        self.revision: str | None = None
        self.entries: dict[str, Entry] = {}

    def load(self) -> Index:
        """Read the file (a missing or damaged one is an empty index, rebuilt by the caller)."""
        try:
            document = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return self
        if not isinstance(document, dict) or document.get("version") != INDEX_VERSION:
            return self
        self.revision = document.get("revision")
        try:
            self.entries = {path: Entry(**fields) for path, fields in document.get("entries", {}).items()}
        except TypeError:
            self.revision, self.entries = None, {}
        return self

    def save(self) -> None:
        """Write the file atomically (0600)."""
        document: dict[str, Any] = {
            "version": INDEX_VERSION,
            "revision": self.revision,
            "entries": {path: asdict(entry) for path, entry in sorted(self.entries.items())},
        }
        write_atomic(self.file, json.dumps(document, separators=(",", ":")).encode("utf-8"))
        self.file.chmod(0o600)

    def find(self, device: str, capture_type: str | None = None) -> list[Entry]:
        """The entries of a device (by name or normalized name, without case), of one type."""
        wanted = device.casefold()
        return sorted(
            (
                entry
                for entry in self.entries.values()
                if wanted in (entry.name.casefold(), entry.normalized_name.casefold())
                and (capture_type is None or entry.capture_type == capture_type)
            ),
            key=lambda entry: entry.path,
        )
