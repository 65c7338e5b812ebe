"""Stopping a run promptly on Ctrl-C or SIGTERM, without partial files.

The runs execute in worker threads; the main thread waits interruptibly. On a signal it
cancels: devices not started yet are skipped, open SSH sessions are closed (which ends
their reads at once), and the main thread waits only for capture writes in progress.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from vcollector.errors import DeviceError

T = TypeVar("T")
INTERRUPTED = "interrupted"


class Interrupted(Exception):
    """The run was stopped by Ctrl-C or SIGTERM."""


class Cancellation:
    """Shared by every task of a run: the stop flag, open sessions and writes in progress."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._sessions: set[Any] = set()
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
    def session(self, connection: Any) -> Iterator[None]:
        """Track an open Netmiko session so :meth:`cancel` can close it."""
        with self._lock:
            self._sessions.add(connection)
        try:
            self.check()
            yield
        finally:
            with self._lock:
                self._sessions.discard(connection)

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
            sessions = list(self._sessions)
        for connection in sessions:
            send_fin(connection)  # also wakes reads blocked on the socket at once
            client = getattr(connection, "remote_conn_pre", None)
            with contextlib.suppress(Exception):
                if client is not None:
                    client.close()

    def wait_for_writes(self, timeout: float) -> None:
        """Wait (bounded) until no capture write is in progress."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._writes and (remaining := deadline - time.monotonic()) > 0:
                self._writes_done.wait(remaining)


def send_fin(netmiko_connection: Any) -> None:
    """End a Netmiko session's TCP connection now, before paramiko's close.

    paramiko closes the socket while its reader thread may still sit in ``recv()``, which
    delays the actual close by up to its poll interval: the per-device session slot would be
    free while the device still saw the session.
    """
    client = getattr(netmiko_connection, "remote_conn_pre", None)
    transport = client.get_transport() if client is not None else None
    sock = getattr(transport, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def run_interruptibly(work: Callable[[], T], cancellation: Cancellation, grace: float = 5.0) -> T:
    """Run ``work`` in a thread; on SIGINT/SIGTERM cancel it and raise :class:`Interrupted`.

    After cancelling, waits up to ``grace`` seconds for the work to wind down (sessions
    closed, writes finished) so the caller can report what completed.
    """
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=target, name="vcollector-run", daemon=True)
    previous = _raise_on_sigterm()
    try:
        worker.start()
        while worker.is_alive():
            worker.join(0.2)
    except KeyboardInterrupt:
        cancellation.cancel()
        worker.join(grace)
        cancellation.wait_for_writes(grace)
        raise Interrupted from None
    finally:
        _restore_sigterm(previous)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]


def _on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _raise_on_sigterm() -> Any:
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _on_sigterm)


def _restore_sigterm(previous: Any) -> None:
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)
