"""``vcollector worker``: collect the devices a coordinator sends, from this machine, with its vault.

One worker per site is the usual deployment: it dials out to the broker (nothing dials in),
consumes its site's queue, and reaches the devices the coordinator cannot. Every Ctrl-C or
SIGTERM is a warm shutdown: the devices being collected finish and are acknowledged; those
not started stay in the queue for another worker.
"""

from __future__ import annotations

import os
import signal
import socket
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer

from vcollector.cli import common
from vcollector.config.paths import VAULT_ENV
from vcollector.errors import VCollectorError

DEFAULT_CONCURRENCY = 12  # as a local run's execution.max_workers


def worker(
    broker: common.BrokerOption = None,
    site: Annotated[
        list[str] | None,
        typer.Option(
            "--site",
            help="Serve this site's queue (a site code of assets.db); repeat it for more.",
            show_default=False,
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option("--name", help="This worker's name (default: vcollector-<pid>).", show_default=False),
    ] = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, max=1000, help="Devices collected at once (threads).")
    ] = DEFAULT_CONCURRENCY,
    vault: common.VaultPathOption = None,
    known_hosts: Annotated[
        Path | None,
        typer.Option(
            "--known-hosts",
            help="This worker's known_hosts (default: ~/.vcollector/known_hosts).",
            show_default=False,
        ),
    ] = None,
    debug: common.DebugOption = False,
) -> None:
    """Run a vcollector worker: collect the devices a coordinator (run-job --broker) sends."""  # fmt: skip
    common.configure_output()
    common.setup_logging(debug)
    url = common.broker_url(broker, _settings().defaults.broker)
    if not url:
        common.fail(f"no broker: give --broker URL or set {common.BROKER_ENV}")
    sites = [code.strip() for value in site or [] for code in value.split(",") if code.strip()]
    credentials = _unlock(vault)
    from vcollector.run.backends.celery_app import (
        BrokerUnreachable,
        check_broker,
        default_queue,
        safe_url,
        site_queue,
        task_queue,
    )
    from vcollector.run.backends.celery_worker import WorkerRuntime, worker_app

    try:
        check_broker(url)
    except BrokerUnreachable as exc:
        common.fail(str(exc))
    hostname = f"{name or f'vcollector-{os.getpid()}'}@{socket.gethostname()}"
    runtime = WorkerRuntime(credentials, hostname, known_hosts.expanduser() if known_hosts else None)
    app = worker_app(url, runtime)
    queues = [site_queue(code) for code in sites] or [default_queue()]
    app.conf.task_queues = [task_queue(queue) for queue in queues]
    _quiet_celery()
    shown = f"broker {safe_url(url)}, queues {', '.join(queues)}, {concurrency} at once"
    _on_ready(lambda: common.echo(f"vcollector worker {hostname} ready: {shown}"))
    celery_worker = app.Worker(
        pool_cls="threads",
        concurrency=concurrency,
        hostname=hostname,
        queues=queues,
        loglevel="DEBUG" if debug else "WARNING",
        quiet=True,
        without_mingle=True,
        without_gossip=True,
        optimization="fair",
    )
    try:
        celery_worker.start()  # returns after the warm shutdown
    finally:
        runtime.close()
    code = celery_worker.exitcode or 0
    common.echo(f"vcollector worker {hostname} stopped.")
    raise typer.Exit(code)


def _settings() -> Any:
    from vcollector.config.settings import load_settings

    try:
        return load_settings()
    except VCollectorError as exc:
        common.fail(str(exc))


def _unlock(vault: Path | None) -> Any:
    """This worker's vault, unlocked once (environment or keyring; no prompt: a daemon)."""
    from vcollector.credentials import password as vault_password
    from vcollector.credentials import store
    from vcollector.credentials.vault import Vault

    configured = None if vault or os.environ.get(VAULT_ENV) else _settings().defaults.vault
    path = vault or (Path(configured).expanduser() if configured else None)
    found = Vault(path)
    try:
        if not found.path.is_file():
            raise VCollectorError(f"vault not found: {found.path} (create one with: vcollector vault init)")
        secret, _source = vault_password.resolve(found.path, None, interactive=False)
        return store.CredentialSource(store.unlock(found.path, secret))
    except VCollectorError as exc:
        common.fail(str(exc))


def _quiet_celery() -> None:
    """Celery leaves logging and stdout to us, and does not warn about running as root (JSON
    only: nothing it accepts can run code)."""
    from celery import signals
    from celery.exceptions import SecurityWarning

    warnings.filterwarnings("ignore", category=SecurityWarning)
    signals.setup_logging.connect(_keep_our_logging, weak=False)


def _keep_our_logging(**_: Any) -> None:
    """Connected to Celery's ``setup_logging``: any receiver keeps Celery off the root logger."""


def _on_ready(announce: Any) -> None:
    from celery import signals

    def ready(**_: Any) -> None:
        # In the main thread, after Celery installed its own handlers: every stop is warm
        # (a second Ctrl-C would make Celery's cold shutdown requeue finished devices), and
        # SIGHUP does not re-execute the command line.
        for number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(number, _warm_shutdown)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        announce()

    signals.worker_ready.connect(ready, weak=False)


def _warm_shutdown(signum: int, frame: object) -> None:
    from celery.worker import state

    if state.should_stop is None:
        common.echo(f"{signal.Signals(signum).name}: finishing the devices being collected, then stopping.")
    state.should_stop = 0
