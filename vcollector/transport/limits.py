"""Limits on simultaneous SSH sessions: per device (across every running job) and overall.

Network gear often allows only a handful of VTY lines; two jobs of one run must not
together exhaust them. The limits are enforced here, around every login.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

DEFAULT_SESSIONS_PER_DEVICE = 2


class SessionLimiter:
    """At most ``per_device`` sessions to one device and ``total`` sessions overall."""

    def __init__(self, per_device: int = DEFAULT_SESSIONS_PER_DEVICE, total: int | None = None) -> None:
        if per_device < 1:
            raise ValueError("sessions per device must be at least 1")
        if total is not None and total < 1:
            raise ValueError("total sessions must be at least 1")
        self.per_device = per_device
        self.total = total
        self._lock = threading.Lock()
        self._devices: dict[str, threading.BoundedSemaphore] = {}
        self._overall: AbstractContextManager[object] = (
            threading.BoundedSemaphore(total) if total else nullcontext()
        )

    def _device(self, key: str) -> threading.BoundedSemaphore:
        with self._lock:
            semaphore = self._devices.get(key)
            if semaphore is None:
                semaphore = self._devices[key] = threading.BoundedSemaphore(self.per_device)
            return semaphore

    @contextmanager
    def session(self, key: str) -> Iterator[None]:
        """Hold one session slot for device ``key`` (its address and port)."""
        # Device slot first: a thread waiting for a busy device must not hold a global slot.
        with self._device(key), self._overall:
            yield
