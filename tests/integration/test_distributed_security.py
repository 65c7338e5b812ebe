"""What crosses the broker: no secret (scanned in flight and at rest), JSON only, and a worker
that refuses every task that does not fit, changes a device, or names a set it lacks."""

from __future__ import annotations

import base64
import json
import os
import re
import threading
import time
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import VAULT_PASSWORD, run_cli
from tests.integration.conftest import lean_env, write_job, write_lean_vault
from tests.support.brokers import (
    Broker,
    answers,
    broker_of,
    rabbit_vhost,
    rabbitmqctl,
    redis_client,
    start_worker,
    workers,
)
from vcollector.collection.tasks import JobStep
from vcollector.inventory.records import DeviceRecord
from vcollector.run.backends.celery_app import TASK_NAME, make_app, reply_queue, task_queue
from vcollector.run.backends.celery_messages import task_payload
from vcollector.run.spec import RunSpec
from vcollector.run.work import WorkItem
from vcollector_sim.assets import AssetRow, build_assets_db
from vcollector_sim.lean_fleet import ENABLE_SECRET, PASSWORD, LeanDevice, LeanFleet, device_address

KEY_PASSPHRASE = "unused-key-passphrase-7"


@pytest.fixture(scope="module")
def vhost() -> Iterator[str | None]:
    if not answers(5672):
        yield None
        return
    with rabbit_vhost() as name:
        yield name


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(request: pytest.FixtureRequest, vhost: str | None) -> Iterator[Broker]:
    with broker_of(request.param, vhost) as chosen:
        yield chosen


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    return write_lean_vault(tmp_path / "vault.db", enable_secret=ENABLE_SECRET)


def _forms(secret: str) -> list[bytes]:
    """A secret as it could sit in a message: raw, JSON-escaped, base64 at each alignment."""
    raw = secret.encode()
    forms = [raw, json.dumps(secret).encode()[1:-1]]
    for shift in range(3):
        # Only whole 3-byte groups of the secret itself: the first group (shared with what
        # comes before) when shifted, and the last (shared with what follows) are dropped.
        encoded = base64.b64encode(b"x" * shift + raw)
        forms.append(encoded[4 if shift else 0 : -4])
    return forms


def _decoded(blob: bytes) -> Iterator[bytes]:
    """``blob`` and what its base64 and zlib parts decode to (kombu's envelopes, compression)."""
    yield blob
    for token in re.findall(rb"[A-Za-z0-9+/]{16,}={0,2}", blob):
        try:
            inner = base64.b64decode(token + b"=" * (-len(token) % 4))
        except ValueError:
            continue
        yield inner
        try:
            plain = zlib.decompress(inner)
        except zlib.error:
            continue
        yield plain


def _found(blobs: list[bytes], secret: str) -> list[bytes]:
    return [
        blob[:200] for blob in blobs for part in _decoded(blob) for form in _forms(secret) if form in part
    ]


class RedisSpy:
    """Everything sent to the Redis server while it runs (MONITOR), then every key at rest."""

    def __init__(self) -> None:
        self.seen: list[bytes] = []
        self._client = redis_client()
        self._ready = threading.Event()
        threading.Thread(target=self._watch, daemon=True).start()
        self._ready.wait(10)

    def _watch(self) -> None:
        import redis

        try:
            with self._client.monitor() as monitor:  # type: ignore[attr-defined]
                self._ready.set()
                for command in monitor.listen():
                    self.seen.append(str(command.get("command", "")).encode("utf-8", "surrogateescape"))
        except (redis.RedisError, OSError):  # the test is over and its client closed
            return

    def at_rest(self) -> list[bytes]:
        found: list[bytes] = []
        client = self._client
        for key in client.scan_iter(count=1000):  # type: ignore[attr-defined]
            kind = client.type(key)  # type: ignore[attr-defined]
            if kind == b"string":
                values = [client.get(key)]  # type: ignore[attr-defined]
            elif kind == b"list":
                values = client.lrange(key, 0, -1)  # type: ignore[attr-defined]
            elif kind == b"hash":
                values = [b for pair in client.hgetall(key).items() for b in pair]  # type: ignore[attr-defined]
            elif kind == b"set":
                values = list(client.smembers(key))  # type: ignore[attr-defined]
            elif kind == b"zset":
                values = client.zrange(key, 0, -1)  # type: ignore[attr-defined]
            else:
                values = []
            found += [key, *[value for value in values if value]]
        return found


class RabbitSpy:
    """The firehose of the test's vhost: every message published or delivered there."""

    def __init__(self, broker: Broker, vhost: str) -> None:
        from kombu import Connection, Exchange, Queue

        self.vhost = vhost
        self.connection = Connection(broker.url)
        self.queue = Queue(f"spy-{uuid.uuid4().hex[:6]}", Exchange("amq.rabbitmq.trace", type="topic", passive=True),
                           routing_key="#", durable=False, auto_delete=False)  # fmt: skip
        self.queue(self.connection.default_channel).declare()
        rabbitmqctl("trace_on", "-p", vhost)

    def seen(self) -> list[bytes]:
        rabbitmqctl("trace_off", "-p", self.vhost)
        blobs: list[bytes] = []
        bound = self.queue(self.connection.default_channel)
        while (message := bound.get(no_ack=True)) is not None:
            blobs.append(message.body if isinstance(message.body, bytes) else str(message.body).encode())
            blobs.append(json.dumps(message.headers, default=str).encode())
        bound.delete()
        self.connection.release()
        return blobs


def test_no_secret_ever_crosses_the_broker(
    broker: Broker, vhost: str | None, vault: Path, tmp_path: Path
) -> None:
    secrets = [PASSWORD, ENABLE_SECRET, VAULT_PASSWORD]
    leaky = LeanDevice("leaky", device_address(820), behaviour="leaky")
    guarded = LeanDevice("guarded", device_address(821), behaviour="enable_password")
    canary = f"canary-{uuid.uuid4().hex}"
    with LeanFleet([leaky, guarded]) as fleet, workers() as started:
        db = build_assets_db(tmp_path / "a.db", [AssetRow(d.name, "cisco_ios", d.address) for d in (leaky, guarded)],
                             port=fleet.port)  # fmt: skip
        env = {**lean_env(db, vault, tmp_path / "c"), **broker.env()}
        spy: Any = RedisSpy() if broker.kind == "redis" else RabbitSpy(broker, str(vhost))
        started.append(start_worker(broker, env, "scanned"))
        jobs = [write_job(tmp_path / "config.json", job_id=1, commands={"command": "enable,show running-config"}),
                write_job(tmp_path / "leak.json", job_id=2, capture_type="leak", device_filter={"name_pattern": "leaky"},
                          commands={"command": "show leak", "output_directory": "leak"})]  # fmt: skip
        result = run_cli("vcollector.run_jobs_concurrent", "--jobs", *map(str, jobs), "-y", env=env)
        with make_app(broker.url).producer_or_acquire() as producer:  # the scan's own control
            producer.publish({"note": canary}, exchange="", routing_key=f"{broker.prefix}.canary",
                             declare=[task_queue(f"{broker.prefix}.canary")], serializer="json")  # fmt: skip
        time.sleep(1)
        assert started[0].stop() == 0
        blobs = [*spy.seen, *spy.at_rest()] if broker.kind == "redis" else spy.seen()
    assert result.returncode == 1, result.output  # 'show leak' is refused by the device
    assert "Devices: 2 success, 1 failed" in result.stdout
    assert _found(blobs, canary), "the scan does not see what crosses the broker"
    for secret in secrets:
        assert not _found(blobs, secret), secret
        assert secret not in result.output and secret not in started[0].output
    config = (tmp_path / "c" / "configs" / "leaky.txt").read_text()
    assert "password 0 <removed>" in config  # removed on the worker, before the reply left it


def _device(device: LeanDevice, port: int) -> DeviceRecord:
    return DeviceRecord(id=7, name=device.name, normalized_name=device.name, address=device.address, port=port,
                        platform="cisco_ios", site=None, vendor="Cisco", vendor_short_name="cisco", role=None,
                        model=None)  # fmt: skip


def test_a_worker_refuses_what_does_not_fit_and_never_unpickles(
    broker: Broker, vault: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    device = LeanDevice("target", device_address(830))
    marker = tmp_path / "pickle-ran"
    with LeanFleet([device]) as fleet, workers() as started:
        env = lean_env(tmp_path / "none.db", vault, tmp_path / "c")
        worker = start_worker(broker, env, "strict")
        started.append(worker)
        monkeypatch.setenv("VCOLLECTOR_QUEUE_PREFIX", broker.prefix)  # the names below, as the worker's
        app = make_app(broker.url)
        run_id = uuid.uuid4().hex
        replies = reply_queue(run_id)
        step = JobStep(0, ("show version",), 20.0, 0.0, None)
        item = WorkItem("target", _device(device, fleet.port), ("default",), (step,))
        good = task_payload(item, RunSpec(db_path=tmp_path / "x"), {0: False}, run_id, replies.name)
        changing = task_payload(WorkItem("target", item.device, ("default",), (JobStep(0, ("conf t",), 20.0, 0.0, None),)),
                                RunSpec(db_path=tmp_path / "x"), {0: False}, run_id, replies.name)  # fmt: skip
        cases: dict[str, Any] = {
            "extra": {**good, "password": "smuggled"},
            "type": {**good, "device": {**good["device"], "port": "22"}},
            "changes": changing,
            "unknown-set": {**good, "credentials": ["nosuch"]},
            "good": good,
        }
        with app.connection_for_write() as connection:
            bound = replies(connection.default_channel)
            bound.declare()
            queue = task_queue(f"{broker.prefix}.default")
            app.send_task(TASK_NAME, args=[good], queue=queue, task_id="positional")
            app.send_task(TASK_NAME, args=[_Exploit(str(marker))], queue=queue, task_id="pickled",
                          serializer="pickle")  # fmt: skip
            for task_id, payload in cases.items():
                app.send_task(TASK_NAME, kwargs={"task": payload}, queue=queue, task_id=task_id)
            got: dict[str, list[dict[str, Any]]] = {}
            deadline = time.monotonic() + 60
            while "good" not in {k for k, v in got.items() if any(r["kind"] == "done" for r in v)}:
                assert time.monotonic() < deadline, got
                message = bound.get(no_ack=True)
                if message is None:
                    time.sleep(0.1)
                    continue
                body = message.decode()
                got.setdefault(body["task_id"], []).append(body)
            bound.delete()
        contacted = dict(fleet.stats.connections)
        assert worker.process.poll() is None, worker.output
    reasons = {key: value[0]["reason"] for key, value in got.items() if value[0]["kind"] == "refused"}
    assert reasons["extra"] == "invalid task: password: Extra inputs are not permitted"
    assert reasons["type"] == "invalid task: device.port: Input should be a valid integer"
    assert (
        reasons["changes"] == "'conf t' would change the device (conf = configure); this worker is read-only"
    )
    assert (
        reasons["unknown-set"].startswith("credential 'nosuch'")
        and "(in the vault of worker strict@" in reasons["unknown-set"]
    )
    assert [reply["kind"] for reply in got["good"]] == ["started", "done"]
    assert (
        got["good"][1]["results"][0]["ok"] is True and "Cisco IOS" in got["good"][1]["results"][0]["output"]
    )
    assert "pickled" not in got and "positional" not in got and not marker.exists()
    assert contacted == {device.name: 1}  # only the valid task reached the device
    assert "smuggled" not in worker.output


class _Exploit:
    """Pickled, it would run code where it is unpickled (a worker that accepted pickle)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.system, (f"touch {self.path}",))
