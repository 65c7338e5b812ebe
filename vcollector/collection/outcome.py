"""What happened to one device in one job: the record every backend reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # kept light: the CLI imports this before it needs any template
    from vcollector.parsing.validation import TfsmValidation


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
    capture_path: Path | None = None  # the capture file written
    capture_bytes: int | None = None
    plan_index: int = 0
    failure: str | None = None  # the cause, for a failed device: DeviceError.kind
    # What the device printed, on its way from the session to the store (which writes it
    # and drops it from here); never kept once stored.
    output: str | None = field(default=None, repr=False)
    # Where each data command's output is in ``output``: (command, start, end); dropped with it.
    spans: tuple[tuple[str, int, int], ...] = field(default=(), repr=False)
    target: Path | None = None  # where the store writes the output (None: --no-save)
    platform: str | None = None
    # The capture history: fingerprints taken by the store, what the history made of them.
    history: bool = False
    blob: str | None = None
    significant: str | None = None
    change: str | None = None  # "new", "changed" or "unchanged"
    lines_added: int | None = None
    lines_removed: int | None = None
    revision: str | None = None
    credential: str | None = None  # the credential set that logged in
    credentials_tried: tuple[str, ...] = ()
    worker: str | None = None  # the Celery worker that collected it (None: this machine)
    # TextFSM validation (the job's validation.use_tfsm): what the step asks, what the store found.
    validation: TfsmValidation | None = None
    invalid: str | None = None  # why the output failed validation (the device is invalid, not failed)
    untemplated: tuple[str, ...] = ()  # data commands no template fits (not validated)
    records_path: Path | None = None  # the parsed records, saved beside the capture
    records: int | None = None  # how many records the output parsed to
    invalid_path: Path | None = None  # an invalid output kept under .invalid/ (store_failures)

    @property
    def elapsed_ms(self) -> int:
        """Wall time spent on this device, in milliseconds."""
        return int((self.ended - self.started).total_seconds() * 1000)
