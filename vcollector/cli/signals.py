"""Ctrl-C and SIGTERM: the CLI owns the process, so it owns its signals.

The run executes in a worker thread while the main thread waits interruptibly; on a signal
the run's :class:`~vcollector.cancellation.Cancellation` is cancelled and
:class:`~vcollector.errors.Interrupted` raised once the run has wound down (bounded).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from vcollector.cancellation import Cancellation
from vcollector.errors import Interrupted, VCollectorError

T = TypeVar("T")
EXIT_INTERRUPTED = 130

_interrupted = threading.Event()


def _interrupt(signum: int, frame: object) -> None:
    _interrupted.set()
    raise KeyboardInterrupt


def install() -> None:
    """Ctrl-C and SIGTERM raise ``KeyboardInterrupt`` from the first line of the program on,
    and are remembered, so that even a signal during start-up ends in one line and exit 130."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _interrupt)
        signal.signal(signal.SIGTERM, _interrupt)


def was_interrupted() -> bool:
    """True once Ctrl-C or SIGTERM reached the program."""
    return _interrupted.is_set()


def interrupted_while_loading(tool: str, args: Sequence[str]) -> NoReturn:
    """A signal before the command line was even read: one line, the results file, exit 130."""
    sys.stderr.write("Interrupted before the run started; nothing was collected.\n")
    write_interrupted_results(tool, args)
    sys.stderr.flush()
    os._exit(EXIT_INTERRUPTED)


def write_interrupted_results(tool: str, args: Sequence[str]) -> None:
    """Replace the ``--json`` file named in ``args`` (if any) by an interrupted, empty run."""
    json_path = option_value(args, "--json")
    if not json_path:
        return
    from vcollector.run.results_json import results_document, write_results

    now = datetime.now(timezone.utc)
    document = results_document(tool, [], now, now, interrupted=True, error="interrupted")
    with contextlib.suppress(VCollectorError):
        write_results(Path(json_path), document)


def option_value(args: Sequence[str], name: str) -> str | None:
    """The value of ``name`` in a command line (``--name VALUE`` or ``--name=VALUE``)."""
    for index, arg in enumerate(args):
        if arg == name and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(name + "="):
            return arg[len(name) + 1 :]
    return None


def run_interruptibly(work: Callable[[], T], cancellation: Cancellation, grace: float = 5.0) -> T:
    """Run ``work`` in a thread; on SIGINT/SIGTERM cancel it and raise :class:`Interrupted`.

    After cancelling, waits up to ``grace`` seconds for the work to wind down (sessions
    closed, writes finished) so the caller can report what completed.
    """
    outcome: dict[str, Any] = {}
    # An Event, not Thread.join: a signal that interrupts join() can leave the thread looking
    # finished while it still runs (CPython's tstate-lock race), and the run would then be
    # cut short before it had wound down.
    finished = threading.Event()

    def target() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            finished.set()

    worker = threading.Thread(target=target, name="vcollector-run", daemon=True)
    previous = _raise_on_sigterm()
    try:
        worker.start()
        while not finished.wait(0.2):
            pass
    except KeyboardInterrupt:
        cancellation.cancel()
        finished.wait(grace)
        cancellation.wait_for_writes(grace)
        raise Interrupted from None
    finally:
        _restore_sigterm(previous)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]


def _raise_on_sigterm() -> Any:
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _interrupt)


def _restore_sigterm(previous: Any) -> None:
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)
