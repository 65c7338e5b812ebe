"""Spread one run's devices over worker processes.

Netmiko and paramiko spend most of a session in Python, so one process is bound by one
core (the GIL). A large run is split into worker processes, each running its share of the
work items on its share of the threads. The parent keeps everything a person sees: it
receives each step's outcome as it finishes and reports it exactly as one process would,
and merges the host keys the workers learnt.

Workers are forked where the OS allows (everything is loaded already, so they start in
milliseconds, and they inherit the run's credentials in memory); elsewhere, or with
``VCOLLECTOR_SPAWN_WORKERS=1``, they are fresh interpreters that receive the few
credentials they need as JSON over a private pipe (never pickled, written to disk or put in
arguments). Each worker leaves the terminal's process group, so a Ctrl-C reaches only the
parent, which stops the workers through a per-worker event: they close their sessions and
report what finished.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
import logging
import multiprocessing
import os
import queue
import sys
import threading
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any

from vcollector.cancellation import Cancellation
from vcollector.collection.tasks import StepReport
from vcollector.credentials.store import CredentialSource
from vcollector.credentials.vault import Credential
from vcollector.run.backends.local import run_items
from vcollector.run.context import RunContext
from vcollector.run.spec import RunSpec
from vcollector.run.work import WorkItem
from vcollector.transport.host_keys import KnownHosts, key_from_line, key_line
from vcollector.transport.limits import SessionLimiter

STOP_GRACE_SECONDS = 5.0
_DONE = "done"


def _split(items: Sequence[WorkItem], parts: int) -> list[list[WorkItem]]:
    return [list(items[index::parts]) for index in range(parts)]


def _use_fork() -> bool:
    """Fork on Linux (safe enough for a threaded parent there; macOS frameworks are not),
    unless ``VCOLLECTOR_SPAWN_WORKERS=1`` asks for fresh interpreters."""
    return sys.platform.startswith("linux") and os.environ.get("VCOLLECTOR_SPAWN_WORKERS") != "1"


def run_items_in_processes(
    items: Sequence[WorkItem], context: RunContext, workers: int, processes: int, report: StepReport
) -> None:
    """Run ``items`` in ``processes`` worker processes; ``report`` gets every outcome."""
    forking = _use_fork()
    mp = multiprocessing.get_context("fork") if forking else multiprocessing.get_context("spawn")
    spec = context.spec
    total = max(1, spec.max_sessions // processes) if spec.max_sessions else None
    child_spec = dataclasses.replace(spec, max_sessions=total)
    chunks = [chunk for chunk in _split(items, processes) if chunk]
    threads = max(1, -(-workers // len(chunks)))
    results = mp.Queue()
    debug = logging.getLogger("vcollector").isEnabledFor(logging.DEBUG)
    children: list[tuple[Any, Any]] = []
    if forking:
        if any(step.validation is not None for item in items for step in item.steps):
            _preload_templates()
        # Everything loaded so far lives as long as the process: keep the workers' full
        # collections from walking it again and again (~80 ms of a 150-device worker's CPU).
        gc.freeze()
    for number, chunk in enumerate(chunks):
        stop = mp.Event()
        secrets_in, secrets_out = mp.Pipe(duplex=False)
        # Forked workers get the live objects as they are (nothing is pickled); spawned
        # ones get plain data, and their credentials through the pipe.
        inherited = (context.credentials, context.host_keys) if forking else None
        process = mp.Process(
            target=_worker,
            args=(number, child_spec.to_json(), chunk, threads, stop, results, secrets_in, debug, inherited),
            name=f"vcollector-worker-{number}",
            daemon=True,
        )
        process.start()
        secrets_in.close()
        if not forking:
            _send_credentials(secrets_out, context.credentials, chunk)
        secrets_out.close()
        children.append((process, stop))

    def stop_children() -> None:
        for _process, stop in children:
            stop.set()

    context.cancellation.on_cancel(stop_children)
    learnt: list[str] = []
    done: set[int] = set()
    try:
        while len(done) < len(children):
            try:
                kind, value = results.get(timeout=0.5)
            except queue.Empty:
                # A worker that died without a word (killed, crashed) is done too; its
                # devices are reported as having no result.
                done.update(n for n, (process, _stop) in enumerate(children) if not process.is_alive())
                continue
            if kind == "outcome":
                report(value)
            elif kind == "host_keys":
                learnt.extend(value)
            elif kind == _DONE:
                done.add(value)
    finally:
        for process, _stop in children:
            process.join(STOP_GRACE_SECONDS if context.cancellation.cancelled else None)
            if process.is_alive():
                process.kill()
                process.join()
    if context.host_keys is not None:
        for line in learnt:
            name, key = key_from_line(line)
            context.host_keys.remember(name, key)


def _preload_templates() -> None:
    """Load the ntc-templates index once here, for every forked worker to inherit (~0.2 s
    each otherwise): each worker's store validates the outputs of its devices."""
    from vcollector.parsing import preload

    # A template set that does not load fails each device in its store, with the reason.
    with contextlib.suppress(Exception):
        preload()


def _send_credentials(channel: Connection, source: CredentialSource, chunk: Sequence[WorkItem]) -> None:
    names = {name for item in chunk for name in item.credentials}
    names |= {item.jump.credential or "default" for item in chunk if item.jump is not None}
    handed = {name: dataclasses.asdict(source.get(name)) for name in sorted(names)}
    channel.send_bytes(json.dumps(handed).encode("utf-8"))


def _receive_credentials(channel: Connection) -> CredentialSource:
    handed = json.loads(channel.recv_bytes().decode("utf-8"))
    return CredentialSource(given={name: Credential(**fields) for name, fields in handed.items()})


def _worker(
    number: int,
    spec_json: dict[str, Any],
    items: list[WorkItem],
    workers: int,
    stop: Any,
    results: Any,
    secrets: Connection,
    debug: bool,
    inherited: tuple[CredentialSource, KnownHosts | None] | None,
) -> None:
    """A worker process: run its items, send every outcome, then its learnt host keys."""
    os.setsid()  # out of the terminal's process group: Ctrl-C is the parent's business
    spec = RunSpec.from_json(spec_json)
    if inherited is not None:
        credentials, host_keys = inherited
    else:
        from vcollector.config.logging import setup_logging

        setup_logging(debug)
        credentials = _receive_credentials(secrets)
        host_keys = (
            KnownHosts(spec.known_hosts, strict=spec.strict_host_keys) if spec.check_host_keys else None
        )
    secrets.close()
    context = RunContext(
        spec=spec,
        credentials=credentials,
        cancellation=Cancellation(),
        limiter=SessionLimiter(spec.sessions_per_device, spec.max_sessions),
        host_keys=host_keys,
    )
    lock = threading.Lock()

    def send(kind: str, value: Any) -> None:
        with lock:
            results.put((kind, value))

    def watch_stop() -> None:
        stop.wait()
        context.cancellation.cancel()

    threading.Thread(target=watch_stop, name="worker-stop", daemon=True).start()
    try:
        run_items(items, context, workers, lambda outcome: send("outcome", outcome))
        context.jumps.close()
        if host_keys is not None:
            send("host_keys", [key_line(name, key) for name, key in host_keys.learnt()])
    finally:
        send(_DONE, number)
        results.close()
        results.join_thread()  # everything sent has reached the pipe before the process ends
