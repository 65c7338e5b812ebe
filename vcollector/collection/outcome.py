"""What happened to one device in one job: the record every backend reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


@dataclass
class DeviceOutcome:
    """What happened to one device in one job run."""

    name: str
    address: str | None
    device_id: int
    ok: bool
    reason: str | None
    started: datetime
    ended: datetime
    capture_path: Path | None = None
    capture_bytes: int | None = None
    plan_index: int = 0
    failure: str | None = None  # the cause, for a failed device: DeviceError.kind

    @property
    def elapsed_ms(self) -> int:
        """Wall time spent on this device, in milliseconds."""
        return int((self.ended - self.started).total_seconds() * 1000)
