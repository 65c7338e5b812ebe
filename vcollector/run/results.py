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
        """Devices that succeeded (collected, and valid where the job validates)."""
        return [outcome for outcome in self.outcomes if outcome.ok and outcome.invalid is None]

    @property
    def failed(self) -> list[DeviceOutcome]:
        """Devices that failed."""
        return [outcome for outcome in self.outcomes if not outcome.ok]

    @property
    def invalid(self) -> list[DeviceOutcome]:
        """Devices whose output failed the job's TextFSM validation (collected, not failed)."""
        return [outcome for outcome in self.outcomes if outcome.ok and outcome.invalid is not None]

    @property
    def saved(self) -> list[DeviceOutcome]:
        """Devices whose capture was written."""
        return [outcome for outcome in self.outcomes if outcome.capture_path is not None]

    @property
    def ok(self) -> bool:
        """True when the job ran and every device succeeded (none failed, none invalid)."""
        return self.error is None and bool(self.outcomes) and not self.failed and not self.invalid

    @property
    def warnings(self) -> list[str]:
        """The job's warnings, one line each: the platforms and commands no TextFSM template
        fits, with how many devices (their output was saved without validation)."""
        counts: dict[tuple[str, str], int] = {}
        for outcome in self.outcomes:
            for command in outcome.untemplated:
                key = (outcome.platform or "no platform", command)
                counts[key] = counts.get(key, 0) + 1
        if not counts:
            return []
        pairs = ", ".join(
            f"{platform} '{command}' ({count} device{'' if count == 1 else 's'})"
            for (platform, command), count in sorted(counts.items())
        )
        return [f"no TextFSM template for {pairs}: not validated"]

    @property
    def elapsed_ms(self) -> int:
        """Wall time of the job in milliseconds."""
        return int((self.ended - self.started).total_seconds() * 1000)
