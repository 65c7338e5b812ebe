"""Ctrl-C and SIGTERM: the CLI owns the process, so it owns its signals.

The run executes in a worker thread while the main thread waits interruptibly; on a signal
the run's :class:`~vcollector.cancellation.Cancellation` is cancelled and
:class:`~vcollector.errors.Interrupted` raised once the run has wound down (bounded).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from vcollector.cancellation import Cancellation
from vcollector.errors import Interrupted

T = TypeVar("T")


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
