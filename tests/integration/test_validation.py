"""TextFSM validation through the real CLI, against lean devices answering with real device
outputs (ntc-templates' test data, Oxidized's recording of a Catalyst 9200L): valid output is
saved with its records, invalid output is not (exit 1), --force-save saves it anyway; the same
in worker processes and on Celery workers."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, CliResult, run_cli
from tests.integration.conftest import lean_env, write_job, write_lean_vault
from tests.support.brokers import broker_of, start_worker, workers
from vcollector.storage.history import History
from vcollector_sim.assets import AssetRow, build_assets_db
from vcollector_sim.lean_fleet import LeanDevice, LeanFleet, device_address
from vcollector_sim.transcripts import load_simulation

FIXTURES = REPO / "tests" / "fixtures"
REAL_VERSION = (FIXTURES / "textfsm" / "cisco_ios" / "show_version.raw").read_text(encoding="utf-8")
NOT_A_VERSION = "This is not what show version prints.\n"
PREVIOUS = "the last good capture\n"
NTP = "Clock is synchronized, stratum 3, reference is 10.0.0.1\n"
VALIDATION = {"use_tfsm": True, "tfsm_filter": "show_version", "min_score": 1, "store_failures": True}


def _recorded(command: str) -> str:
    simulation = load_simulation(FIXTURES / "oxidized" / "ios__C9200L-24P-4G_17.09.04a__simulation.yaml")
    lines = simulation.commands[command].replace("\r\n", "\n").split("\n")
    return "\n".join(lines[1:-1]) + "\n"


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    return write_lean_vault(tmp_path / "vault.db")


def _fleet(first: int) -> list[LeanDevice]:
    return [
        LeanDevice("v-real", device_address(first), answers={"show version": REAL_VERSION}),
        LeanDevice("v-lean", device_address(first + 1)),  # its short IOS-like show version parses too
        LeanDevice("v-empty", device_address(first + 2), answers={"show version": NOT_A_VERSION}),
    ]


def _db(tmp_path: Path, fleet: LeanFleet, platform: str = "cisco_ios") -> Path:
    rows = [AssetRow(device.name, platform, device.address) for device in fleet.devices]
    return build_assets_db(tmp_path / "assets.db", rows, port=fleet.port)


def _devices(results: Path, job: int = 0) -> dict[str, dict[str, Any]]:
    return {device["name"]: device for device in json.loads(results.read_text())["jobs"][job]["devices"]}


def _private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == 0o600


def test_valid_saved_with_records_invalid_kept_apart_and_force_save(vault: Path, tmp_path: Path) -> None:
    captures = tmp_path / "c"
    folder = captures / "version"
    folder.mkdir(parents=True)
    (folder / "v-empty.txt").write_text(PREVIOUS)
    job = write_job(tmp_path / "397.json", job_id=397, capture_type="version",
                    commands={"command": "show version", "output_directory": "version"},
                    validation=VALIDATION)  # fmt: skip
    results = tmp_path / "r.json"
    with LeanFleet(_fleet(930)) as fleet:
        env = lean_env(_db(tmp_path, fleet), vault, captures)
        first = run_cli("vcollector.run_job", "--job", str(job), "-y", "--json", str(results), env=env)
        assert first.returncode == 1, first.output
        assert "Traceback" not in first.output
        address = fleet.devices[2].address
        assert re.search(
            rf"\[\d/3\] ! {re.escape(address)} - \d+ms - v-empty: invalid: 0 records from template "
            r"cisco_ios_show_version \(min_score 1\); not saved, output kept in \.invalid/v-empty\.txt",
            first.stdout,
        ), first.stdout
        assert "Results: 2 success, 0 failed, 1 invalid" in first.stdout
        assert f"Invalid 1 device:\n  - v-empty ({address}): invalid: 0 records" in first.stdout
        # Valid: the capture, and its records beside it with ntc-templates' field names.
        assert (folder / "v-real.txt").read_text() == REAL_VERSION
        records = json.loads((folder / "v-real.json").read_text())
        assert records[0]["hostname"] == "router1" and records[0]["version"] == "12.2(54)SG1"
        assert json.loads((folder / "v-lean.json").read_text())[0]["hostname"] == "v-lean"
        assert all(_private(path) for path in (folder / "v-real.txt", folder / "v-real.json"))
        # Invalid: the previous capture untouched, the output under .invalid/, out of the loader's *.txt.
        assert (folder / "v-empty.txt").read_text() == PREVIOUS
        assert not (folder / "v-empty.json").exists()
        kept = folder / ".invalid" / "v-empty.txt"
        assert kept.read_text() == NOT_A_VERSION and _private(kept)
        assert sorted(path.name for path in folder.glob("*.txt")) == [
            "v-empty.txt",
            "v-lean.txt",
            "v-real.txt",
        ]
        # The results file.
        devices = _devices(results)
        assert [devices[n]["status"] for n in ("v-real", "v-lean", "v-empty")] == [
            "success",
            "success",
            "invalid",
        ]
        assert devices["v-empty"]["reason"] == "0 records from template cisco_ios_show_version (min_score 1)"
        assert devices["v-empty"]["invalid_path"] == str(kept) and devices["v-empty"]["capture_path"] is None
        assert devices["v-real"]["records"] == 1
        assert devices["v-real"]["records_path"] == str(folder / "v-real.json")
        document = json.loads(results.read_text())
        assert document["totals"]["devices_invalid"] == 1 and document["totals"]["devices_failed"] == 0
        assert document["status"] == "failed"
        # The history never saw the invalid output.
        history = History(captures)
        assert (
            history.versions("version/v-empty.txt") == [] and len(history.versions("version/v-real.txt")) == 1
        )

        forced = run_cli(
            "vcollector.run_job", "--job", str(job), "-y", "--force-save", "--json", str(results), env=env
        )
    # --force-save saves it, versioned, and it is still invalid (exit 1).
    assert forced.returncode == 1, forced.output
    assert (
        "v-empty: invalid: 0 records from template cisco_ios_show_version (min_score 1); saved anyway (--force-save)"
        in forced.stdout
    )
    assert "Results: 2 success, 0 failed, 1 invalid" in forced.stdout
    assert (folder / "v-empty.txt").read_text() == NOT_A_VERSION
    assert json.loads((folder / "v-empty.json").read_text()) == []
    assert _devices(results)["v-empty"]["status"] == "invalid"
    assert len(history.versions("version/v-empty.txt")) == 1
    assert _devices(results)["v-empty"]["change"] == "new"
    assert history.content("version/v-empty.txt") == NOT_A_VERSION.encode()
    assert len(history.versions("version/v-real.txt")) == 1  # unchanged: no new version


def test_warnings_several_commands_and_worker_processes(vault: Path, tmp_path: Path) -> None:
    devices = [
        LeanDevice(f"p-{n}", device_address(940 + n), answers={
            "show version": _recorded("show version"), "show inventory": _recorded("show inventory"),
            "show ntp status": NTP,
        })
        for n in range(3)
    ]  # fmt: skip
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    write_job(jobs / "facts.json", job_id="facts", capture_type="facts",
              commands={"command": "enable,terminal length 0,show version,show inventory,,",
                        "output_directory": "facts"},
              validation=VALIDATION)  # fmt: skip
    write_job(jobs / "ntp.json", job_id="ntp", capture_type="ntp",
              commands={"command": "show ntp status", "output_directory": "ntp"},
              validation={**VALIDATION, "tfsm_filter": "status"})  # fmt: skip
    results = tmp_path / "r.json"
    with LeanFleet(devices) as fleet:
        env = lean_env(_db(tmp_path, fleet, "cisco_xe"), vault, tmp_path / "c")
        result = run_cli("vcollector.run_jobs_concurrent", "--jobs-dir", str(jobs), "-y", "--processes", "2",
                         "--json", str(results), env=env)  # fmt: skip
    assert result.returncode == 0, result.output
    warning = "no TextFSM template for cisco_xe 'show ntp status' (3 devices): not validated"
    assert result.stdout.count(warning) == 2  # the job's line, and the summary
    assert f"[ntp]   Warning: {warning}" in result.stdout
    assert f"Warnings (1):\n  - [ntp] {warning}" in result.stdout
    document = json.loads(results.read_text())
    jobs_by_id = {job["job_id"]: job for job in document["jobs"]}
    assert jobs_by_id["ntp"]["warnings"] == [warning] and jobs_by_id["facts"]["warnings"] == []
    for n in range(3):
        assert (tmp_path / "c" / "ntp" / f"p-{n}.txt").read_text() == NTP
        assert not (tmp_path / "c" / "ntp" / f"p-{n}.json").exists()
        capture = (tmp_path / "c" / "facts" / f"p-{n}.txt").read_text()
        assert capture == _recorded("show version") + _recorded("show inventory")
        records = json.loads((tmp_path / "c" / "facts" / f"p-{n}.json").read_text())
        assert list(records) == ["show version", "show inventory"]
        assert records["show version"][0]["serial"] == ["JAE24FFFFFF"]
        assert [item["pid"] for item in records["show inventory"]] == ["C9200L-24P-4G"] * 2 + [
            "PWR-C5-600WAC"
        ]
    assert all(device["records"] == 4 for device in jobs_by_id["facts"]["devices"])


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".history" not in path.parts
    }


def _statuses(result: CliResult, results: Path) -> list[tuple[str, str, str | None]]:
    assert result.returncode == 1, result.output
    return sorted((name, d["status"], d["reason"]) for name, d in _devices(results).items())


def test_a_distributed_run_validates_on_the_coordinator_as_a_local_run_does(
    vault: Path, tmp_path: Path
) -> None:
    job = write_job(tmp_path / "397.json", job_id=397, capture_type="version",
                    commands={"command": "enable,show version", "output_directory": "version"},
                    validation=VALIDATION)  # fmt: skip
    with broker_of("redis") as broker, LeanFleet(_fleet(950)) as fleet, workers() as started:
        db = _db(tmp_path, fleet)
        local_results, remote_results = tmp_path / "local.json", tmp_path / "remote.json"
        local = run_cli("vcollector.run_job", "--job", str(job), "-y", "--json", str(local_results),
                        env=lean_env(db, vault, tmp_path / "local"))  # fmt: skip
        env = {**lean_env(db, vault, tmp_path / "remote"), **broker.env()}
        started.append(start_worker(broker, lean_env(db, vault, tmp_path / "unused"), "any"))
        remote = run_cli(
            "vcollector.run_job", "--job", str(job), "-y", "--json", str(remote_results), env=env
        )
        assert all(worker.stop() == 0 for worker in started)
    assert _statuses(remote, remote_results) == _statuses(local, local_results)
    assert _files(tmp_path / "remote") == _files(tmp_path / "local")
    assert sorted(_files(tmp_path / "local")) == [
        "version/.invalid/v-empty.txt", "version/v-lean.json", "version/v-lean.txt",
        "version/v-real.json", "version/v-real.txt",
    ]  # fmt: skip
    assert not (tmp_path / "unused").exists()
