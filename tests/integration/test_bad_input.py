"""Bad input to both tools: one clear line on stderr, exit 1, no traceback, nothing lost."""

from __future__ import annotations

import json
import resource
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, VAULT_PASSWORD, CliResult, run_cli
from tests.integration.conftest import Lab, config_job

TOOLS = ("run_job", "run_jobs_concurrent")


def run_tool(tool: str, job: Path | str, env: dict[str, str], *extra: str) -> CliResult:
    flag = "--job" if tool == "run_job" else "--jobs"
    return run_cli(f"vcollector.{tool}", flag, str(job), "-y", *extra, env=env)


def assert_one_line_error(result: CliResult, fragment: str) -> None:
    assert result.returncode == 1, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    assert fragment in errors[0], errors[0]


@pytest.fixture
def env(lab: Lab, tmp_path: Path) -> dict[str, str]:
    return lab.env(lab.assets(tmp_path / "assets.db"), tmp_path / "captures")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{oops", "not valid JSON"),
        ("", "file is empty"),
        (json.dumps({"job_id": 1, "commands": {}}), "commands.command: is required"),
        (
            json.dumps({"job_id": 1, "commands": {"command": "x"}, "execution": {"max_workers": 0}}),
            "execution.max_workers: must be ≥ 1",
        ),
        (
            json.dumps({"job_id": 1, "commands": {"command": "x"}, "execution": {"timeout": -1}}),
            "execution.timeout: must be > 0",
        ),
        (
            json.dumps(
                {"job_id": 1, "commands": {"command": "x"}, "storage": {"filename_pattern": "{host}.txt"}}
            ),
            "unknown variable {host}",
        ),
        (
            json.dumps({"job_id": 1, "commands": {"command": "x", "output_directory": "../../etc"}}),
            "would leave the capture directory",
        ),
        (
            json.dumps({"job_id": 1, "commands": {"command": "x", "output_directory": "/tmp/abs"}}),
            "would leave the capture directory",
        ),
    ],
)
def test_bad_job_file_is_one_line_naming_file_and_field(
    env: dict[str, str], tmp_path: Path, content: str, fragment: str
) -> None:
    job = tmp_path / "bad.json"
    job.write_text(content)
    single = run_tool("run_job", job, env)
    assert_one_line_error(single, fragment)
    assert str(job) in single.stderr
    many = run_tool("run_jobs_concurrent", job, env)
    assert many.returncode == 1
    assert "Traceback" not in many.output
    assert fragment in many.stdout + many.stderr
    assert not (tmp_path / "captures").exists()


@pytest.mark.parametrize("tool", TOOLS)
def test_missing_job_file(env: dict[str, str], tmp_path: Path, tool: str) -> None:
    result = run_tool(tool, tmp_path / "nope.json", env)
    assert result.returncode == 1
    assert "file not found" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize(
    ("problem", "fragment"),
    [
        ("missing", "assets.db not found"),
        ("garbage", "not a readable SQLite database"),
        ("no_tables", "not a VelocityCMDB assets.db"),
        ("no_column", "not a VelocityCMDB assets.db"),
    ],
)
def test_broken_assets_db(lab: Lab, tmp_path: Path, tool: str, problem: str, fragment: str) -> None:
    db = tmp_path / "assets.db"
    if problem == "garbage":
        db.write_bytes(b"\x00garbage" * 500)
    elif problem == "no_tables":
        sqlite3.connect(db).execute("CREATE TABLE other (x)").connection.commit()
    elif problem == "no_column":
        lab.assets(db)
        connection = sqlite3.connect(db)
        connection.execute("ALTER TABLE devices DROP COLUMN management_ip")
        connection.commit()
        connection.close()
    job = config_job(tmp_path / "job.json", "cisco_ios")
    assert_one_line_error(run_tool(tool, job, lab.env(db, tmp_path / "captures")), fragment)
    if problem == "missing":
        assert not db.exists()


def test_assets_db_locked_by_a_writer(lab: Lab, tmp_path: Path) -> None:
    db = lab.assets(tmp_path / "assets.db")
    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")
    try:
        job = config_job(tmp_path / "job.json", "cisco_ios")
        result = run_tool("run_job", job, lab.env(db, tmp_path / "captures"), "--dry-run")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert_one_line_error(result, "assets.db is locked by another program")


def test_duplicate_and_unsafe_device_names(lab: Lab, tmp_path: Path) -> None:
    db = tmp_path / "assets.db"
    lab.assets(db, names=["r1", "r2"])
    connection = sqlite3.connect(db)
    # A hand-edited inventory: two rows claim r1's normalized name, one name holds a slash.
    connection.execute("CREATE TABLE devices2 AS SELECT * FROM devices")
    connection.execute("DROP TABLE devices")
    connection.execute("ALTER TABLE devices2 RENAME TO devices")
    connection.execute(
        "INSERT INTO devices (id, name, normalized_name, vendor_id, device_type_id, management_ip, site_code, role_id)"
        " SELECT 50, 'R1-copy', 'r1', vendor_id, device_type_id, management_ip, site_code, role_id FROM devices WHERE name='r2'"
    )
    connection.execute("UPDATE devices SET normalized_name = '../r2/evil' WHERE name = 'r2'")
    connection.commit()
    connection.close()
    captures = tmp_path / "captures"
    job = config_job(tmp_path / "job.json", "cisco_ios")
    result = run_tool("run_job", job, lab.env(db, captures))
    assert result.returncode == 1
    assert "R1-copy (127.0.0.3): capture file r1.txt is also written by r1 (device 1)" in result.stdout
    files = sorted(p.name for p in (captures / "configs").iterdir())
    assert files == [".._r2_evil.txt", "r1.txt"]
    assert not (tmp_path / "r2").exists()


@pytest.mark.parametrize("tool", TOOLS)
def test_vault_problems(lab: Lab, tmp_path: Path, tool: str) -> None:
    job = config_job(tmp_path / "job.json", "cisco_nxos")
    db = lab.assets(tmp_path / "assets.db")
    base = lab.env(db, tmp_path / "captures")

    missing = run_tool(tool, job, {**base, "VCOLLECTOR_VAULT": str(tmp_path / "none.db")})
    assert_one_line_error(missing, "vault not found")

    wrong = run_tool(tool, job, {**base, "VELOCITYCMDB_VAULT_PASS": "not it at all"})
    assert_one_line_error(wrong, "invalid vault password")

    unknown = run_tool(tool, job, base, "--credential", "ghost")
    assert_one_line_error(unknown, "credential 'ghost' not found. Available: lab, wrong")

    corrupted = tmp_path / "corrupted.db"
    corrupted.write_bytes(lab.vault.read_bytes())
    connection = sqlite3.connect(corrupted)
    connection.execute("UPDATE credentials SET password_encrypted = 'gAAAAAB-garbage' WHERE name = 'lab'")
    connection.commit()
    connection.close()
    damaged = run_tool(tool, job, {**base, "VCOLLECTOR_VAULT": str(corrupted)})
    assert_one_line_error(damaged, "credential 'lab' is damaged")

    no_default = tmp_path / "nodefault.db"
    no_default.write_bytes(lab.vault.read_bytes())
    connection = sqlite3.connect(no_default)
    connection.execute("UPDATE credentials SET is_default = 0")
    connection.commit()
    connection.close()
    result = run_tool(tool, job, {**base, "VCOLLECTOR_VAULT": str(no_default)})
    assert_one_line_error(
        result, "no default credential in the vault; use --credential NAME. Available: lab, wrong"
    )
    assert not (tmp_path / "captures").exists()


@pytest.mark.parametrize("tool", TOOLS)
def test_unwritable_capture_base_fails_devices_and_keeps_other_captures(
    lab: Lab, tmp_path: Path, tool: str
) -> None:
    captures = tmp_path / "captures"
    (captures / "version").mkdir(parents=True)
    earlier = captures / "version" / "r1.txt"
    earlier.write_text("earlier\n")
    (captures / "configs").write_text("a file where the directory should be")
    job = config_job(tmp_path / "job.json", "cisco_ios")
    result = run_tool(tool, job, lab.env(lab.assets(tmp_path / "a.db"), captures))
    assert result.returncode == 1
    assert "Traceback" not in result.output
    assert "cannot write capture" in result.stdout
    assert earlier.read_text() == "earlier\n"


def _small_files() -> None:
    # A write that fails like a full disk: files may not grow past 2,000 bytes.
    resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))


def test_disk_full_fails_the_device_and_keeps_its_previous_capture(lab: Lab, tmp_path: Path) -> None:
    captures = tmp_path / "captures"
    (captures / "configs").mkdir(parents=True)
    previous = captures / "configs" / "r1.txt"
    previous.write_text("previous\n")
    job = config_job(tmp_path / "job.json", "cisco_ios")
    db = lab.assets(tmp_path / "a.db", names=["r1", "nx1"])
    nx_job = config_job(tmp_path / "nx.json", "cisco_nxos")
    completed = subprocess.run(
        [sys.executable, "-m", "vcollector.run_jobs_concurrent", "--jobs", str(job), str(nx_job), "-y"],
        env={**__import__("os").environ, **lab.env(db, captures)},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_small_files,
    )
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stdout + completed.stderr
    assert "r1" in completed.stdout and "File too large" in completed.stdout
    assert previous.read_text() == "previous\n"
    assert (captures / "configs" / "nx1.txt").exists()  # a small capture still fits
    assert sorted(p.name for p in (captures / "configs").iterdir()) == ["nx1.txt", "r1.txt"]


def test_vault_pass_on_the_command_line_warns(lab: Lab, tmp_path: Path, env: dict[str, str]) -> None:
    job = config_job(tmp_path / "job.json", "cisco_nxos")
    env = dict(env)
    env.pop("VELOCITYCMDB_VAULT_PASS")
    result = run_tool("run_job", job, env, "--vault-pass", VAULT_PASSWORD)
    assert result.returncode == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 1
    assert "visible to other users" in warnings[0] and "VELOCITYCMDB_VAULT_PASS" in warnings[0]
    assert VAULT_PASSWORD not in result.output
