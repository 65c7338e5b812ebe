"""Results of a run: per job, built from device outcomes as they arrive."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from vcollector.collection.outcome import DeviceOutcome
from vcollector.run.plan import JobPlan


@dataclass
class JobResult:
    """The outcome of one job run."""

    plan: JobPlan
    outcomes: list[DeviceOutcome]
    started: datetime
    ended: datetime
    error: str | None = None

    @property
    def succeeded(self) -> list[DeviceOutcome]:
        """Devices that succeeded."""
        return [outcome for outcome in self.outcomes if outcome.ok]

    @property
    def failed(self) -> list[DeviceOutcome]:
        """Devices that failed."""
        return [outcome for outcome in self.outcomes if not outcome.ok]

    @property
    def saved(self) -> list[DeviceOutcome]:
        """Devices whose capture was written."""
        return [outcome for outcome in self.outcomes if outcome.capture_path is not None]

    @property
    def ok(self) -> bool:
        """True when the job ran and every device succeeded."""
        return self.error is None and bool(self.outcomes) and not self.failed

    @property
    def elapsed_ms(self) -> int:
        """Wall time of the job in milliseconds."""
        return int((self.ended - self.started).total_seconds() * 1000)
