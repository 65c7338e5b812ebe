"""Capture files: where they go, and how they are written (atomically, mode 0600).

A capture is written to a temporary file in the target directory and renamed over the
old one only when complete, so a failed, interrupted or timed-out device never leaves a
partial file and never destroys its previous good capture.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from vcollector.config.paths import CAPTURE_DIR_ENV, DEFAULT_CAPTURE_BASE
from vcollector.errors import CaptureError

if TYPE_CHECKING:  # the history commands start without the job model
    from vcollector.jobs.model import Job
from vcollector.storage.atomic import write_atomic

_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


def capture_base(job: Job, output_dir: str | Path | None = None) -> Path:
    """``--output-dir``, else ``$VCOLLECTOR_CAPTURE_DIR``, else the job's ``storage.base_path``,
    else ``~/.vcollector/collections``; relative paths resolve against the working directory."""
    chosen = output_dir or os.environ.get(CAPTURE_DIR_ENV) or job.storage.base_path or DEFAULT_CAPTURE_BASE
    return Path(chosen).expanduser().absolute()


def default_base(output_dir: str | Path | None = None) -> Path:
    """The capture base without a job: ``--output-dir``, else ``$VCOLLECTOR_CAPTURE_DIR``,
    else ``~/.vcollector/collections`` (where the history commands look)."""
    chosen = output_dir or os.environ.get(CAPTURE_DIR_ENV) or DEFAULT_CAPTURE_BASE
    return Path(chosen).expanduser().absolute()


def safe_part(value: str) -> str:
    """``value`` made safe as one path component (no separators, no control characters)."""
    cleaned = _UNSAFE.sub("_", value.strip()).strip(" ")
    return "_" if cleaned in {"", ".", ".."} else cleaned


@dataclass(frozen=True)
class CaptureTarget:
    """Renders the capture path of each device for one job run."""

    base: Path
    job: Job
    timestamp: str
    _inside: dict[Path, bool] = field(default_factory=dict, init=False, repr=False, compare=False)

    @cached_property
    def directory(self) -> Path:
        """``<base>/<output_directory>``."""
        return self.base / self.job.output_directory

    @cached_property
    def varies_by_device(self) -> bool:
        """True when the file name has ``{device_name}`` or ``{device_id}`` in it."""
        pattern = self.job.storage.filename_pattern
        return "{device_name}" in pattern or "{device_id}" in pattern

    @cached_property
    def _same_for_every_device(self) -> dict[str, str]:
        return {
            "timestamp": self.timestamp,
            "capture_type": safe_part(self.job.capture_type),
            "job_id": safe_part(self.job.id),
        }

    def path_for(self, device_name: str, device_id: int) -> Path:
        """The capture path of one device; refuses anything that would leave the base."""
        rendered = self.job.storage.filename_pattern.format(
            device_name=safe_part(device_name), device_id=device_id, **self._same_for_every_device
        )
        path = self.directory / rendered
        # The file name is one sanitised component; only its directory (the same for nearly
        # every device) can lead elsewhere, e.g. through a symlink, so resolve that once.
        parent = path.parent
        inside = self._inside.get(parent)
        if inside is None:
            base = self._resolved_base
            resolved = parent.resolve()
            inside = self._inside[parent] = resolved == base or base in resolved.parents
        if not inside or path.name in {"", ".", ".."}:
            raise CaptureError(f"capture path {path} would leave the capture directory {self._resolved_base}")
        return path

    @cached_property
    def _resolved_base(self) -> Path:
        return self.base.resolve()


def write_capture(path: Path, text: str) -> int:
    """Write ``text`` (UTF-8) to ``path`` atomically with mode 0600; returns the byte count."""
    try:
        return write_atomic(path, text.encode("utf-8", errors="replace"))
    except OSError as exc:
        raise CaptureError(f"cannot write capture {path}: {exc.strerror or exc}") from exc
