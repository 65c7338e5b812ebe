"""--retry-failed: a night's failures run again, and nothing else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import CliResult, run_cli
from tests.integration.conftest import lean_env, write_job, write_lean_vault
from vcollector_sim.assets import AssetRow, build_assets_db
from vcollector_sim.lean_fleet import PASSWORD, LeanDevice, LeanFleet, device_address


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    return write_lean_vault(tmp_path / "vault.db")


def _names(results: Path) -> list[list[tuple[str, str]]]:
    return [
        sorted((device["name"], device["status"]) for device in job.get("devices", []))
        for job in json.loads(results.read_text())["jobs"]
    ]


def _run(tool: str, *args: str, env: dict[str, str]) -> CliResult:
    return run_cli(f"vcollector.{tool}", *args, "-y", env=env)


def test_run_job_retries_only_the_devices_that_failed(vault: Path, tmp_path: Path) -> None:
    good = [LeanDevice(f"ok{i}", device_address(900 + i)) for i in range(3)]
    locked = LeanDevice("locked", device_address(905), password="changed-on-the-device")
    devices = [*good, locked]
    rows = [AssetRow(d.name, "cisco_ios", d.address) for d in devices]
    rows.append(AssetRow("gone", "cisco_ios", device_address(906)))  # nothing listens there
    job = write_job(tmp_path / "job.json", commands={"command": "show version"})
    first, second, third = tmp_path / "r1.json", tmp_path / "r2.json", tmp_path / "r3.json"
    with LeanFleet(devices) as fleet:
        env = lean_env(build_assets_db(tmp_path / "a.db", rows, port=fleet.port), vault, tmp_path / "c")
        night = _run("run_job", "--job", str(job), "--json", str(first), env=env)
        fleet.restart("locked", password=PASSWORD)  # the password is put right on the device
        fleet.stats.reset()
        retry = _run("run_job", "--retry-failed", str(first), "--json", str(second), env=env)
        contacted = dict(fleet.stats.logins)
        again = _run(
            "run_job", "--job", str(job), "--retry-failed", str(second), "--json", str(third), env=env
        )
    assert night.returncode == 1 and _names(first) == [
        [("gone", "failed"), ("locked", "failed"), ("ok0", "success"), ("ok1", "success"), ("ok2", "success")]
    ]
    assert retry.returncode == 1, retry.output  # "gone" still fails
    assert f"Retrying what failed in {first}: 2 failed devices of job job" in retry.stdout
    assert "Found 2 matching devices" in retry.stdout
    assert _names(second) == [[("gone", "failed"), ("locked", "success")]]
    assert contacted == {"locked": 1}  # the three that succeeded were left alone
    assert again.returncode == 1 and _names(third) == [[("gone", "failed")]]


def test_run_jobs_concurrent_retries_failed_devices_and_jobs_that_did_not_start(
    vault: Path, tmp_path: Path
) -> None:
    devices = [LeanDevice(f"d{i}", device_address(910 + i)) for i in range(3)]
    locked = LeanDevice("locked", device_address(915), password="changed-on-the-device")
    job_a = write_job(tmp_path / "a.json", job_id="a", capture_type="a",
                      commands={"command": "show version", "output_directory": "a"})  # fmt: skip
    job_b = write_job(tmp_path / "b.json", job_id="b", capture_type="b",
                      commands={"command": "show clock", "output_directory": "b"})  # fmt: skip
    broken = tmp_path / "broken.json"
    broken.write_text('{"job_id": "broken", "commands": {}}')
    first, second = tmp_path / "r1.json", tmp_path / "r2.json"
    with LeanFleet([*devices, locked]) as fleet:
        rows = [AssetRow(d.name, "cisco_ios", d.address) for d in [*devices, locked]]
        env = lean_env(build_assets_db(tmp_path / "a.db", rows, port=fleet.port), vault, tmp_path / "c")
        night = _run("run_jobs_concurrent", "--jobs", str(job_a), str(job_b), str(broken), "--json", str(first),
                     env=env)  # fmt: skip
        fleet.restart("locked", password=PASSWORD)
        write_job(broken, job_id="broken", capture_type="fixed", commands={"command": "show version",
                  "output_directory": "fixed"}, device_filter={"name_pattern": "d0"})  # fmt: skip
        fleet.stats.reset()
        retry = _run("run_jobs_concurrent", "--retry-failed", str(first), "--json", str(second), env=env)
        commands = {key: n for key, n in fleet.stats.commands.items() if not key[1].startswith("terminal")}
        mixed = _run("run_jobs_concurrent", "--jobs", str(job_a), "--retry-failed", str(first), env=env)
    assert night.returncode == 1
    assert retry.returncode == 0, retry.output
    assert (
        f"Retrying what failed in {first}: a: 1 failed device, b: 1 failed device, broken: all devices"
        in (retry.stdout)
    )
    assert _names(second) == [[("locked", "success")], [("locked", "success")], [("d0", "success")]]
    assert commands == {("locked", "show version"): 1, ("locked", "show clock"): 1, ("d0", "show version"): 1}
    assert mixed.returncode == 2 and "--retry-failed takes its jobs from the results file" in mixed.stderr


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("not json at all", "not JSON"),
        ('{"version": "2.0", "job_id": 1, "commands": {"command": "show version"}}', "no schema 1 document"),
        ('{"schema": 1, "tool": "run_job", "jobs": []}', "it lists no job"),
    ],
)
def test_a_file_that_is_not_a_results_file_is_one_clear_line(
    content: str, why: str, vault: Path, tmp_path: Path
) -> None:
    given = tmp_path / "given.json"
    given.write_text(content)
    env = lean_env(tmp_path / "none.db", vault, tmp_path / "c")
    for tool in ("run_job", "run_jobs_concurrent"):
        result = _run(tool, "--retry-failed", str(given), env=env)
        assert result.returncode == 1
        assert result.stderr.startswith(
            f"Error: {given} is not a vcollector results file (written by --json): {why}"
        ), result.output
        assert result.stderr.count("\n") == 1
        assert "Traceback" not in result.output
    missing = _run("run_job", "--retry-failed", str(tmp_path / "missing.json"), env=env)
    assert missing.returncode == 1 and missing.stderr.startswith("Error: cannot read results file ")


def test_nothing_failed_means_nothing_to_run(vault: Path, tmp_path: Path) -> None:
    device = LeanDevice("fine", device_address(920))
    job = write_job(tmp_path / "job.json", commands={"command": "show version"})
    results = tmp_path / "r.json"
    with LeanFleet([device]) as fleet:
        env = lean_env(build_assets_db(tmp_path / "a.db", [AssetRow("fine", "cisco_ios", device.address)],
                                       port=fleet.port), vault, tmp_path / "c")  # fmt: skip
        assert _run("run_job", "--job", str(job), "--json", str(results), env=env).returncode == 0
        fleet.stats.reset()
        again = _run("run_job", "--retry-failed", str(results), env=env)
        assert fleet.stats.connections == {}
    assert again.returncode == 0 and again.stdout.strip() == f"Nothing failed in {results}: nothing to run."
