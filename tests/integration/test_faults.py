"""Misbehaving devices on loopback: each fails alone, with one clear line, and loses nothing."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import asyncssh
import pytest

from tests.conftest import REPO, VAULT_PASSWORD, CliResult, run_cli
from tests.integration.conftest import lean_env, write_job
from vcollector.credentials.vault import Credential, Vault
from vcollector_sim.assets import AssetRow, build_assets_db
from vcollector_sim.lean_fleet import (
    ENABLE_SECRET,
    PASSWORD,
    USERNAME,
    LeanDevice,
    LeanFleet,
    device_address,
)

# name -> (behaviour, expected reason pattern or None for success)
FAULTS: dict[str, tuple[str, str | None]] = {
    "good-1": ("normal", None),
    "good-2": ("normal", None),
    "enable-pw": ("enable_password", None),
    "garbage": ("garbage", None),
    "refused": ("refused", r"connection refused"),
    "no-banner": ("no_banner", r"no SSH banner"),
    "silent": ("silent", r"no prompt from the device within 3s after login"),
    "drop": ("drop", r"connection lost while running 'show running-config'"),
    "drip": ("drip", r"command timed out after 3s: show running-config"),
    "locked": ("locked", r"authentication failed"),
}
PREVIOUS = "previous good capture\n"
TIMEOUT = 3


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LeanFleet, Path, Path]]:
    devices = [LeanDevice("huge", device_address(99), behaviour="huge")]
    for index, (name, (behaviour, _)) in enumerate(FAULTS.items()):
        if behaviour == "refused":
            continue
        devices.append(
            LeanDevice(
                name,
                device_address(100 + index),
                behaviour="normal" if behaviour == "locked" else behaviour,
                password="something-else" if behaviour == "locked" else PASSWORD,
            )
        )
    base = tmp_path_factory.mktemp("faults")
    vault = Vault(base / "vault.db")
    vault.init(VAULT_PASSWORD)
    vault.unlock(VAULT_PASSWORD).add(
        Credential("lab", USERNAME, PASSWORD, enable_secret=ENABLE_SECRET), default=True
    )
    with LeanFleet(devices) as fleet:
        rows = [AssetRow(name, "cisco_ios", device_address(100 + index)) for index, name in enumerate(FAULTS)]
        rows.append(AssetRow("huge", "cisco_ios", device_address(99), role="bulk"))
        db = build_assets_db(base / "assets.db", rows, port=fleet.port)
        yield fleet, db, vault.path


def _seed_previous(captures: Path) -> None:
    directory = captures / "configs"
    directory.mkdir(parents=True)
    for name in FAULTS:
        (directory / f"{name}.txt").write_text(PREVIOUS)


def _run(tool: str, job: Path, env: dict[str, str], *extra: str) -> CliResult:
    if tool == "run_job":
        return run_cli("vcollector.run_job", "--job", str(job), "-y", *extra, env=env)
    return run_cli("vcollector.run_jobs_concurrent", "--jobs", str(job), "-y", *extra, env=env)


@pytest.mark.parametrize("tool", ["run_job", "run_jobs_concurrent"])
def test_every_fault_fails_alone_with_one_line_and_loses_nothing(
    faulty: tuple[LeanFleet, Path, Path], tmp_path: Path, tool: str
) -> None:
    fleet, db, vault = faulty
    fleet.stats.reset()
    captures = tmp_path / "captures"
    _seed_previous(captures)
    job = write_job(
        tmp_path / "job.json",
        job_id=77,
        device_filter={"role": "access"},
        commands={"command": "enable,terminal length 0,show running-config,,"},
        execution={"timeout": TIMEOUT, "max_workers": 12},
    )
    report = tmp_path / "results.json"
    result = _run(tool, job, lean_env(db, vault, captures), "--retries", "2", "--json", str(report))

    assert result.returncode == 1
    assert "Traceback" not in result.output
    devices = {d["name"]: d for d in json.loads(report.read_text())["jobs"][0]["devices"]}
    for name, (_behaviour, expected) in FAULTS.items():
        path = captures / "configs" / f"{name}.txt"
        device = devices[name]
        if expected is None:
            assert device["status"] == "success", (name, device["reason"])
            assert f"hostname {name}" in path.read_text(encoding="utf-8")
            continue
        assert device["status"] == "failed", name
        assert re.search(expected, device["reason"]), (name, device["reason"])
        assert "\n" not in device["reason"]
        assert path.read_text() == PREVIOUS, f"{name}: previous capture changed"
        # The reason is on one console line naming the device.
        assert re.search(
            rf"{re.escape(name)} \(.*\): {expected}|{re.escape(name)}: {expected}", result.stdout
        ), name
    leftovers = [p.name for p in (captures / "configs").iterdir() if not p.name.endswith(".txt")]
    assert leftovers == []
    # Authentication is never retried (lockout risk); connection failures are.
    assert fleet.stats.auth_attempts["locked"] == 1
    assert fleet.stats.connections["no-banner"] == 3


def test_huge_and_garbage_outputs_are_saved_clean(
    faulty: tuple[LeanFleet, Path, Path], tmp_path: Path
) -> None:
    _, db, vault = faulty
    captures = tmp_path / "captures"
    for name in ("huge", "garbage"):
        job = write_job(
            tmp_path / f"{name}.json",
            device_filter={"name_pattern": name},
            commands={"command": "enable,show running-config"},
            execution={"timeout": 120},
        )
        result = run_cli("vcollector.run_job", "--job", str(job), "-y", env=lean_env(db, vault, captures))
        assert result.returncode == 0, result.output
    huge = (captures / "configs" / "huge.txt").read_bytes()
    assert len(huge) > 45_000_000
    assert b"\r" not in huge[:1_000_000]
    garbage = (captures / "configs" / "garbage.txt").read_text(encoding="utf-8")
    assert garbage.startswith("hostname garbage\ncaf\ufffd \ufffd\ufffd bytes\n")
    assert "\x1b" not in garbage


def test_changed_host_key_is_refused_and_named(tmp_path: Path) -> None:
    device = LeanDevice("edge-1", device_address(200))
    vault = Vault(tmp_path / "vault.db")
    vault.init(VAULT_PASSWORD)
    vault.unlock(VAULT_PASSWORD).add(Credential("lab", USERNAME, PASSWORD), default=True)
    captures = tmp_path / "captures"
    with LeanFleet([device]) as fleet:
        db = build_assets_db(
            tmp_path / "assets.db", [AssetRow("edge-1", "cisco_ios", device.address)], fleet.port
        )
        job = write_job(tmp_path / "job.json", commands={"command": "show version"})
        env = lean_env(db, vault.path, captures)

        strict_first = run_cli("vcollector.run_job", "--job", str(job), "-y", "--strict-host-keys", env=env)
        assert strict_first.returncode == 1
        assert "edge-1: unknown host key" in strict_first.stdout

        first = run_cli("vcollector.run_job", "--job", str(job), "-y", env=env)
        assert first.returncode == 0, first.output
        known_hosts = Path(os.environ["VCOLLECTOR_HOME"]) / "known_hosts"
        assert f"[{device.address}]:{fleet.port}" in known_hosts.read_text()
        assert (captures / "configs" / "edge-1.txt").exists()

        strict_again = run_cli("vcollector.run_job", "--job", str(job), "-y", "--strict-host-keys", env=env)
        assert strict_again.returncode == 0, strict_again.output

        fleet.stats.reset()
        fleet.restart("edge-1", host_key=asyncssh.generate_private_key("ssh-ed25519"))
        before = (captures / "configs" / "edge-1.txt").read_text()
        changed = run_cli("vcollector.run_job", "--job", str(job), "-y", env=env)
        assert changed.returncode == 1
        assert "edge-1: host key changed since the last run" in changed.stdout
        assert fleet.stats.auth_attempts["edge-1"] == 0  # the password never went to the impostor
        assert (captures / "configs" / "edge-1.txt").read_text() == before


@pytest.mark.parametrize(
    ("tool", "sig"),
    [("run_job", signal.SIGINT), ("run_job", signal.SIGTERM), ("run_jobs_concurrent", signal.SIGINT)],
)
def test_interrupt_stops_promptly_and_leaves_no_partial_files(
    faulty: tuple[LeanFleet, Path, Path], tmp_path: Path, tool: str, sig: signal.Signals
) -> None:
    _, _, vault = faulty
    captures = tmp_path / "captures"
    _seed_previous(captures)
    # good-1 and good-2 finish at once; drip and silent never would on their own.
    job = write_job(
        tmp_path / "job.json",
        commands={"command": "enable,show running-config"},
        execution={"timeout": 120, "max_workers": 12},
    )
    chosen = {"good-1", "good-2", "drip", "silent"}
    db_small = build_assets_db(
        tmp_path / "assets.db",
        [AssetRow(n, "cisco_ios", device_address(100 + i)) for i, n in enumerate(FAULTS) if n in chosen],
        port=faulty[0].port,
    )
    env = {**os.environ, **lean_env(db_small, vault, captures)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vcollector.run_job",
            "--job",
            str(job),
            "-y",
            "--json",
            str(tmp_path / "r.json"),
        ],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (captures / "configs" / "good-2.txt").read_text().startswith(
        "Building"
    ):
        time.sleep(0.1)
    time.sleep(0.5)
    sent = time.monotonic()
    process.send_signal(sig)
    stdout, stderr = process.communicate(timeout=30)
    stopped_after = time.monotonic() - sent

    assert process.returncode == 130, stdout + stderr
    assert stopped_after < 10
    assert "Interrupted" in stdout
    assert "Traceback" not in stdout + stderr
    names = sorted(p.name for p in (captures / "configs").iterdir())
    assert all(name.endswith(".txt") for name in names), names
    assert (captures / "configs" / "drip.txt").read_text() == PREVIOUS
    assert (captures / "configs" / "silent.txt").read_text() == PREVIOUS
    assert "hostname good-1" in (captures / "configs" / "good-1.txt").read_text()
    document = json.loads((tmp_path / "r.json").read_text())
    assert document["interrupted"] is True


def test_failed_enable_explains_itself_within_a_bounded_time(
    faulty: tuple[LeanFleet, Path, Path], tmp_path: Path
) -> None:
    _, db, _ = faulty
    vault = Vault(tmp_path / "vault.db")
    vault.init(VAULT_PASSWORD)
    # No enable secret: the login password is tried, and the device wants another one.
    vault.unlock(VAULT_PASSWORD).add(Credential("lab", USERNAME, PASSWORD), default=True)
    job = write_job(
        tmp_path / "job.json",
        device_filter={"name_pattern": "enable-pw"},
        commands={"command": "show running-config"},
        execution={"timeout": 30},
    )
    started = time.monotonic()
    result = run_cli(
        "vcollector.run_job", "--job", str(job), "-y", env=lean_env(db, vault.path, tmp_path / "c")
    )
    assert result.returncode == 1
    assert "device rejected 'show running-config'" in result.stdout
    assert "enable failed: check the credential's enable secret" in result.stdout
    assert time.monotonic() - started < 25  # the enable attempt is bounded, not the job's 30 s


def test_wrong_enable_secret_fails_at_login_with_the_reason(
    faulty: tuple[LeanFleet, Path, Path], tmp_path: Path
) -> None:
    _, db, _ = faulty
    vault = Vault(tmp_path / "vault.db")
    vault.init(VAULT_PASSWORD)
    vault.unlock(VAULT_PASSWORD).add(
        Credential("lab", USERNAME, PASSWORD, enable_secret="wrong"), default=True
    )
    job = write_job(
        tmp_path / "job.json", device_filter={"name_pattern": "enable-pw"}, commands={"command": "show clock"}
    )
    result = run_cli(
        "vcollector.run_job", "--job", str(job), "-y", env=lean_env(db, vault.path, tmp_path / "c")
    )
    assert result.returncode == 1
    assert "enable-pw: could not enter enable mode (check the credential's enable secret)" in result.stdout
