"""run_job end to end: a real subprocess against the simulated fleet."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest

from tests.conftest import VAULT_PASSWORD
from tests.integration.conftest import (
    CONFIG_COMMAND,
    HOSTNAME_LINE,
    Lab,
    config_job,
    lean_env,
    run_job,
    write_job,
)
from tests.unit.credentials.test_vault import make_legacy_vault
from vcollector.credentials.vault import Credential, Vault
from vcollector_sim.assets import AssetRow, build_assets_db
from vcollector_sim.fleet import simulated_config
from vcollector_sim.lean_fleet import (
    ENABLE_SECRET,
    PASSWORD,
    USERNAME,
    LeanDevice,
    LeanFleet,
    device_address,
)

PROMPT = re.compile(r"^[\w.@-]+\s?[>#]\s*$|[>#]\s*(show|enable|terminal)", re.MULTILINE)


@pytest.mark.parametrize(
    ("platform", "names"),
    [
        ("cisco_ios", ["r1", "r2", "r3"]),
        ("arista_eos", ["sw1", "sw2"]),
        ("juniper_junos", ["mx1", "mx2"]),
        ("cisco_nxos", ["nx1"]),
    ],
)
def test_collects_configs_into_one_clean_file_per_device(
    lab: Lab, tmp_path: Path, platform: str, names: list[str]
) -> None:
    captures = tmp_path / "captures"
    job = config_job(tmp_path / "job.json", platform)
    result = run_job("--job", str(job), "-y", env=lab.env(lab.assets(tmp_path / "assets.db"), captures))

    assert result.returncode == 0, result.output
    assert f"Results: {len(names)} success, 0 failed" in result.stdout
    assert f"Saved {len(names)} capture" in result.stdout
    assert "Traceback" not in result.output
    for index in range(1, len(names) + 1):
        assert re.search(
            rf"^  \[{index}/{len(names)}\] ✓ 127\.0\.0\.\d+ - \d+ms$", result.stdout, re.MULTILINE
        )
    for name in names:
        path = captures / "configs" / f"{name}.txt"
        text = path.read_text(encoding="utf-8")
        assert HOSTNAME_LINE[platform].format(name=name) in text.splitlines()
        assert not PROMPT.search(text), text[:300]
        assert "\r" not in text
        assert "Screen length" not in text
        echoes = {command for command in CONFIG_COMMAND[platform].split(",") if command}
        assert not echoes & {line.strip() for line in text.splitlines()}, text[:300]
        assert text == (simulated_config(platform, name) or text)  # exactly what it printed
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert f"  - {name}: {name}.txt (" in result.stdout
    assert sorted(p.name for p in (captures / "configs").iterdir()) == sorted(f"{n}.txt" for n in names)


@pytest.mark.parametrize(
    ("device_filter", "expected"),
    [
        ({}, ["mx1", "mx2", "nx1", "r1", "r2", "r3", "sw1", "sw2"]),
        ({"vendor": "cisco"}, ["nx1", "r1", "r2", "r3"]),
        ({"vendor": "CISCO", "platform": "cisco_ios"}, ["r1", "r2", "r3"]),
        ({"vendor": "networks"}, ["mx1", "mx2", "sw1", "sw2"]),
        ({"site": "fra1"}, ["mx2", "nx1", "r3", "sw1"]),
        ({"role": "LEA"}, ["nx1", "sw1", "sw2"]),
        ({"name_pattern": "r*"}, ["r1", "r2", "r3"]),
        ({"name_pattern": "*1"}, ["mx1", "nx1", "r1", "sw1"]),
        ({"name_pattern": "?x?"}, ["mx1", "mx2", "nx1"]),
        ({"vendor": "arista", "site": "IAD2"}, ["sw2"]),
        ({"vendor": "nokia"}, []),
    ],
)
def test_dry_run_lists_exactly_the_matching_devices_without_a_vault(
    lab: Lab, tmp_path: Path, device_filter: dict[str, str], expected: list[str]
) -> None:
    job = write_job(tmp_path / "job.json", device_filter=device_filter)
    env = lab.env(lab.assets(tmp_path / "assets.db"), tmp_path / "captures")
    env.pop("VELOCITYCMDB_VAULT_PASS")
    result = run_job("--job", str(job), "--dry-run", env=env)

    assert result.returncode == 0, result.output
    listed = re.findall(r"^  - (\S+) \((127\.0\.0\.\d+)\)", result.stdout, re.MULTILINE)
    assert [name for name, _ in listed] == expected
    for name, address in listed:
        assert address == lab.devices[name].address
    if expected:
        assert f"Found {len(expected)} matching device" in result.stdout
    assert "Using credentials" not in result.stdout
    assert not (tmp_path / "captures").exists()


def test_limit_takes_the_first_devices_by_name(lab: Lab, tmp_path: Path) -> None:
    captures = tmp_path / "captures"
    job = config_job(tmp_path / "job.json", "cisco_ios")
    result = run_job(
        "--job", str(job), "-y", "--limit", "2", env=lab.env(lab.assets(tmp_path / "a.db"), captures)
    )
    assert result.returncode == 0, result.output
    assert sorted(p.name for p in (captures / "configs").iterdir()) == ["r1.txt", "r2.txt"]


def test_wrong_vault_password_is_one_clear_line(lab: Lab, tmp_path: Path) -> None:
    job = config_job(tmp_path / "job.json", "cisco_ios")
    env = lab.env(lab.assets(tmp_path / "a.db"), tmp_path / "captures", VELOCITYCMDB_VAULT_PASS="nope-nope")
    result = run_job("--job", str(job), "-y", env=env)
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: invalid vault password"
    assert "Traceback" not in result.output
    assert not (tmp_path / "captures").exists()


def test_auth_failure_on_one_device_does_not_stop_the_others(lab: Lab, tmp_path: Path) -> None:
    captures = tmp_path / "captures"
    job = config_job(tmp_path / "job.json", "cisco_ios")
    db = lab.assets(tmp_path / "a.db", names=["r1", "r2", "locked-out"])
    result = run_job("--job", str(job), "-y", env=lab.env(db, captures))

    assert result.returncode == 1
    assert "Results: 2 success, 1 failed" in result.stdout
    failure = lab.devices["locked-out"].address
    assert re.search(rf"✗ {re.escape(failure)} - \d+ms - locked-out: authentication failed", result.stdout)
    assert sorted(p.name for p in (captures / "configs").iterdir()) == ["r1.txt", "r2.txt"]
    assert "Traceback" not in result.output


def test_vault_made_by_the_earlier_tool_is_used(lab: Lab, tmp_path: Path) -> None:
    legacy = tmp_path / "collector.db"
    make_legacy_vault(legacy, "legacy-pass")
    # The legacy helper stores admin/s3cret; give it the fleet's real password instead.
    from vcollector.credentials.vault import Credential, Vault

    Vault(legacy).unlock("legacy-pass").add(
        Credential("lab", lab.fleet.spec.username, lab.fleet.spec.password), default=True, replace=True
    )
    job = config_job(tmp_path / "job.json", "arista_eos")
    env = lab.env(lab.assets(tmp_path / "a.db"), tmp_path / "captures", VELOCITYCMDB_VAULT_PASS="legacy-pass")
    env["VCOLLECTOR_VAULT"] = str(legacy)
    result = run_job("--job", str(job), "-y", "--credential", "lab", env=env)
    assert result.returncode == 0, result.output
    assert "Using credentials: lab (user: admin)" in result.stdout


def test_unknown_credential_lists_the_known_ones(lab: Lab, tmp_path: Path) -> None:
    job = config_job(tmp_path / "job.json", "cisco_ios")
    result = run_job(
        "--job", str(job), "-y", "--credential", "nope", env=lab.env(lab.assets(tmp_path / "a.db"), tmp_path)
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: credential 'nope' not found. Available: lab, wrong"


def test_rejected_command_fails_the_device_and_keeps_its_previous_capture(lab: Lab, tmp_path: Path) -> None:
    captures = tmp_path / "captures"
    previous = captures / "configs" / "r1.txt"
    previous.parent.mkdir(parents=True)
    previous.write_text("hostname r1\nthe good old capture\n")
    job = write_job(
        tmp_path / "job.json",
        device_filter={"name_pattern": "r1"},
        commands={"command": "enable,show running-config,show bogus thing"},
    )
    result = run_job("--job", str(job), "-y", env=lab.env(lab.assets(tmp_path / "a.db"), captures))
    assert result.returncode == 1
    assert "r1: device rejected 'show bogus thing': % Invalid input detected" in result.stdout
    assert previous.read_text() == "hostname r1\nthe good old capture\n"
    assert [p.name for p in previous.parent.iterdir()] == ["r1.txt"]


def test_privileged_command_without_enable_enters_enable_once(lab: Lab, tmp_path: Path) -> None:
    captures = tmp_path / "c"
    job = write_job(
        tmp_path / "job.json",
        device_filter={"name_pattern": "r2"},
        commands={"command": "show running-config"},
    )
    result = run_job("--job", str(job), "-y", env=lab.env(lab.assets(tmp_path / "a.db"), captures))
    assert result.returncode == 0, result.output
    assert "hostname r2" in (captures / "configs" / "r2.txt").read_text()


def test_device_without_address_is_named_and_fails(lab: Lab, tmp_path: Path) -> None:
    db = lab.assets(tmp_path / "a.db", names=["r1"], extra=[AssetRow("ghost", "cisco_ios", None)])
    job = config_job(tmp_path / "job.json", "cisco_ios")
    result = run_job("--job", str(job), "-y", env=lab.env(db, tmp_path / "captures"))
    assert result.returncode == 1
    assert "ghost (no address)" in result.stdout
    assert "ghost: no management_ip or ipv4_address in assets.db" in result.stdout
    assert (tmp_path / "captures" / "configs" / "r1.txt").exists()


def test_without_a_terminal_confirmation_needs_yes(lab: Lab, tmp_path: Path) -> None:
    job = config_job(tmp_path / "job.json", "cisco_ios")
    result = run_job("--job", str(job), env=lab.env(lab.assets(tmp_path / "a.db"), tmp_path / "captures"))
    assert result.returncode == 1
    assert "pass -y/--yes" in result.stderr
    assert not (tmp_path / "captures").exists()


def test_without_a_terminal_a_missing_vault_password_is_an_error(lab: Lab, tmp_path: Path) -> None:
    job = config_job(tmp_path / "job.json", "cisco_ios")
    env = lab.env(lab.assets(tmp_path / "a.db"), tmp_path / "captures")
    env.pop("VELOCITYCMDB_VAULT_PASS")
    result = run_job("--job", str(job), "-y", env=env)
    assert result.returncode == 1
    assert "no vault password" in result.stderr


def test_vault_password_from_keyring_after_remember(lab: Lab, tmp_path: Path) -> None:
    from tests.conftest import VAULT_PASSWORD, run_cli

    remembered = run_cli(
        "vcollector.cli",
        "vault",
        "remember",
        env={"VCOLLECTOR_VAULT": str(lab.vault), "VCOLLECTOR_VAULT_PASS": VAULT_PASSWORD},
    )
    assert remembered.returncode == 0, remembered.output
    job = config_job(tmp_path / "job.json", "cisco_nxos")
    env = lab.env(lab.assets(tmp_path / "a.db"), tmp_path / "captures")
    env.pop("VELOCITYCMDB_VAULT_PASS")
    result = run_job("--job", str(job), "-y", env=env)
    assert result.returncode == 0, result.output


def test_no_save_runs_but_writes_nothing(lab: Lab, tmp_path: Path) -> None:
    job = config_job(tmp_path / "job.json", "cisco_nxos")
    result = run_job(
        "--job", str(job), "-y", "--no-save", env=lab.env(lab.assets(tmp_path / "a.db"), tmp_path / "c")
    )
    assert result.returncode == 0, result.output
    assert "Results: 1 success, 0 failed" in result.stdout
    assert not (tmp_path / "c").exists()


def test_json_results_match_the_captures_on_disk(lab: Lab, tmp_path: Path) -> None:
    captures = tmp_path / "captures"
    job = config_job(tmp_path / "job.json", "cisco_ios")
    db = lab.assets(tmp_path / "a.db", names=["r1", "r3", "locked-out"])
    report = tmp_path / "results.json"
    result = run_job("--job", str(job), "-y", "--json", str(report), env=lab.env(db, captures))
    assert result.returncode == 1
    document = json.loads(report.read_text())
    assert document["status"] == "failed"
    (job_result,) = document["jobs"]
    by_name = {device["name"]: device for device in job_result["devices"]}
    assert set(by_name) == {"r1", "r3", "locked-out"}
    for name in ("r1", "r3"):
        device = by_name[name]
        assert device["status"] == "success"
        path = Path(device["capture_path"])
        assert path == captures / "configs" / f"{name}.txt"
        assert device["capture_bytes"] == path.stat().st_size
        assert device["elapsed_ms"] >= 0 and device["started"] <= device["ended"]
    assert by_name["locked-out"]["status"] == "failed"
    assert by_name["locked-out"]["reason"].startswith("authentication failed")
    assert by_name["locked-out"]["capture_path"] is None


@pytest.mark.parametrize(
    ("commands", "enables", "shows"),
    [
        # the login entered enable already (the credential has an enable secret)
        ("enable,show running-config", 1, 1),
        # privilege dropped by the job: its next enable is really sent
        ("enable,show running-config,disable,enable,show running-config", 2, 2),
    ],
)
def test_enable_is_sent_only_when_the_session_is_not_privileged(
    tmp_path: Path, commands: str, enables: int, shows: int
) -> None:
    device = LeanDevice("e1", device_address(120), behaviour="enable_password")
    vault = Vault(tmp_path / "vault.db")
    vault.init(VAULT_PASSWORD)
    vault.unlock(VAULT_PASSWORD).add(
        Credential("lab", USERNAME, PASSWORD, enable_secret=ENABLE_SECRET), default=True
    )
    job = write_job(tmp_path / "job.json", commands={"command": commands})
    with LeanFleet([device]) as fleet:
        db = build_assets_db(
            tmp_path / "a.db", [AssetRow("e1", "cisco_ios", device.address)], port=fleet.port
        )
        result = run_job("--job", str(job), "-y", env=lean_env(db, vault.path, tmp_path / "c"))
        sent = fleet.stats.commands
    assert result.returncode == 0, result.output
    assert sent["e1", "enable"] == enables
    assert sent["e1", "show running-config"] == shows  # never refused, so never repeated
    assert (tmp_path / "c" / "configs" / "e1.txt").read_text().count("hostname e1") == shows


def test_a_host_the_ssh_config_routes_is_reached_through_it(tmp_path: Path) -> None:
    """assets.db holds a name only the user's ssh config resolves (HostName): it still works."""
    device = LeanDevice("aliased", device_address(121))
    vault = Vault(tmp_path / "vault.db")
    vault.init(VAULT_PASSWORD)
    vault.unlock(VAULT_PASSWORD).add(Credential("lab", USERNAME, PASSWORD), default=True)
    ssh_dir = Path(os.environ["HOME"]) / ".ssh"
    ssh_dir.mkdir(exist_ok=True)
    (ssh_dir / "config").write_text(f"Host router-behind-alias.invalid\n  HostName {device.address}\n")
    job = write_job(tmp_path / "job.json", commands={"command": "enable,show running-config"})
    with LeanFleet([device]) as fleet:
        rows = [AssetRow("aliased", "cisco_ios", "router-behind-alias.invalid")]
        db = build_assets_db(tmp_path / "a.db", rows, port=fleet.port)
        result = run_job("--job", str(job), "-y", env=lean_env(db, vault.path, tmp_path / "c"))
        logins = fleet.stats.logins["aliased"]
    assert result.returncode == 0, result.output
    assert logins == 1
    assert "hostname aliased" in (tmp_path / "c" / "configs" / "aliased.txt").read_text()
    # recorded under the address SSH really went to: the name paramiko checks next time
    known = (Path(os.environ["VCOLLECTOR_HOME"]) / "known_hosts").read_text()
    assert known.startswith(f"[{device.address}]:{fleet.port} ")


def test_a_hostname_longer_than_netmikos_16_character_base_prompt_is_collected(tmp_path: Path) -> None:
    # Netmiko cuts an IOS base prompt at 16 characters; the prompt the device prints is whole.
    long_name = "nyc-core-router-01-long-name"
    device = LeanDevice(long_name, device_address(960))
    vault = Vault(tmp_path / "vault.db")
    vault.init(VAULT_PASSWORD)
    vault.unlock(VAULT_PASSWORD).add(Credential("lab", USERNAME, PASSWORD), default=True)
    job = write_job(tmp_path / "job.json", commands={"command": "enable,show running-config"},
                    execution={"timeout": 10})  # fmt: skip
    with LeanFleet([device]) as fleet:
        db = build_assets_db(
            tmp_path / "a.db", [AssetRow(long_name, "cisco_ios", device.address)], port=fleet.port
        )
        result = run_job("--job", str(job), "-y", env=lean_env(db, vault.path, tmp_path / "c"))
    assert result.returncode == 0, result.output
    text = (tmp_path / "c" / "configs" / f"{long_name}.txt").read_text()
    assert text.startswith("Building configuration...") and text.endswith("end\n")
    assert f"hostname {long_name}\n" in text and "#" not in text.splitlines()[-1]
