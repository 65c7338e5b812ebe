"""The lean session preparation, counted at the device: what it sends, how many prompts a
session costs, enable entered once (or refused once), and Netmiko's own way when the first
prompt is slow."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import VAULT_PASSWORD, run_cli
from tests.integration.conftest import lean_env, write_job
from vcollector.credentials.vault import Credential, Vault
from vcollector_sim.assets import AssetRow, build_assets_db
from vcollector_sim.lean_fleet import ENABLE_SECRET, PASSWORD, USERNAME, LeanDevice, LeanFleet, device_address

DEVICES = [
    LeanDevice("plain", device_address(40)),
    LeanDevice("asks", device_address(41), behaviour="enable_password"),
    LeanDevice("wrong", device_address(42), behaviour="enable_password", enable_secret="not-the-vault's"),
    LeanDevice("slow", device_address(43), login_delay=4.0),
]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LeanFleet, dict[str, str]]]:
    base = tmp_path_factory.mktemp("lean")
    vault = Vault(base / "vault.db")
    vault.init(VAULT_PASSWORD)
    unlocked = vault.unlock(VAULT_PASSWORD)
    unlocked.add(Credential("lab", USERNAME, PASSWORD, enable_secret=ENABLE_SECRET), default=True)
    unlocked.add(Credential("no-secret", USERNAME, PASSWORD))  # enable falls back to the password
    with LeanFleet(DEVICES) as running:
        rows = [AssetRow(d.name, "cisco_ios", d.address, role=d.name) for d in DEVICES]
        db = build_assets_db(base / "assets.db", rows, port=running.port)
        yield running, lean_env(db, vault.path, base / "captures")


def _job(folder: Path, name: str, role: str, command: str) -> Path:
    return write_job(folder / f"{name}.json", job_id=name, device_filter={"role": role},
                     commands={"command": command, "output_directory": name})  # fmt: skip


def _devices(results: Path) -> dict[tuple[str, str], dict[str, object]]:
    document = json.loads(results.read_text())
    return {(str(job["job_id"]), d["name"]): d for job in document["jobs"] for d in job["devices"]}


def test_one_session_costs_a_prompt_per_line_and_enable_is_sent_once(
    fleet: tuple[LeanFleet, dict[str, str]], tmp_path: Path
) -> None:
    running, env = fleet
    running.stats.reset()
    for role in ("plain", "asks"):
        job = _job(tmp_path, role, role, "enable,terminal length 0,show running-config")
        result = run_cli("vcollector.run_job", "--job", str(job), "-y", env=env)
        assert result.returncode == 0, result.output
        assert "hostname " + role in (Path(env["VCOLLECTOR_CAPTURE_DIR"]) / role / f"{role}.txt").read_text()
    for name in ("plain", "asks"):
        # The first prompt, one per preparation line (width, length, enable), the command's
        # and the one that confirms its end (a prompt-like line in the output is not the end):
        # no prompt probe, the job's own paging and enable lines not sent again.
        assert running.stats.prompts[name] == 6, running.stats.prompts
        sent = {command: n for (device, command), n in running.stats.commands.items() if device == name}
        assert sent == {"terminal width 511": 1, "terminal length 0": 1, "enable": 1, "show running-config": 1}


def test_a_refused_enable_secret_fails_the_job_that_needs_it_once_and_spares_the_other(
    fleet: tuple[LeanFleet, dict[str, str]], tmp_path: Path
) -> None:
    running, env = fleet
    running.stats.reset()
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    _job(jobs, "config", "wrong", "enable,show running-config")
    _job(jobs, "version", "wrong", "show version")
    results = tmp_path / "r.json"
    # Without an enable secret of its own, the credential logs in unprivileged and a job's
    # enable offers the password: this device wants something else.
    result = run_cli("vcollector.run_jobs_concurrent", "--jobs-dir", str(jobs), "-y", "--json", str(results),
                     "--credential", "no-secret", env=env)  # fmt: skip
    assert result.returncode == 1, result.output
    assert "Traceback" not in result.output
    devices = _devices(results)
    failed = devices["config", "wrong"]
    assert failed["status"] == "failed"
    assert failed["reason"] == "could not enter enable mode (check the credential's enable secret)"
    assert devices["version", "wrong"]["status"] == "success"
    # One session for both jobs; the secret was offered once, not again for the job's enable.
    assert running.stats.logins["wrong"] == 1
    assert running.stats.commands["wrong", "enable"] == 1
    capture = (Path(env["VCOLLECTOR_CAPTURE_DIR"]) / "version" / "wrong.txt").read_text()
    assert capture.startswith("Cisco IOS Software"), capture
    assert "Access denied" not in capture and "Password" not in capture
    assert not (Path(env["VCOLLECTOR_CAPTURE_DIR"]) / "config" / "wrong.txt").exists()


def test_a_slow_first_prompt_leaves_the_session_to_netmikos_own_preparation(
    fleet: tuple[LeanFleet, dict[str, str]], tmp_path: Path
) -> None:
    running, env = fleet
    running.stats.reset()
    job = _job(tmp_path, "slow", "slow", "enable,terminal length 0,show running-config")
    result = run_cli("vcollector.run_job", "--job", str(job), "-y", env=env)
    assert result.returncode == 0, result.output
    capture = (Path(env["VCOLLECTOR_CAPTURE_DIR"]) / "slow" / "slow.txt").read_text()
    assert capture.startswith("Building configuration"), capture
    # Netmiko probes the prompt itself: more prompts than the lean way's six.
    assert running.stats.prompts["slow"] > 6, running.stats.prompts
