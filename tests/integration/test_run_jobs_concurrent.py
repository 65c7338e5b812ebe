"""run_jobs_concurrent end to end against the simulated fleet."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.integration.conftest import Lab, config_job, run_jobs, write_job


@pytest.fixture
def lab_env(lab: Lab, tmp_path: Path) -> dict[str, str]:
    lab.fleet.sessions.reset()
    return lab.env(lab.assets(tmp_path / "assets.db"), tmp_path / "captures")


def test_jobs_run_in_parallel_with_one_summary(lab: Lab, tmp_path: Path, lab_env: dict[str, str]) -> None:
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    config_job(jobs / "ios.json", "cisco_ios", job_id=329)
    config_job(jobs / "eos.json", "arista_eos", job_id=328)
    write_job(
        jobs / "ver.json",
        job_id=365,
        capture_type="version",
        device_filter={"vendor": "juniper"},
        commands={"command": "show version", "output_directory": "version"},
    )
    result = run_jobs("--jobs-dir", str(jobs), "-y", env=lab_env)

    assert result.returncode == 0, result.output
    out = result.stdout
    assert "Jobs to run (3):" in out
    assert "  - eos.json: 328 (2 devices)" in out
    assert "  - ios.json: 329 (3 devices)" in out
    assert "Total: 3 jobs, 7 device executions" in out
    assert "Max concurrent jobs: 4" in out
    assert "Using credentials: lab (user: admin)" in out
    for job_id, count in (("328", 2), ("329", 3), ("365", 2)):
        assert f"[{job_id}] Starting - " in out
        assert f"[{job_id}] Found {count} devices" in out
        assert re.search(rf"\[{job_id}\] ✓ Complete: {count}/{count} success in \d+ms", out)
        assert re.search(rf"  ✓ {job_id}: {count}/{count} devices, \d+ms", out)
    assert "Jobs: 3/3 successful" in out
    assert "Devices: 7 success, 0 failed" in out
    assert "Captures saved: 7" in out
    captures = tmp_path / "captures"
    assert len(list((captures / "configs").iterdir())) == 5
    assert "JUNOS" in (captures / "version" / "mx1.txt").read_text()


@pytest.mark.parametrize("cap", [1, 2])
def test_sessions_per_device_are_capped_across_jobs(
    lab: Lab, tmp_path: Path, lab_env: dict[str, str], cap: int
) -> None:
    jobs = []
    for index in range(4):
        jobs.append(
            str(
                write_job(
                    tmp_path / f"job{index}.json",
                    job_id=400 + index,
                    device_filter={"name_pattern": "sw*"},
                    commands={"command": "show clock,show clock", "output_directory": f"clock{index}"},
                    execution={"inter_command_time": 0.5},
                )
            )
        )
    result = run_jobs(
        "--jobs", *jobs, "-y", "--no-shared-sessions", "--max-sessions-per-device", str(cap), env=lab_env
    )
    assert result.returncode == 0, result.output
    peaks = lab.fleet.sessions.peak
    assert lab.fleet.sessions.logins["sw1"] == 4 and lab.fleet.sessions.logins["sw2"] == 4
    assert max(peaks["sw1"], peaks["sw2"]) == cap, peaks


def test_global_session_cap(lab: Lab, tmp_path: Path, lab_env: dict[str, str]) -> None:
    job = write_job(
        tmp_path / "all.json",
        commands={"command": "show clock"},
        device_filter={"vendor": "arista"},
        execution={"inter_command_time": 0.5},
    )
    job2 = write_job(
        tmp_path / "all2.json",
        commands={"command": "show clock,show clock", "output_directory": "b"},
        device_filter={"vendor": "arista"},
        execution={"inter_command_time": 0.5},
    )
    result = run_jobs(
        "--jobs", str(job), str(job2), "-y", "--no-shared-sessions", "--max-sessions", "1", env=lab_env
    )
    assert result.returncode == 0, result.output
    assert max(lab.fleet.sessions.peak.values()) == 1


def test_a_broken_job_fails_alone(lab: Lab, tmp_path: Path, lab_env: dict[str, str]) -> None:
    good = config_job(tmp_path / "good.json", "cisco_nxos", job_id=330)
    broken = tmp_path / "broken.json"
    broken.write_text("{ this is not json")
    empty = write_job(tmp_path / "empty.json", job_id=999, device_filter={"vendor": "nokia"})
    result = run_jobs("--jobs", str(good), str(broken), str(empty), "-y", env=lab_env)

    assert result.returncode == 1
    assert "broken.json: ERROR" in result.stdout
    assert "not valid JSON" in result.stdout
    assert "Jobs: 1/3 successful" in result.stdout
    assert re.search(r"✓ 330: 1/1 devices", result.stdout)
    assert "✗ 999: no devices match the filter" in result.stdout
    assert (tmp_path / "captures" / "configs" / "nx1.txt").exists()
    assert "Traceback" not in result.output


def test_quoted_glob_is_expanded_and_quiet_prints_only_the_summary(
    lab: Lab, tmp_path: Path, lab_env: dict[str, str]
) -> None:
    config_job(tmp_path / "job_a.json", "cisco_nxos", job_id=1)
    config_job(tmp_path / "job_b.json", "juniper_junos", job_id=2)
    result = run_jobs("--jobs", str(tmp_path / "job_*.json"), "-y", "-q", env=lab_env)
    assert result.returncode == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert lines[0] == "Using credentials: lab (user: admin)"
    assert lines[1:4] == ["=" * 60, "SUMMARY", "=" * 60]
    assert "Jobs: 2/2 successful" in lines
    assert not any("Starting" in line or "Jobs to run" in line for line in lines)


def test_dry_run_warns_about_clashing_captures(lab: Lab, tmp_path: Path, lab_env: dict[str, str]) -> None:
    ios = write_job(tmp_path / "ios.json", job_id=301, device_filter={"vendor": "cisco"})
    nxos = write_job(tmp_path / "nxos.json", job_id=302, device_filter={"vendor": "cisco"})
    env = dict(lab_env)
    env.pop("VELOCITYCMDB_VAULT_PASS")
    result = run_jobs("--jobs", str(ios), str(nxos), "--dry-run", env=env)
    assert result.returncode == 0, result.output
    assert "  - ios.json: 301 (4 devices)" in result.stdout
    assert "Warning: jobs 301, 302 would write the same 4 capture file(s)" in result.stdout
    assert "Using credentials" not in result.stdout


def test_json_results_for_several_jobs(lab: Lab, tmp_path: Path, lab_env: dict[str, str]) -> None:
    a = config_job(tmp_path / "a.json", "arista_eos", job_id=1)
    b = write_job(
        tmp_path / "b.json",
        job_id=2,
        device_filter={"name_pattern": "mx1"},
        commands={"command": "show nonsense", "output_directory": "x"},
    )
    report = tmp_path / "out" / "results.json"
    result = run_jobs("--jobs", str(a), str(b), "-y", "--json", str(report), env=lab_env)
    assert result.returncode == 1
    document = json.loads(report.read_text())
    assert document["tool"] == "run_jobs_concurrent"
    assert document["totals"] == {
        "jobs": 2,
        "jobs_succeeded": 1,
        "devices_succeeded": 2,
        "devices_failed": 1,
        "devices_invalid": 0,
        "captures_saved": 2,
        "changed": 0,
        "unchanged": 0,
        "new": 2,
    }
    jobs = {job["job_id"]: job for job in document["jobs"]}
    for device in jobs["1"]["devices"]:
        assert Path(device["capture_path"]).read_bytes().__len__() == device["capture_bytes"]
    (failed,) = jobs["2"]["devices"]
    assert failed["status"] == "failed" and "unknown command" in failed["reason"]


def test_shared_sessions_log_in_once_per_device_and_save_each_jobs_capture(
    lab: Lab, tmp_path: Path, lab_env: dict[str, str]
) -> None:
    jobs = [
        str(config_job(tmp_path / "a.json", "arista_eos", job_id=1)),
        str(
            write_job(
                tmp_path / "b.json",
                job_id=2,
                capture_type="version",
                device_filter={"vendor": "arista"},
                commands={"command": "enable,show version", "output_directory": "version"},
            )
        ),
        str(
            write_job(
                tmp_path / "c.json",
                job_id=3,
                capture_type="clock",
                device_filter={"name_pattern": "sw1"},
                commands={"command": "show clock", "output_directory": "clock"},
            )
        ),
    ]
    result = run_jobs("--jobs", *jobs, "-y", env=lab_env)
    assert result.returncode == 0, result.output
    assert lab.fleet.sessions.logins["sw1"] == 1 and lab.fleet.sessions.logins["sw2"] == 1
    captures = tmp_path / "captures"
    assert "hostname sw1" in (captures / "configs" / "sw1.txt").read_text()
    assert "cEOSLab" in (captures / "version" / "sw2.txt").read_text()
    assert (captures / "clock" / "sw1.txt").exists() and not (captures / "clock" / "sw2.txt").exists()
    assert "Devices: 5 success, 0 failed" in result.stdout
