"""Capture history end to end: devices whose configs change between runs, volatile lines,
secret-laden configs, the history commands, and runs that must lose nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, CliResult, run_cli
from tests.integration.conftest import lean_env, write_job, write_lean_vault
from vcollector.storage.history import HISTORY_DIR
from vcollector_sim.assets import AssetRow, build_assets_db
from vcollector_sim.lean_fleet import LeanDevice, LeanFleet, device_address


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    return write_lean_vault(tmp_path / "vault.db", enable_secret="lean-enable")


def _run(tool: str, *args: str, env: dict[str, str]) -> CliResult:
    return run_cli(f"vcollector.{tool}", *args, env=env)


def _vc(*args: str, env: dict[str, str]) -> CliResult:
    return run_cli("vcollector.cli", *args, env=env)


def _job(tmp_path: Path, name: str = "job.json", **fields: object) -> Path:
    return write_job(tmp_path / name, commands={"command": "enable,show running-config"}, **fields)  # type: ignore[arg-type]


def test_versions_only_for_significant_changes_and_the_commands_show_them(
    vault: Path, tmp_path: Path
) -> None:
    devices = [LeanDevice(f"h-{i}", device_address(800 + i), volatile=True) for i in range(3)]
    captures = tmp_path / "c"
    results = tmp_path / "r.json"
    with LeanFleet(devices) as fleet:
        db = build_assets_db(
            tmp_path / "a.db", [AssetRow(d.name, "cisco_ios", d.address) for d in devices], port=fleet.port
        )
        env = lean_env(db, vault, captures)
        job = _job(tmp_path)
        first = _run("run_job", "--job", str(job), "-y", "--json", str(results), env=env)
        assert first.returncode == 0, first.output
        assert "Changes: 0 changed, 0 unchanged, 3 new" in first.stdout
        assert {d["change"] for d in json.loads(results.read_text())["jobs"][0]["devices"]} == {"new"}
        # Only the volatile line moved: nothing to keep, nothing committed.
        second = _run("run_job", "--job", str(job), "-y", "--json", str(results), env=env)
        assert "Changes: 0 changed, 3 unchanged, 0 new" in second.stdout
        head = subprocess.run(
            ["git", "-C", str(captures / HISTORY_DIR), "rev-list", "--count", "main"],
            capture_output=True,
            text=True,
        )
        assert head.stdout.strip() == "1"
        # A real change on one device.
        devices[1].extra_config = ["ntp server 10.9.9.9", "logging host 10.8.8.8"]
        third = _run("run_job", "--job", str(job), "-y", "--json", str(results), env=env)
        assert "Changes: 1 changed, 2 unchanged, 0 new" in third.stdout
        assert "  - h-1: +2 -0" in third.stdout
        record = next(d for d in json.loads(results.read_text())["jobs"][0]["devices"] if d["name"] == "h-1")
        assert (record["change"], record["lines_added"], record["lines_removed"]) == ("changed", 2, 0)
        assert len(record["revision"]) == 40
        # The capture file is still the latest output, volatile line included.
        assert "! Last configuration change at" in (captures / "configs" / "h-1.txt").read_text()
        devices[1].extra_config = ["ntp server 10.9.9.9"]
        assert _run("run_job", "--job", str(job), "-y", env=env).returncode == 0
    base = {"VCOLLECTOR_CAPTURE_DIR": str(captures)}
    listed = _vc("history", "h-1", "--json", env=base)
    assert listed.returncode == 0, listed.output
    versions = json.loads(listed.stdout)["versions"]
    assert [(v["lines_added"], v["lines_removed"]) for v in versions[:2]] == [(0, 1), (2, 0)]
    assert len(versions) == 3 and versions[2]["lines_removed"] == 0 and versions[2]["lines_added"] > 100
    diff = _vc("diff", "h-1", env=base)
    assert diff.returncode == 0, diff.output
    assert "-logging host 10.8.8.8" in diff.stdout and "+++ configs/h-1.txt@" in diff.stdout
    older = _vc(
        "diff", "h-1", "--from", versions[2]["revision"][:8], "--to", versions[1]["revision"][:8], env=base
    )
    assert "+ntp server 10.9.9.9" in older.stdout and "+logging host 10.8.8.8" in older.stdout
    shown = _vc("show", "h-1", "--at", versions[2]["revision"][:10], env=base)
    assert "ntp server 10.9.9.9" not in shown.stdout and "hostname h-1" in shown.stdout
    one = _vc("diff", "h-0", env=base)
    assert one.returncode == 1 and "only one version" in one.stderr
    changes = _vc("changes", "--since", "1h", "--json", env=base)
    assert sorted({row["device"] for row in json.loads(changes.stdout)}) == ["h-0", "h-1", "h-2"]
    missing = _vc("history", "nope", env=base)
    assert missing.returncode == 1 and "no history for device 'nope'" in missing.stderr


def test_no_history_and_job_history_false_keep_nothing(vault: Path, tmp_path: Path) -> None:
    device = LeanDevice("nh-1", device_address(810))
    with LeanFleet([device]) as fleet:
        db = build_assets_db(
            tmp_path / "a.db", [AssetRow(device.name, "cisco_ios", device.address)], port=fleet.port
        )
        env = lean_env(db, vault, tmp_path / "c")
        off = _run("run_job", "--job", str(_job(tmp_path)), "-y", "--no-history", env=env)
        job_off = _run(
            "run_job", "--job", str(_job(tmp_path, "j2.json", storage={"history": False})), "-y", env=env
        )
        no_save = _run("run_job", "--job", str(_job(tmp_path, "j3.json")), "-y", "--no-save", env=env)
    for result in (off, job_off, no_save):
        assert result.returncode == 0, result.output
        assert "Changes:" not in result.stdout
    assert not (tmp_path / "c" / HISTORY_DIR).exists()


def test_a_failed_device_stores_nothing_and_changes_nothing(vault: Path, tmp_path: Path) -> None:
    good, bad = LeanDevice("f-ok", device_address(815)), LeanDevice("f-bad", device_address(816))
    with LeanFleet([good, bad]) as fleet:
        db = build_assets_db(
            tmp_path / "a.db",
            [AssetRow(d.name, "cisco_ios", d.address) for d in (good, bad)],
            port=fleet.port,
        )
        env = lean_env(db, vault, tmp_path / "c")
        job = _job(tmp_path)
        assert _run("run_job", "--job", str(job), "-y", env=env).returncode == 0
        bad.behaviour = "drop"
        bad.extra_config = ["would be a change"]
        fleet.restart("f-bad")
        result = _run("run_job", "--job", str(job), "-y", env=env)
    assert result.returncode == 1
    assert "Changes: 0 changed, 1 unchanged, 0 new" in result.stdout
    base = {"VCOLLECTOR_CAPTURE_DIR": str(tmp_path / "c")}
    assert len(json.loads(_vc("history", "f-bad", "--json", env=base).stdout)["versions"]) == 1


def test_scrubbed_runs_write_no_secret_anywhere(vault: Path, tmp_path: Path) -> None:
    secrets = [
        "enable secret 5 $1$abcd$SECRETHASHVALUE",
        "snmp-server community PublicComm RO",
        "tacacs-server key 7 0822455D0A16",
    ]
    device = LeanDevice("s-1", device_address(820), extra_config=secrets)
    results = tmp_path / "r.json"
    with LeanFleet([device]) as fleet:
        db = build_assets_db(
            tmp_path / "a.db", [AssetRow(device.name, "cisco_ios", device.address)], port=fleet.port
        )
        env = lean_env(db, vault, tmp_path / "c")
        job = _job(tmp_path, storage={"scrub_secrets": True})
        result = _run("run_job", "--job", str(job), "-y", "--debug", "--json", str(results), env=env)
        cli = _run(
            "run_job",
            "--job",
            str(_job(tmp_path, "plain.json")),
            "-y",
            "--scrub-secrets",
            "--output-dir",
            str(tmp_path / "c2"),
            env=env,
        )
    assert result.returncode == 0 and cli.returncode == 0, result.output + cli.output
    text = (tmp_path / "c" / "configs" / "s-1.txt").read_text()
    assert "snmp-server community <removed> RO" in text
    assert "hostname s-1" in text
    words = ("SECRETHASHVALUE", "PublicComm", "0822455D0A16")
    written = [p for p in (tmp_path / "c").rglob("*") if p.is_file()]
    written += [p for p in (tmp_path / "c2").rglob("*") if p.is_file()]
    written += [p for p in (Path(os.environ["VCOLLECTOR_HOME"]) / "debug").rglob("*") if p.is_file()]
    written.append(results)
    assert any(p.suffix == ".log" for p in written)
    for path in written:
        data = path.read_bytes()
        if path.suffix == ".pack":
            continue  # compressed: checked through git below
        assert not any(word.encode() in data for word in words), path
    log = subprocess.run(
        ["git", "-C", str(tmp_path / "c" / HISTORY_DIR), "log", "-p", "main"], capture_output=True, text=True
    )
    assert "community <removed>" in log.stdout and not any(word in log.stdout for word in words)


def test_two_runs_at_once_both_land_their_versions(vault: Path, tmp_path: Path) -> None:
    devices = [LeanDevice(f"cc-{i}", device_address(830 + i)) for i in range(8)]
    with LeanFleet(devices) as fleet:
        db = build_assets_db(
            tmp_path / "a.db", [AssetRow(d.name, "cisco_ios", d.address) for d in devices], port=fleet.port
        )
        env = {**os.environ, **lean_env(db, vault, tmp_path / "c")}
        jobs = [
            write_job(
                tmp_path / "a.json",
                device_filter={"name_pattern": "cc-0*"},
                commands={"command": "enable,show running-config", "output_directory": "a"},
            ),
            write_job(
                tmp_path / "b.json",
                commands={"command": "enable,show running-config", "output_directory": "b"},
            ),
        ]
        runs = [
            subprocess.Popen(
                [sys.executable, "-m", "vcollector.run_job", "--job", str(job), "-y"],
                env=env,
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for job in jobs
        ]
        outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    repo = tmp_path / "c" / HISTORY_DIR
    count = subprocess.run(
        ["git", "-C", str(repo), "rev-list", "--count", "main"], capture_output=True, text=True
    )
    assert count.stdout.strip() == "2"
    files = subprocess.run(
        ["git", "-C", str(repo), "ls-tree", "-r", "--name-only", "main"], capture_output=True, text=True
    )
    assert sorted(files.stdout.split()) == ["a/cc-0.txt", *sorted(f"b/cc-{i}.txt" for i in range(8))]
    fsck = subprocess.run(["git", "-C", str(repo), "fsck"], capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
