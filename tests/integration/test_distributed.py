"""Distributed runs on real brokers (Redis, RabbitMQ) and real worker processes: the same
captures, lines and results as a local run; devices routed to their site's workers."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import VAULT_PASSWORD, CliResult, run_cli
from tests.integration.conftest import (
    DEVICES,
    Lab,
    config_job,
    lean_env,
    run_jobs,
    write_job,
    write_lean_vault,
)
from tests.support.brokers import Broker, broker_of, rabbit_vhost, start_worker, wait_for, workers
from vcollector_sim.assets import AssetRow, build_assets_db
from vcollector_sim.lean_fleet import LeanDevice, LeanFleet, device_address


@pytest.fixture(scope="session")
def vhost() -> Iterator[str | None]:
    from tests.support.brokers import RABBIT_PORT, answers

    if not answers(RABBIT_PORT):
        yield None
        return
    with rabbit_vhost() as name:
        yield name


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(request: pytest.FixtureRequest, vhost: str | None) -> Iterator[Broker]:
    with broker_of(request.param, vhost) as chosen:
        yield chosen


@pytest.fixture
def lean_vault(tmp_path: Path) -> Path:
    return write_lean_vault(tmp_path / "vault.db")


def _lines(result: CliResult) -> list[str]:
    """The console lines with what differs between any two runs taken out (times, order)."""
    lines = []
    for line in result.stdout.splitlines():
        if line.startswith("Using broker "):
            continue
        line = re.sub(r"\d+ms", "Nms", line)
        line = re.sub(r"\[\d+/(\d+)\]", r"[i/\1]", line)
        line = re.sub(r"\d+\.\d+s|\d{2}:\d{2}:\d{2}|\d{8}_\d{6}", "T", line)
        lines.append(line)
    return sorted(lines)


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".history" not in path.parts
    }


def test_the_same_captures_lines_and_results_as_a_local_run(lab: Lab, broker: Broker, tmp_path: Path) -> None:
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    for index, platform in enumerate(("cisco_ios", "arista_eos", "juniper_junos", "cisco_nxos")):
        config_job(jobs / f"{platform}.json", platform, job_id=100 + index)
    write_job(jobs / "version.json", job_id=200, capture_type="version",
              commands={"command": "show version", "output_directory": "version"})  # fmt: skip
    db = lab.assets(tmp_path / "assets.db")
    lab.fleet.sessions.reset()
    local = run_jobs("--jobs-dir", str(jobs), "-y", "--json", str(tmp_path / "local.json"),
                     env=lab.env(db, tmp_path / "local"))  # fmt: skip
    local_logins = dict(lab.fleet.sessions.logins)
    env = lab.env(db, tmp_path / "remote", VCOLLECTOR_HOME=str(tmp_path / "coordinator-home"))
    with workers() as started:
        for site in ("IAD2", "FRA1"):
            started.append(
                start_worker(broker, lab.env(db, tmp_path / "unused"), site.lower(), "--site", site)
            )
        lab.fleet.sessions.reset()
        remote = run_jobs("--jobs-dir", str(jobs), "-y", "--json", str(tmp_path / "remote.json"),
                          env={**env, **broker.env()})  # fmt: skip
        assert all(worker.stop() == 0 for worker in started)
    assert local.returncode == remote.returncode == 0, remote.output
    assert _files(tmp_path / "remote") == _files(tmp_path / "local")
    assert len(_files(tmp_path / "local")) == 16
    assert _lines(remote) == _lines(local)
    assert f"Using broker {broker.url.replace('guest:guest', 'guest:**')}" in remote.stdout
    # One login per device whatever the number of jobs selecting it, as locally.
    assert dict(lab.fleet.sessions.logins) == local_logins
    assert not (tmp_path / "unused").exists()  # workers write nothing
    sites = {name: site for name, _platform, site, _role in DEVICES}
    for job in json.loads((tmp_path / "remote.json").read_text())["jobs"]:
        for device in job["devices"]:
            assert device["worker"].startswith(sites[device["name"]].lower() + "@"), device
    for job in json.loads((tmp_path / "local.json").read_text())["jobs"]:
        assert all(device["worker"] is None for device in job["devices"])


def test_each_site_to_its_workers_the_rest_to_the_default_queue_and_no_worker_fails_at_once(
    broker: Broker, lean_vault: Path, tmp_path: Path
) -> None:
    sites = {"fra-1": "FRA1", "fra-2": "FRA1", "iad-1": "IAD2", "nrt-1": "NRT1", "lab-1": ""}
    devices = [LeanDevice(name, device_address(700 + i)) for i, name in enumerate(sites)]
    job = write_job(tmp_path / "job.json", commands={"command": "show version"})
    results = tmp_path / "r.json"
    with LeanFleet(devices) as fleet, workers() as started:
        rows = [AssetRow(d.name, "cisco_ios", d.address, site=sites[d.name]) for d in devices]
        db = build_assets_db(tmp_path / "a.db", rows, port=fleet.port)
        env = {**lean_env(db, lean_vault, tmp_path / "c"), **broker.env()}
        started.append(start_worker(broker, env, "fra", "--site", "FRA1", "--concurrency", "2"))
        started.append(start_worker(broker, env, "iad", "--site", "iad2"))
        # Without a default-queue worker, NRT1 and site-less devices have nowhere to go.
        alone = run_cli("vcollector.run_job", "--job", str(job), "-y", "--json", str(results), env=env)
        first = {d["name"]: d for d in json.loads(results.read_text())["jobs"][0]["devices"]}
        started.append(start_worker(broker, env, "any"))
        served = run_cli("vcollector.run_job", "--job", str(job), "-y", "--json", str(results), env=env)
        second = {d["name"]: d for d in json.loads(results.read_text())["jobs"][0]["devices"]}
    assert alone.returncode == 1, alone.output
    assert "nrt-1 (127.0.2.205): no vcollector worker serves site NRT1" in alone.stdout
    assert "lab-1 (127.0.2.206): no vcollector worker serves the default queue" in alone.stdout
    assert [first[n]["status"] for n in sites] == ["success", "success", "success", "failed", "failed"]
    assert (first["nrt-1"]["failure"], first["nrt-1"]["worker"]) == ("worker", None)
    assert served.returncode == 0, served.output
    assert {n: d["worker"].split("@")[0] for n, d in second.items()} == {
        "fra-1": "fra", "fra-2": "fra", "iad-1": "iad", "nrt-1": "any", "lab-1": "any",
    }  # fmt: skip


def test_no_worker_at_all_fails_every_device_with_the_reason(
    broker: Broker, lean_vault: Path, tmp_path: Path
) -> None:
    device = LeanDevice("fra-9", device_address(720))
    with LeanFleet([device]) as fleet:
        db = build_assets_db(tmp_path / "a.db", [AssetRow("fra-9", "cisco_ios", device.address, site="FRA1")],
                             port=fleet.port)  # fmt: skip
        env = {**lean_env(db, lean_vault, tmp_path / "c"), **broker.env()}
        job = write_job(tmp_path / "job.json", commands={"command": "show version"})
        result = run_cli("vcollector.run_job", "--job", str(job), "-y", env=env, timeout=60)
        assert fleet.stats.connections == {}
    assert result.returncode == 1
    assert "fra-9 (127.0.2.222): no vcollector worker serves site FRA1" in result.stdout
    assert "Results: 0 success, 1 failed" in result.stdout


@pytest.mark.parametrize(
    "url",
    [
        "redis://:br0ker-pw@127.0.0.1:9/0",
        "amqp://guest:br0ker-pw@127.0.0.1:9//",
        "rediss://u:br0ker-pw@127.0.0.1:9/0",
    ],
)
def test_an_unreachable_broker_is_one_line_and_exit_1_before_anything_runs(
    url: str, lean_vault: Path, tmp_path: Path
) -> None:
    db = build_assets_db(tmp_path / "a.db", [AssetRow("r1", "cisco_ios", device_address(721))], port=9)
    env = lean_env(db, lean_vault, tmp_path / "c")
    job = write_job(tmp_path / "job.json", commands={"command": "show version"})
    results = tmp_path / "r.json"
    run = run_cli("vcollector.run_job", "--job", str(job), "-y", "--broker", url, "--json", str(results),
                  env=env, timeout=60)  # fmt: skip
    worker = run_cli("vcollector", "worker", env={**env, "VCOLLECTOR_BROKER_URL": url}, timeout=60)
    for result in (run, worker):
        assert result.returncode == 1, result.output
        errors = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(errors) == 1 and errors[0].startswith("Error: cannot reach the broker "), result.output
        assert "br0ker-pw" not in result.output and "**@127.0.0.1:9" in errors[0]
        assert "Traceback" not in result.output
    assert json.loads(results.read_text())["error"].startswith("cannot reach the broker")
    assert not (tmp_path / "c").exists()


def test_a_worker_needs_its_vault_unlocked(lean_vault: Path, tmp_path: Path) -> None:
    env = {"VCOLLECTOR_VAULT": str(lean_vault), "VCOLLECTOR_BROKER_URL": "redis://127.0.0.1:9/0"}
    locked = run_cli("vcollector", "worker", env=env, timeout=60)
    missing = run_cli("vcollector", "worker", "--vault", str(tmp_path / "none.db"),
                      env={**env, "VELOCITYCMDB_VAULT_PASS": VAULT_PASSWORD}, timeout=60)  # fmt: skip
    wrong = run_cli(
        "vcollector", "worker", env={**env, "VELOCITYCMDB_VAULT_PASS": "not-it-at-all"}, timeout=60
    )
    assert locked.returncode == missing.returncode == wrong.returncode == 1
    assert locked.stderr.startswith("Error: no vault password: set VELOCITYCMDB_VAULT_PASS"), locked.output
    assert missing.stderr.startswith("Error: vault not found: "), missing.output
    assert wrong.stderr.count("\n") == 1 and "Traceback" not in wrong.output


def test_read_only_unless_the_job_allows_changes(lean_vault: Path, tmp_path: Path) -> None:
    device = LeanDevice("r1", device_address(722))
    with LeanFleet([device]) as fleet:
        db = build_assets_db(
            tmp_path / "a.db", [AssetRow("r1", "cisco_ios", device.address)], port=fleet.port
        )
        env = lean_env(db, lean_vault, tmp_path / "c")
        refused = run_cli("vcollector.run_job", "--job", str(write_job(
            tmp_path / "write.json", commands={"command": "show version,write memory"})), "-y", env=env)  # fmt: skip
        contacted = dict(fleet.stats.connections)
        allowed = run_cli("vcollector.run_job", "--job", str(write_job(
            tmp_path / "allowed.json", commands={"command": "show version,write memory"},
            execution={"allow_changes": True})), "-y", env=env)  # fmt: skip
    assert refused.returncode == 1 and contacted == {}
    assert refused.stderr.strip() == (
        f"Error: {tmp_path / 'write.json'}: commands.command: 'write memory' would change the device (write); "
        'vcollector is read-only unless the job says "execution": {"allow_changes": true}'
    ), refused.output
    assert fleet.stats.commands["r1", "write memory"] >= 1, allowed.output  # sent (and refused by the fake)


def test_a_worker_stops_warm_on_sigterm_finishing_its_devices(
    broker: Broker, lean_vault: Path, tmp_path: Path
) -> None:
    devices = [LeanDevice(f"s{i}", device_address(730 + i), delay=1.5) for i in range(4)]
    job = write_job(tmp_path / "job.json", commands={"command": "show version,show clock"})
    results = tmp_path / "r.json"
    with LeanFleet(devices) as fleet, workers() as started:
        db = build_assets_db(tmp_path / "a.db", [AssetRow(d.name, "cisco_ios", d.address) for d in devices],
                             port=fleet.port)  # fmt: skip
        env = {**lean_env(db, lean_vault, tmp_path / "c"), **broker.env()}
        first = start_worker(broker, env, "first", "--concurrency", "2")
        started.append(first)
        run = subprocess.Popen([sys.executable, "-m", "vcollector.run_job", "--job", str(job), "-y",
                                "--json", str(results)], env={**os.environ, **env},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
        wait_for(lambda: sum(fleet.stats.logins.values()) >= 2)
        first.process.send_signal(signal.SIGTERM)
        assert first.process.wait(60) == 0, first.output
        finished_by_first = sum(fleet.stats.commands[d.name, "show clock"] for d in devices)
        started.append(start_worker(broker, env, "second", "--concurrency", "2"))
        output, _ = run.communicate(timeout=120)
    assert "finishing the devices being collected" in first.output
    assert finished_by_first == 2  # both devices it had begun, each to its last command
    assert run.returncode == 0, output
    by_worker = [d["worker"].split("@")[0] for d in json.loads(results.read_text())["jobs"][0]["devices"]]
    assert sorted(by_worker) == ["first", "first", "second", "second"]
    assert all(fleet.stats.logins[d.name] == 1 for d in devices)
