"""Stopping a run promptly, without partial files: one token shared by every task of a run.

Whoever owns the process (the CLI on Ctrl-C or SIGTERM, a worker on its parent's request)
calls :meth:`Cancellation.cancel`: devices not started yet are skipped, open sessions are
closed by the closers their transport registered (which ends their reads at once), and
capture writes in progress are awaited. No signal handling here: that is the CLI's.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

from vcollector.errors import DeviceError

INTERRUPTED = "interrupted"


class Cancellation:
    """Shared by every task of a run: the stop flag, open sessions and writes in progress."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._sessions: dict[int, Callable[[], None]] = {}
        self._writes = 0
        self._writes_done = threading.Condition(self._lock)
        self._hooks: list[Callable[[], None]] = []

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._event.is_set()

    def check(self) -> None:
        """Raise :class:`DeviceError` when the run is cancelled."""
        if self._event.is_set():
            raise DeviceError(INTERRUPTED)

    @contextlib.contextmanager
    def session(self, close: Callable[[], None]) -> Iterator[None]:
        """Track an open session: :meth:`cancel` calls ``close`` (from another thread)."""
        key = id(close)
        with self._lock:
            self._sessions[key] = close
        try:
            self.check()
            yield
        finally:
            with self._lock:
                self._sessions.pop(key, None)

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Mark a capture write; none starts after cancellation, running ones are awaited."""
        with self._lock:
            if self._event.is_set():
                raise DeviceError(INTERRUPTED)
            self._writes += 1
        try:
            yield
        finally:
            with self._lock:
                self._writes -= 1
                self._writes_done.notify_all()

    def on_cancel(self, hook: Callable[[], None]) -> None:
        """Call ``hook`` on cancellation (at once if already cancelled)."""
        with self._lock:
            self._hooks.append(hook)
        if self._event.is_set():
            hook()

    def cancel(self) -> None:
        """Stop the run: no new devices or writes, and every open session closed."""
        self._event.set()
        with self._lock:
            hooks = list(self._hooks)
        for hook in hooks:
            with contextlib.suppress(Exception):
                hook()
        with self._lock:
            closers = list(self._sessions.values())
        for close in closers:
            with contextlib.suppress(Exception):
                close()

    def wait_for_writes(self, timeout: float) -> None:
        """Wait (bounded) until no capture write is in progress."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._writes and (remaining := deadline - time.monotonic()) > 0:
                self._writes_done.wait(remaining)
