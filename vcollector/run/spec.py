"""What a run is asked to do, as plain data: no live objects and no secret in it.

The same :class:`RunSpec` drives every backend (threads here, worker processes, Celery
workers); the live side of a run in one process is a :class:`~vcollector.run.context.RunContext`.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from vcollector.transport.limits import DEFAULT_SESSIONS_PER_DEVICE

# Below this many device sessions a second process costs more (start-up) than it saves.
PROCESS_THRESHOLD = 100
DEVICES_PER_PROCESS = 50


def run_timestamp() -> str:
    """The ``{timestamp}`` of a run (local time, YYYYMMDD_HHMMSS), taken once per run."""
    return datetime.now().strftime("%Y%m%d_%H%M%S")


@dataclass(frozen=True)
class RunSpec:
    """Options every job of one run shares."""

    db_path: Path
    output_dir: Path | None = None
    limit: int | None = None
    save: bool = True
    retries: int = 0
    sessions_per_device: int = DEFAULT_SESSIONS_PER_DEVICE
    max_sessions: int | None = None
    shared_sessions: bool = True
    processes: int | None = None  # None: decide from the number of devices and cores
    strict_host_keys: bool = False
    check_host_keys: bool = True
    known_hosts: Path | None = None  # None: <vcollector home>/known_hosts
    debug_dir: Path | None = None  # --debug: per-device session logs go here
    max_concurrent_jobs: int = 1
    max_output_mb: float | None = None  # --max-output-mb: overrides every job's execution.max_output_mb
    history: bool = True  # --no-history: no job keeps versions in this run
    max_auth_attempts: int = 3  # credential sets tried per device, at most
    max_sessions_per_jump_host: int = 20
    scrub_secrets: bool = False  # --scrub-secrets: every job scrubs, whatever its storage.scrub_secrets
    broker: str | None = None  # --broker: the sessions run on Celery workers (None: here)
    force_save: bool = False  # --force-save: captures that fail TextFSM validation are saved too

    def process_count(self, sessions: int, workers: int) -> int:
        """Worker processes for ``sessions`` device sessions with ``workers`` threads in all."""
        if self.processes is not None:
            return max(1, min(self.processes, sessions, workers))
        if sessions < PROCESS_THRESHOLD:
            return 1
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        return max(1, min(cores, -(-sessions // DEVICES_PER_PROCESS), workers))

    def to_json(self) -> dict[str, Any]:
        """The spec as JSON-ready values."""
        values = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        return {key: str(value) if isinstance(value, Path) else value for key, value in values.items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunSpec:
        """The spec from :meth:`to_json` values."""
        paths = {"db_path", "output_dir", "known_hosts", "debug_dir"}
        known = {field.name for field in dataclasses.fields(cls)}
        values: dict[str, Any] = {
            key: Path(value) if key in paths and value is not None else value
            for key, value in data.items()
            if key in known
        }
        return cls(**values)
