"""Worker processes: the same captures, console lines and results as one process."""

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

import pytest

from tests.conftest import REPO, VAULT_PASSWORD, run_cli
from tests.integration.conftest import lean_env, write_job
from vcollector.credentials.vault import Credential, Vault
from vcollector_sim.assets import AssetRow, build_assets_db
from vcollector_sim.lean_fleet import PASSWORD, USERNAME, LeanDevice, LeanFleet, device_address

DEVICES = 24


@pytest.fixture(scope="module")
def lean(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LeanFleet, Path, Path]]:
    base = tmp_path_factory.mktemp("parallel")
    devices = [LeanDevice(f"p-{index:02d}", device_address(300 + index)) for index in range(DEVICES)]
    devices.append(LeanDevice("p-locked", device_address(300 + DEVICES), password="nope-nope"))
    vault = Vault(base / "vault.db")
    vault.init(VAULT_PASSWORD)
    vault.unlock(VAULT_PASSWORD).add(Credential("lab", USERNAME, PASSWORD), default=True)
    with LeanFleet(devices) as fleet:
        rows = [AssetRow(d.name, "cisco_ios", d.address) for d in devices]
        db = build_assets_db(base / "assets.db", rows, port=fleet.port)
        yield fleet, db, vault.path


def _normalised(stdout: str) -> list[str]:
    """Console lines with timings and finishing order taken out."""
    lines = [re.sub(r"\d+ms", "Nms", re.sub(r"\[\d+/", "[i/", line)) for line in stdout.splitlines()]
    return sorted(line for line in lines if not line.startswith("Total time"))


@pytest.mark.parametrize(
    ("tool", "start"), [("run_job", "fork"), ("run_jobs_concurrent", "fork"), ("run_job", "spawn")]
)
def test_processes_give_the_same_results_as_one_process(
    lean: tuple[LeanFleet, Path, Path], tmp_path: Path, tool: str, start: str
) -> None:
    fleet, db, vault = lean
    job = write_job(
        tmp_path / "job.json", commands={"command": "enable,terminal length 0,show running-config"}
    )
    job2 = write_job(
        tmp_path / "ver.json", job_id="ver", commands={"command": "show version", "output_directory": "v"}
    )
    outputs = {}
    for processes in ("1", "3"):
        captures = tmp_path / f"captures-{processes}"
        report = tmp_path / f"r-{processes}.json"
        fleet.stats.reset()
        if tool == "run_job":
            args = ["vcollector.run_job", "--job", str(job)]
        else:
            args = ["vcollector.run_jobs_concurrent", "--jobs", str(job), str(job2)]
        env = {**lean_env(db, vault, captures), "VCOLLECTOR_SPAWN_WORKERS": "1" if start == "spawn" else "0"}
        result = run_cli(*args, "-y", "--processes", processes, "--json", str(report), env=env)
        assert result.returncode == 1, result.output  # p-locked fails
        assert "Traceback" not in result.output
        outputs[processes] = (result.stdout, captures, json.loads(report.read_text()))
        assert fleet.stats.logins.total() == DEVICES  # one login per device, whatever the job count
    (one_out, one_dir, one_json), (many_out, many_dir, many_json) = outputs["1"], outputs["3"]
    assert _normalised(one_out.replace(str(one_dir), "X")) == _normalised(
        many_out.replace(str(many_dir), "X")
    )

    def captures_of(folder: Path) -> dict[Path, bytes]:  # the history's commits differ by time
        return {
            p.relative_to(folder): p.read_bytes()
            for p in folder.rglob("*")
            if p.is_file() and ".history" not in p.relative_to(folder).parts
        }

    files_one, files_many = captures_of(one_dir), captures_of(many_dir)
    assert files_one == files_many
    assert len(files_one) == DEVICES * (1 if tool == "run_job" else 2)
    assert one_json["totals"] == many_json["totals"]
    known_hosts = Path(os.environ["VCOLLECTOR_HOME"]) / "known_hosts"
    assert len(known_hosts.read_text().splitlines()) == DEVICES  # learnt in the workers, saved once


def test_interrupt_with_worker_processes(lean: tuple[LeanFleet, Path, Path], tmp_path: Path) -> None:
    _, db, vault = lean
    captures = tmp_path / "captures"
    # Three commands 3 s apart keep every session busy when the signal comes.
    job = write_job(
        tmp_path / "job.json",
        commands={"command": "show clock,show clock,show clock"},
        execution={"timeout": 60, "inter_command_time": 3, "max_workers": 4},
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "vcollector.run_job", "--job", str(job), "-y", "--processes", "2"],
        env={**os.environ, **lean_env(db, vault, captures)},
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(4)
    sent = time.monotonic()
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert time.monotonic() - sent < 10
    assert process.returncode == 130, stdout + stderr
    assert "Interrupted" in stdout
    assert "Traceback" not in stdout + stderr
    time.sleep(0.5)
    leftovers = subprocess.run(
        ["pgrep", "-f", "vcollector.run_job --job " + str(job)], capture_output=True, text=True
    )
    assert leftovers.stdout.strip() == ""
    if captures.exists():
        written = [p for p in captures.rglob("*") if p.is_file() and ".history" not in p.parts]
        assert all(p.suffix == ".txt" for p in written)
