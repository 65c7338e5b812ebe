"""Where a device's output becomes a capture file: written atomically, or the device fails.

Every backend hands each finished step to :class:`CaptureStore` in the process that owns
the files (a worker thread here, a worker process, the coordinator of a distributed run),
so captures are written the same way whoever ran the session.
"""

from __future__ import annotations

from vcollector.cancellation import Cancellation
from vcollector.collection.outcome import DeviceOutcome
from vcollector.errors import CaptureError, DeviceError
from vcollector.storage.captures import write_capture
from vcollector.storage.history_index import fingerprint
from vcollector.transport.failures import one_line


class CaptureStore:
    """Writes each successful step's output to its capture path (mode 0600, atomically)."""

    def __init__(self, cancellation: Cancellation) -> None:
        self.cancellation = cancellation

    def __call__(self, outcome: DeviceOutcome) -> DeviceOutcome:
        """Store ``outcome``'s output (if any); the outcome no longer carries it afterwards."""
        output, outcome.output = outcome.output, None
        if not outcome.ok or output is None or outcome.target is None:
            return outcome
        try:
            with self.cancellation.writing():
                outcome.capture_bytes = write_capture(outcome.target, output)
        except (CaptureError, DeviceError) as exc:
            outcome.ok = False
            outcome.reason = one_line(exc.reason if isinstance(exc, DeviceError) else str(exc))
            outcome.failure = exc.kind if isinstance(exc, DeviceError) else "capture"
            return outcome
        outcome.capture_path = outcome.target
        if outcome.history:
            # Taken here, where the output is at hand (in the device's thread or process),
            # so that the history of a large run only compares fingerprints.
            mark = fingerprint(output, outcome.platform)
            outcome.blob, outcome.significant = mark.blob, mark.significant
        return outcome
