"""Distributed runs when things break: a worker killed mid-device, the broker gone mid-run,
the coordinator stopped. Real brokers, real worker processes, real signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.integration.conftest import lean_env, write_job, write_lean_vault
from tests.support.brokers import (
    Broker,
    answers,
    broker_of,
    rabbit_vhost,
    redis_client,
    start_worker,
    wait_for,
    workers,
)
from vcollector_sim.assets import AssetRow, build_assets_db
from vcollector_sim.fleet import free_port
from vcollector_sim.lean_fleet import (
    LeanDevice,
    LeanFleet,
    device_address,
    running_config,
)


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
    return write_lean_vault(tmp_path / "vault.db")


class Run:
    """A coordinator (run_job --broker) running in the background; its lines read as they come."""

    def __init__(self, job: Path, results: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "vcollector.run_job", "--job", str(job), "-y", "--json", str(results)],
            env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO,
        )  # fmt: skip
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait(self, timeout: float = 180) -> int:
        code = self.process.wait(timeout)
        self._reader.join(10)
        return code

    @property
    def output(self) -> str:
        return "\n".join(self.lines)


def _fleet(tmp_path: Path, count: int, delay: float, first: int) -> tuple[list[LeanDevice], list[AssetRow]]:
    devices = [LeanDevice(f"k{i}", device_address(first + i), delay=delay) for i in range(count)]
    return devices, [AssetRow(d.name, "cisco_ios", d.address) for d in devices]


def _devices(results: Path) -> list[dict[str, object]]:
    return json.loads(results.read_text())["jobs"][0]["devices"]  # type: ignore[no-any-return]


def _config(name: str) -> str:
    return running_config(name).decode().replace("\r\n", "\n")


def test_a_worker_killed_mid_device_has_its_devices_collected_by_another_once(
    broker: Broker, vault: Path, tmp_path: Path
) -> None:
    devices, rows = _fleet(tmp_path, 6, 1.5, 760)
    job = write_job(tmp_path / "job.json", commands={"command": "enable,show version,show running-config"})
    results, captures = tmp_path / "r.json", tmp_path / "c"
    with LeanFleet(devices) as fleet, workers() as started:
        db = build_assets_db(tmp_path / "a.db", rows, port=fleet.port)
        # Redis hands an unacknowledged task back after the visibility timeout: short here.
        env = {**lean_env(db, vault, captures), **broker.env(),
               "VCOLLECTOR_REDIS_VISIBILITY_TIMEOUT": "6", "VCOLLECTOR_WORKER_GRACE": "4"}  # fmt: skip
        doomed = start_worker(broker, env, "doomed", "--concurrency", "2")
        started.append(doomed)
        run = Run(job, results, env)
        wait_for(lambda: sum(fleet.stats.logins.values()) >= 2)
        started.append(start_worker(broker, env, "survivor", "--concurrency", "2"))
        doomed.process.kill()  # SIGKILL, devices in flight: no code of it runs again
        assert run.wait() == 0, run.output
        logins = dict(fleet.stats.logins)
    outcomes = _devices(results)
    assert sorted(d["name"] for d in outcomes) == [d.name for d in devices]  # each device once
    assert all(d["status"] == "success" for d in outcomes), outcomes
    again = {str(d["name"]) for d in outcomes if logins[str(d["name"])] == 2}
    assert again, logins  # the devices it had in flight were handed to the survivor...
    assert all(str(d["worker"]).startswith("survivor@") for d in outcomes if d["name"] in again)
    assert set(logins.values()) <= {1, 2}  # ...and collected there once
    for device in devices:
        assert (captures / "configs" / f"{device.name}.txt").read_text() == (
            f"Cisco IOS Software, Version 15.8(3)M2\n{device.name} uptime is 1 week\n" + _config(device.name)
        )
    assert not [p for p in captures.rglob("*") if p.name.endswith(".partial")]


def test_the_broker_lost_mid_run_fails_the_devices_in_flight_and_keeps_what_completed(
    vault: Path, tmp_path: Path
) -> None:
    port = free_port(["127.0.0.1"])
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(lambda: answers(port), timeout=20)
        broker = Broker("redis", f"redis://127.0.0.1:{port}/0", "vctestlost")
        devices, rows = _fleet(tmp_path, 5, 1.5, 780)
        job = write_job(tmp_path / "job.json", commands={"command": "show version"})
        results, captures = tmp_path / "r.json", tmp_path / "c"
        with LeanFleet(devices) as fleet, workers() as started:
            env = {**lean_env(build_assets_db(tmp_path / "a.db", rows, port=fleet.port), vault, captures),
                   **broker.env()}  # fmt: skip
            started.append(start_worker(broker, env, "only", "--concurrency", "1"))
            run = Run(job, results, env)
            wait_for(lambda: any("[1/5]" in line for line in run.lines), timeout=60)
            server.kill()
            server.wait(10)
            code = run.wait(timeout=120)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(10)
    assert code == 1, run.output
    outcomes = _devices(results)
    assert len(outcomes) == 5
    done = [d for d in outcomes if d["status"] == "success"]
    lost = [d for d in outcomes if d["status"] == "failed"]
    assert done and lost, outcomes
    for device in done:
        assert (captures / "configs" / f"{device['name']}.txt").is_file()
    for device in lost:
        assert device["failure"] == "broker", device
        assert str(device["reason"]).startswith(
            f"lost the connection to the broker redis://127.0.0.1:{port}/0"
        )
        assert not (captures / "configs" / f"{device['name']}.txt").exists()
    assert "Traceback" not in run.output
    assert not [p for p in captures.rglob("*") if p.name.endswith(".partial")]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_coordinator_revokes_its_tasks_and_exits_130(
    broker: Broker, vault: Path, tmp_path: Path, sig: signal.Signals
) -> None:
    devices, rows = _fleet(tmp_path, 4, 2.0, 800)
    job = write_job(tmp_path / "job.json", commands={"command": "show version,show clock"})
    results, captures = tmp_path / "r.json", tmp_path / "c"
    with LeanFleet(devices) as fleet, workers() as started:
        env = {**lean_env(build_assets_db(tmp_path / "a.db", rows, port=fleet.port), vault, captures),
               **broker.env()}  # fmt: skip
        worker = start_worker(broker, env, "one", "--concurrency", "1")
        started.append(worker)
        run = Run(job, results, env)
        wait_for(lambda: sum(fleet.stats.logins.values()) == 1)
        run.process.send_signal(sig)
        code = run.wait(timeout=60)
        # The worker drops the revoked tasks and cancels the running one between commands:
        # were anything left for it, it would log in to the next device within seconds.
        wait_for(lambda: sum(fleet.stats.current.values()) == 0, timeout=30)
        time.sleep(6)
        logins = sum(fleet.stats.logins.values())
        clock = sum(fleet.stats.commands[d.name, "show clock"] for d in devices)
        assert worker.process.poll() is None, worker.output
    assert code == 130, run.output
    document = json.loads(results.read_text())
    assert document["interrupted"] is True
    assert (logins, clock) == (1, 0)
    assert not captures.exists() or not [p for p in captures.rglob("*") if p.is_file()]
    if broker.kind == "redis":
        client = redis_client()
        assert not [key for key in client.scan_iter(match=f"{broker.prefix}*")  # type: ignore[attr-defined]
                    if client.type(key) == b"list" and client.llen(key)]  # fmt: skip
