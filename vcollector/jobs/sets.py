"""Which job files a multi-job run takes (``--jobs`` with globs, ``--jobs-dir``)."""

from __future__ import annotations

import glob
from collections.abc import Sequence
from pathlib import Path

from vcollector.errors import VCollectorError

_GLOB_CHARS = frozenset("*?[")


def expand_job_paths(patterns: Sequence[str], jobs_dir: Path | None) -> list[Path]:
    """Job files from ``--jobs`` (globs expanded here too) and ``--jobs-dir``, de-duplicated.

    A pattern that matches nothing, or a missing directory, is an error naming it.
    """
    found: list[Path] = []
    for pattern in patterns:
        if _GLOB_CHARS & set(pattern):
            matches = sorted(glob.glob(str(Path(pattern).expanduser())))
            if not matches:
                raise VCollectorError(f"no job file matches {pattern!r}")
            found.extend(Path(match) for match in matches)
        else:
            found.append(Path(pattern).expanduser())
    if jobs_dir is not None:
        directory = jobs_dir.expanduser()
        if not directory.is_dir():
            raise VCollectorError(f"jobs directory not found: {directory}")
        in_dir = sorted(path for path in directory.glob("*.json") if path.is_file())
        if not in_dir:
            raise VCollectorError(f"no *.json job files in {directory}")
        found.extend(in_dir)
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())
