"""Spread one run's devices over worker processes.

Netmiko and paramiko spend most of a session in Python, so one process is bound by one
core (the GIL). A large run is split into worker processes, each its own Nornir run with
its share of the hosts and of the thread pool. The parent keeps everything a person sees:
it receives each device's outcome as it finishes and prints, saves JSON and merges
learnt host keys exactly as a single process would.

Workers are forked from the parent where the OS can (everything is imported already, so
they start in milliseconds), else started as ``python -m vcollector.run.backends.processes``. Either way
they run in their own session, so a Ctrl-C at the terminal reaches only the parent, which
stops them with SIGTERM (they close their SSH sessions and report what finished). Results
come back as pickles over a pipe, between our own processes only; the credential is never
written to disk, an argument or the environment.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

from vcollector.cancellation import Cancellation
from vcollector.collection.outcome import DeviceOutcome
from vcollector.collection.tasks import JobStep, SessionOptions, StepReport
from vcollector.credentials.vault import Credential
from vcollector.run.plan import RunSettings
from vcollector.transport.host_keys import KnownHosts
from vcollector.transport.limits import DEFAULT_SESSIONS_PER_DEVICE, SessionLimiter

STOP_GRACE_SECONDS = 5.0


@dataclass
class WorkerPayload:
    """Everything one worker process needs."""

    entries: list[Any]
    steps: dict[str, list[JobStep]]
    credential: Credential
    workers: int
    retries: int
    session_log_dir: Path | None
    per_device: int
    total: int | None
    known_hosts: Path | None
    strict_host_keys: bool
    debug: bool


def _split(items: Sequence[Any], parts: int) -> list[list[Any]]:
    return [list(items[index::parts]) for index in range(parts)]


def run_steps_in_processes(
    entries: Sequence[Any],
    steps: dict[str, list[JobStep]],
    credential: Credential,
    settings: RunSettings,
    workers: int,
    processes: int,
    report: StepReport,
) -> None:
    """Run the hosts in ``processes`` worker processes; ``report`` gets every outcome."""
    limiter = settings.session_limiter
    per_device = limiter.per_device if limiter else DEFAULT_SESSIONS_PER_DEVICE
    total = max(1, limiter.total // processes) if limiter and limiter.total else None
    host_keys = settings.host_keys
    payloads = [
        WorkerPayload(
            entries=chunk,
            steps={name: steps[name] for name, _device, _problem in chunk},
            credential=credential,
            workers=max(1, -(-workers // processes)),
            retries=settings.retries,
            session_log_dir=settings.session_log_dir,
            per_device=per_device,
            total=total,
            known_hosts=host_keys.path if host_keys else None,
            strict_host_keys=bool(host_keys and host_keys.strict),
            debug=logging.getLogger("vcollector").isEnabledFor(logging.DEBUG),
        )
        for chunk in _split(entries, processes)
        if chunk
    ]
    children: list[_Child] = []

    def stop_children() -> None:
        for child in children:
            child.terminate()

    settings.cancellation.on_cancel(stop_children)
    readers: list[threading.Thread] = []
    learnt: list[tuple[str, Any]] = []
    try:
        for payload in payloads:
            child = _fork(payload) if _can_fork() else _spawn(payload)
            children.append(child)
            reader = threading.Thread(
                target=_read_results, args=(child.results, report, learnt), name="worker-results", daemon=True
            )
            reader.start()
            readers.append(reader)
        for reader in readers:
            reader.join()
    finally:
        for child in children:
            child.wait(STOP_GRACE_SECONDS if settings.cancellation.cancelled else None)
    if host_keys is not None:
        for name, key in learnt:
            host_keys.remember(name, key)


def _can_fork() -> bool:
    """Fork on Linux (safe enough for a threaded parent there; macOS frameworks are not),
    unless ``VCOLLECTOR_SPAWN_WORKERS=1`` asks for fresh interpreters."""
    return sys.platform.startswith("linux") and os.environ.get("VCOLLECTOR_SPAWN_WORKERS") != "1"


@dataclass
class _Child:
    """A running worker: its results pipe and how to stop and reap it."""

    pid: int
    results: IO[bytes]
    process: subprocess.Popen[bytes] | None = None

    def terminate(self) -> None:
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGTERM)

    def wait(self, timeout: float | None) -> None:
        if self.process is not None:
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            return
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with contextlib.suppress(ChildProcessError):
                done, _status = os.waitpid(self.pid, os.WNOHANG if deadline is not None else 0)
                if done or deadline is None:
                    return
            if deadline is not None and time.monotonic() > deadline:
                with contextlib.suppress(OSError):
                    os.kill(self.pid, signal.SIGKILL)
                deadline = None
            time.sleep(0.05)


def _fork(payload: WorkerPayload) -> _Child:
    read_end, write_end = os.pipe()
    # Everything loaded so far lives as long as the process: keep the worker's full garbage
    # collections from walking it again and again (~80 ms of a 150-device worker's CPU).
    gc.freeze()
    pid = os.fork()
    if pid == 0:  # the worker: never returns into the parent's code
        code = 1
        try:
            os.close(read_end)
            os.setsid()  # out of the terminal's process group: Ctrl-C is the parent's business
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            with os.fdopen(write_end, "wb") as output:
                _worker(payload, output)
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    return _Child(pid, os.fdopen(read_end, "rb"))


def _spawn(payload: WorkerPayload) -> _Child:
    process = subprocess.Popen(
        [sys.executable, "-m", "vcollector.run.backends.processes"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    if process.stdin is None or process.stdout is None:  # pragma: no cover - pipes were asked for
        raise OSError("worker process has no pipes")
    pickle.dump(payload, process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
    process.stdin.close()
    return _Child(process.pid, process.stdout, process)


def _read_results(stream: IO[bytes], report: StepReport, learnt: list[tuple[str, Any]]) -> None:
    """Pass a worker's outcomes on as they arrive, until it closes its pipe."""
    while True:
        try:
            kind, value = pickle.load(stream)  # noqa: S301 - our own worker process
        except (EOFError, pickle.UnpicklingError, OSError):
            return
        if kind == "outcome":
            report(value)
        elif kind == "host_keys":
            learnt.extend(value)


def _worker(payload: WorkerPayload, output: BinaryIO) -> None:
    from vcollector.run.backends.local import run_steps

    cancellation = Cancellation()
    signal.signal(signal.SIGTERM, lambda *_: cancellation.cancel())
    lock = threading.Lock()

    def send(kind: str, value: Any) -> None:
        with lock:
            try:
                pickle.dump((kind, value), output, protocol=pickle.HIGHEST_PROTOCOL)
                output.flush()
            except (BrokenPipeError, OSError):
                cancellation.cancel()  # the parent is gone: stop

    def report(outcome: DeviceOutcome) -> None:
        send("outcome", outcome)

    host_keys = (
        KnownHosts(payload.known_hosts, strict=payload.strict_host_keys) if payload.known_hosts else None
    )
    options = SessionOptions(
        retries=payload.retries,
        session_limiter=SessionLimiter(payload.per_device, payload.total),
        session_log_dir=payload.session_log_dir,
        cancellation=cancellation,
        host_keys=host_keys,
    )
    run_steps(payload.entries, payload.steps, payload.credential, options, payload.workers, report)
    if host_keys is not None:
        send("host_keys", host_keys.learnt())


def main() -> None:
    """Entry point of a worker process: read the payload on stdin, write results on stdout."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    output = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    # Nothing else may write to the results pipe.
    sys.stdout = sys.stderr
    payload: WorkerPayload = pickle.load(sys.stdin.buffer)  # noqa: S301 - sent by our parent
    from vcollector.config.logging import setup_logging

    setup_logging(payload.debug)
    _worker(payload, output)
    output.close()


if __name__ == "__main__":
    main()
