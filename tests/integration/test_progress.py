"""The live progress: on a terminal only, above it the seed's lines, nothing of it elsewhere."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, VAULT_PASSWORD, run_cli
from tests.integration.conftest import lean_env, write_job
from vcollector.credentials.vault import Credential, Vault
from vcollector_sim.assets import AssetRow, build_assets_db
from vcollector_sim.lean_fleet import PASSWORD, USERNAME, LeanDevice, LeanFleet, device_address


def _on_a_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run a CLI with its standard streams on a pseudo-terminal; what the terminal received."""
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", *args],
        env={**os.environ, **env},
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=REPO,
    )
    os.close(slave)
    received = b""
    while True:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the other side closed
                break
            if not chunk:
                break
            received += chunk
        elif process.poll() is not None:
            break
    os.close(master)
    return process.wait(60), received.decode("utf-8", "replace")


@pytest.fixture
def run_env(tmp_path: Path) -> dict[str, str]:
    vault = Vault(tmp_path / "vault.db")
    vault.init(VAULT_PASSWORD)
    vault.unlock(VAULT_PASSWORD).add(Credential("lab", USERNAME, PASSWORD), default=True)
    return {"VAULT": str(vault.path)}


def test_progress_on_a_terminal_and_the_seed_lines_above_it(tmp_path: Path, run_env: dict[str, str]) -> None:
    devices = [LeanDevice(f"p{i}", device_address(850 + i), delay=0.3) for i in range(12)]
    devices.append(LeanDevice("p-bad", device_address(870), password="not-the-vaults"))
    job = write_job(tmp_path / "job.json", commands={"command": "show version,show clock"},
                    execution={"max_workers": 3})  # fmt: skip
    with LeanFleet(devices) as fleet:
        db = build_assets_db(tmp_path / "a.db", [AssetRow(d.name, "cisco_ios", d.address) for d in devices],
                             port=fleet.port)  # fmt: skip
        env = {
            **lean_env(db, Path(run_env["VAULT"]), tmp_path / "c"),
            "TERM": "xterm-256color",
            "COLUMNS": "120",
        }
        env.pop("NO_COLOR", None)
        run = ["vcollector.run_job", "--job", str(job), "-y"]

        def apart(name: str, **extra: str) -> dict[str, str]:  # each run its own captures: all new
            return {**env, "VCOLLECTOR_CAPTURE_DIR": str(tmp_path / name), **extra}

        code, screen = _on_a_terminal(run, apart("live"))
        quiet_code, quiet = _on_a_terminal([*run, "-q"], apart("quiet"))
        plain_code, plain = _on_a_terminal(run, apart("plain", NO_COLOR="1"))
        dumb_code, dumb = _on_a_terminal(run, apart("dumb", TERM="dumb"))
        piped = run_cli(*run, env=apart("piped"))
    assert code == quiet_code == plain_code == dumb_code == piped.returncode == 1
    # The live lines: done/total, failed, rate, elapsed and ETA, updated in place.
    assert "dev/s" in screen and "ETA" in screen and "elapsed" in screen
    assert "1 failed" in screen and "13/13" in screen
    # The seed's lines are all there, above it.
    for line in piped.stdout.splitlines():
        if line.strip() and "ms" not in line and "Output dir" not in line and " - p" not in line:
            assert line in screen.replace("\r\n", "\n"), line
    assert "[13/13] " in screen and "Results: 12 success, 1 failed" in screen
    # Nothing of it with -q, NO_COLOR, TERM=dumb, or through a pipe: plain lines, no escapes.
    for text in (quiet, plain, dumb, piped.stdout):
        assert "dev/s" not in text and "\x1b" not in text
    assert "Results: 12 success, 1 failed" in plain and "[13/13] " in plain


def test_several_jobs_get_a_line_each_while_they_run(tmp_path: Path, run_env: dict[str, str]) -> None:
    devices = [LeanDevice(f"m{i}", device_address(880 + i), delay=0.4) for i in range(6)]
    jobs = [write_job(tmp_path / f"job{n}.json", job_id=f"job-{n}", capture_type=f"t{n}",
                      commands={"command": "show version,show clock", "output_directory": f"t{n}"},
                      execution={"max_workers": 2}) for n in range(2)]  # fmt: skip
    with LeanFleet(devices) as fleet:
        db = build_assets_db(tmp_path / "a.db", [AssetRow(d.name, "cisco_ios", d.address) for d in devices],
                             port=fleet.port)  # fmt: skip
        env = {**lean_env(db, Path(run_env["VAULT"]), tmp_path / "c"), "TERM": "xterm", "COLUMNS": "120"}
        env.pop("NO_COLOR", None)
        args = ["vcollector.run_jobs_concurrent", "--jobs", *map(str, jobs), "-y", "--no-shared-sessions"]
        code, screen = _on_a_terminal(args, env)
    assert code == 0, screen
    assert "all jobs" in screen and "  job-0" in screen and "  job-1" in screen
    assert "12/12" in screen and "Devices: 12 success, 0 failed" in screen
