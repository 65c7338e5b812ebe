"""Real brokers and real worker processes for the distributed tests.

Redis: the machine's server on 127.0.0.1:6379, database 14, every key of a test under its
own prefix (deleted afterwards). RabbitMQ: the machine's server on 127.0.0.1:5672, a vhost
per test session (created and deleted with rabbitmqctl). A broker that does not answer
skips its tests on a developer's machine and fails them under CI
(``VCOLLECTOR_REQUIRE_BROKERS=1``, set by ``.ci/run``, which starts both).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REDIS_DB = 14
REDIS_PORT = 6379
RABBIT_PORT = 5672
REQUIRE_ENV = "VCOLLECTOR_REQUIRE_BROKERS"
REPO = Path(__file__).resolve().parents[2]


def answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


def require(port: int, what: str, start: str) -> None:
    """Skip (or, under CI, fail) when nothing listens on ``port``."""
    if answers(port):
        return
    message = f"{what} does not answer on 127.0.0.1:{port} (start it: {start}; .ci/run does)"
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class Broker:
    """One test's broker: its URL, the queue prefix of the test, and its kind."""

    kind: str
    url: str
    prefix: str

    def env(self, **extra: str) -> dict[str, str]:
        return {"VCOLLECTOR_BROKER_URL": self.url, "VCOLLECTOR_QUEUE_PREFIX": self.prefix, **extra}


def redis_client() -> object:
    import redis

    return redis.Redis(host="127.0.0.1", port=REDIS_PORT, db=REDIS_DB)


def clean_redis(prefix: str) -> None:
    client = redis_client()
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))  # type: ignore[attr-defined]
    if keys:
        client.delete(*keys)  # type: ignore[attr-defined]


def rabbitmqctl(*args: str) -> str:
    done = subprocess.run(
        ["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout


@contextlib.contextmanager
def rabbit_vhost() -> Iterator[str]:
    vhost = f"vcollector-test-{uuid.uuid4().hex[:8]}"
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    try:
        yield vhost
    finally:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            rabbitmqctl("delete_vhost", vhost)


@contextlib.contextmanager
def broker_of(kind: str, vhost: str | None = None) -> Iterator[Broker]:
    prefix = f"vctest{uuid.uuid4().hex[:10]}"
    if kind == "redis":
        require(REDIS_PORT, "Redis", 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save ""')
        try:
            yield Broker(kind, f"redis://127.0.0.1:{REDIS_PORT}/{REDIS_DB}", prefix)
        finally:
            clean_redis(prefix)
        return
    require(RABBIT_PORT, "RabbitMQ", "rabbitmq-server -detached")
    yield Broker(kind, f"amqp://guest:guest@127.0.0.1:{RABBIT_PORT}/{vhost}", prefix)


@dataclass
class Worker:
    """A ``vcollector worker`` process; its output is read as it comes."""

    process: subprocess.Popen[str]
    name: str
    lines: list[str] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if " ready: " in line:
                self.ready.set()
        self.ready.set()  # it ended: whoever waits sees it

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(10)


def start_worker(broker: Broker, env: dict[str, str], name: str, *args: str, wait: bool = True) -> Worker:
    """Start ``vcollector worker --name NAME args`` (URL and prefix from the environment)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "vcollector", "worker", "--name", name, *args],
        env={**os.environ, **env, **broker.env()},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=REPO,
    )
    worker = Worker(process, name)
    threading.Thread(target=worker._read, daemon=True).start()
    if wait:
        worker.ready.wait(60)
        assert process.poll() is None, worker.output
    return worker


@contextlib.contextmanager
def workers() -> Iterator[list[Worker]]:
    """Every worker started into the list is stopped (killed if need be) at the end."""
    started: list[Worker] = []
    try:
        yield started
    finally:
        for worker in started:
            if worker.process.poll() is None:
                worker.process.kill()
                worker.process.wait(10)


def wait_for(condition: object, timeout: float = 60, interval: float = 0.05) -> None:
    """Wait until ``condition()`` is true (a test's own bound, not a measurement)."""
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)
