"""Write a file so that readers see the old content or the new, never a part of it.

The data goes to a 0600 temporary file in the same directory (``.<name>.<random>.partial``),
is flushed to disk, and is renamed over the target. A process killed mid-write (SIGKILL,
power loss) leaves such a temporary file behind: :func:`remove_stale_partials` clears ours
at the start of the next run.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

TEMP_SUFFIX = ".partial"
# A file name may have 255 bytes; the temporary name adds a dot, a dot, 8 random
# characters and the suffix, so the target's name is shortened in it when needed.
_NAME_MAX = 255
_RANDOM = 8
_OURS = re.compile(r"^\..+\.[a-z0-9_]{8}\.partial$")
# Older than this, a temporary file of ours belongs to no write in progress: a write takes
# seconds at most, and overlapping runs leave each other's fresh files alone.
STALE_AFTER_SECONDS = 3600.0
_SLICE = 1 << 20


def _temp_prefix(name: str) -> str:
    room = _NAME_MAX - _RANDOM - len(TEMP_SUFFIX) - 2
    encoded = name.encode("utf-8", errors="surrogateescape")
    if len(encoded) > room:
        name = encoded[:room].decode("utf-8", errors="ignore")
    return f".{name}."


def write_atomic(path: Path, data: bytes | str) -> int:
    """Write ``data`` (``str`` as UTF-8, unencodable characters replaced) to ``path`` via
    a 0600 temporary file in the same directory and a rename; returns the byte count.

    Raises :class:`OSError`; the temporary file is removed on any failure or interruption.
    Text is encoded a slice at a time, so a large capture is not copied whole once more.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=_temp_prefix(path.name), suffix=TEMP_SUFFIX)
    written = 0
    try:
        with os.fdopen(fd, "wb") as handle:
            if isinstance(data, bytes):
                written = handle.write(data)
            else:
                for start in range(0, len(data), _SLICE):
                    written += handle.write(data[start : start + _SLICE].encode("utf-8", errors="replace"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(temp_name).unlink()
        raise
    return written


def remove_stale_partials(directories: Iterable[Path], older_than: float = STALE_AFTER_SECONDS) -> int:
    """Remove our temporary files older than ``older_than`` seconds from ``directories``.

    Only names of our own shape are touched, never a directory's other files; missing or
    unreadable directories are skipped. Returns how many files were removed.
    """
    removed = 0
    cutoff = time.time() - older_than
    for directory in dict.fromkeys(directories):
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            if not entry.name.endswith(TEMP_SUFFIX) or not _OURS.match(entry.name):
                continue
            with contextlib.suppress(OSError):
                if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                    Path(entry.path).unlink()
                    removed += 1
    return removed
