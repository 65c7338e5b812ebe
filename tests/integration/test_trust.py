"""What a collector must never do: report success while keeping the wrong thing.

Each test drives the real CLI against real SSH servers on loopback: host-key files that
cannot be read, names that sanitise alike, prompt-like lines that pause, per-job
credentials, results files that must not lie, failures that must stay one line.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, VAULT_PASSWORD, CliResult, run_cli
from tests.integration.conftest import lean_env, write_job
from vcollector.credentials.vault import Credential, Vault
from vcollector_sim.assets import AssetRow, build_assets_db
from vcollector_sim.lean_fleet import PASSWORD, USERNAME, LeanDevice, LeanFleet, device_address
from vcollector_sim.transcripts import (
    TRANSCRIPT_PASSWORD,
    TranscriptDevice,
    TranscriptFleet,
    load_simulation,
)

OXIDIZED = REPO / "tests" / "fixtures" / "oxidized"
OTHER_PASSWORD = "other-pass-77"


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    path = tmp_path / "vault.db"
    store = Vault(path)
    store.init(VAULT_PASSWORD)
    unlocked = store.unlock(VAULT_PASSWORD)
    unlocked.add(Credential("lab", USERNAME, PASSWORD, enable_secret="lean-enable"), default=True)
    unlocked.add(Credential("other", USERNAME, OTHER_PASSWORD))
    unlocked.add(Credential("transcript", "admin", TRANSCRIPT_PASSWORD))
    return path


def _fleet(*devices: LeanDevice) -> LeanFleet:
    return LeanFleet(list(devices))


def _db(tmp_path: Path, fleet: LeanFleet | TranscriptFleet, rows: list[AssetRow]) -> Path:
    return build_assets_db(tmp_path / "assets.db", rows, port=fleet.port)


def _run(tool: str, *args: str, env: dict[str, str], timeout: float = 120) -> CliResult:
    return run_cli(f"vcollector.{tool}", *args, env=env, timeout=timeout)


def _config_job(path: Path, **fields: object) -> Path:
    return write_job(path, commands={"command": "enable,show running-config"}, **fields)  # type: ignore[arg-type]


def _one_line_error(result: CliResult, fragment: str) -> None:
    assert result.returncode == 1, result.output
    assert "Traceback" not in result.output, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and fragment in errors[0], result.output


# --- 1. host keys fail closed -------------------------------------------------------


@pytest.mark.parametrize("damage", ["directory", "unreadable"])
def test_an_unreadable_known_hosts_contacts_no_device(vault: Path, tmp_path: Path, damage: str) -> None:
    home = Path(os.environ["VCOLLECTOR_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    known = home / "known_hosts"
    if damage == "directory":
        known.mkdir()
    else:
        known.write_text("# keys\n")
        known.chmod(0)
        if os.access(known, os.R_OK):
            known.chmod(0o600)
            known.unlink()
            known.mkdir()  # root reads anything: a directory is unreadable for everyone
    devices = [LeanDevice(f"hk-{i}", device_address(600 + i)) for i in range(3)]
    with _fleet(*devices) as fleet:
        db = _db(tmp_path, fleet, [AssetRow(d.name, "cisco_ios", d.address) for d in devices])
        job = _config_job(tmp_path / "job.json")
        for tool, args in (("run_job", ["--job", str(job)]), ("run_jobs_concurrent", ["--jobs", str(job)])):
            result = _run(tool, *args, "-y", env=lean_env(db, vault, tmp_path / "c"))
            _one_line_error(result, "cannot read known_hosts")
        assert sum(fleet.stats.connections.values()) == 0
    assert not (tmp_path / "c").exists()


# --- 2. two devices never write one file ---------------------------------------------


def test_names_that_sanitise_alike_do_not_overwrite_each_other(vault: Path, tmp_path: Path) -> None:
    names = ["edge_1", "edge/1", "edge:1"]
    devices = [LeanDevice(name, device_address(610 + i)) for i, name in enumerate(names)]
    with _fleet(*devices) as fleet:
        rows = [AssetRow(d.name, "cisco_ios", d.address, normalized_name=d.name) for d in devices]
        db = _db(tmp_path, fleet, rows)
        job = _config_job(tmp_path / "job.json")
        result = _run("run_job", "--job", str(job), "-y", env=lean_env(db, vault, tmp_path / "c"))
    assert result.returncode == 1, result.output
    assert "Results: 1 success, 2 failed" in result.stdout
    assert result.stdout.count("is also written by edge_1") == 4  # progress and summary lines
    (capture,) = (tmp_path / "c" / "configs").iterdir()
    assert capture.name == "edge_1.txt"
    assert "hostname edge_1\n" in capture.read_text()


def test_a_pattern_without_the_device_is_refused_before_any_session(vault: Path, tmp_path: Path) -> None:
    devices = [LeanDevice(f"p-{i}", device_address(615 + i)) for i in range(2)]
    with _fleet(*devices) as fleet:
        db = _db(tmp_path, fleet, [AssetRow(d.name, "cisco_ios", d.address) for d in devices])
        job = _config_job(tmp_path / "job.json", storage={"filename_pattern": "config-{timestamp}.txt"})
        result = _run("run_job", "--job", str(job), "-y", env=lean_env(db, vault, tmp_path / "c"))
        assert sum(fleet.stats.connections.values()) == 0
    _one_line_error(
        result, "has neither {device_name} nor {device_id}: all 2 devices would write the same file"
    )


# --- 3. a prompt-like line never ends a capture ----------------------------------------


def _expected_config(simulation_file: str, command: str) -> str:
    """What the device printed for ``command``, minus its echo and the next prompt, with LF
    line endings: computed from the recording alone, not with vcollector's code."""
    simulation = load_simulation(OXIDIZED / simulation_file)
    lines = simulation.commands[command].replace("\r\n", "\n").split("\n")
    return "\n".join(lines[1:-1]) + "\n"


@pytest.mark.parametrize(
    ("simulation", "platform", "command"),
    [
        ("ios__C9800-L-F-K9_17.06.05__simulation.yaml", "cisco_xe", "show running-config"),
        ("ios__C9200L-24P-4G_17.09.04a__simulation.yaml", "cisco_xe", "show running-config"),
        ("ios__C9200L-24P-4G_17.09.04a__simulation.yaml", "cisco_xe", "show version"),
        ("ios__asr920_16.8.1b__simulation.yaml", "cisco_ios", "show running-config"),
        ("nxos__C93180YC-FX3J_10.4.5__simulation.yaml", "cisco_nxos", "show running-config"),
        ("nxos__C93180YC-FX3J_10.4.5__simulation.yaml", "cisco_nxos", "show inventory all"),
        ("nxos__N5548_7.3.13__simulation.yaml", "cisco_nxos", "show version"),
    ],
)
def test_a_capture_is_what_the_device_printed(
    vault: Path, tmp_path: Path, simulation: str, platform: str, command: str
) -> None:
    device = TranscriptDevice("real", device_address(625), OXIDIZED / simulation)
    with TranscriptFleet([device]) as fleet:
        db = _db(tmp_path, fleet, [AssetRow("real", platform, device.address)])
        job = write_job(tmp_path / "job.json", commands={"command": command})
        result = _run(
            "run_job",
            "--job",
            str(job),
            "-y",
            "--credential",
            "transcript",
            env=lean_env(db, vault, tmp_path / "c"),
        )
    assert result.returncode == 0, result.output
    expected = _expected_config(simulation, command)
    assert any(line != line.rstrip() for line in expected.splitlines())  # the case worth testing
    assert (tmp_path / "c" / "configs" / "real.txt").read_text() == expected


@pytest.mark.parametrize("behaviour", ["normal", "prompt_in_output", "description_prompt", "banner_prompt"])
def test_prompt_like_lines_and_pauses_never_cut_a_capture(
    vault: Path, tmp_path: Path, behaviour: str
) -> None:
    simulation = "ios__C9800-L-F-K9_17.06.05__simulation.yaml"
    device = TranscriptDevice("wlc", device_address(620), OXIDIZED / simulation, behaviour=behaviour)
    with TranscriptFleet([device]) as fleet:
        db = _db(tmp_path, fleet, [AssetRow("wlc", "cisco_ios", device.address)])
        job = write_job(tmp_path / "job.json", commands={"command": "show running-config"})
        result = _run(
            "run_job",
            "--job",
            str(job),
            "-y",
            "--credential",
            "transcript",
            env=lean_env(db, vault, tmp_path / "c"),
        )
    assert result.returncode == 0, result.output
    text = (tmp_path / "c" / "configs" / "wlc.txt").read_text()
    expected = _expected_config(simulation, "show running-config")
    if behaviour in {"normal", "banner_prompt"}:
        assert text == expected  # the device's bytes: trailing spaces, "! " lines, blank lines
    else:
        assert text.startswith(expected.splitlines()[0]) and text.endswith(expected.splitlines()[-1] + "\n")
        assert len(text) > len(expected)  # nothing cut: the inserted line is there too


def test_a_device_that_drops_typed_ahead_input_still_completes(vault: Path, tmp_path: Path) -> None:
    simulation = "ios__C9800-L-F-K9_17.06.05__simulation.yaml"
    device = TranscriptDevice("wlc", device_address(621), OXIDIZED / simulation, behaviour="drops_typeahead")
    with TranscriptFleet([device]) as fleet:
        db = _db(tmp_path, fleet, [AssetRow("wlc", "cisco_ios", device.address)])
        job = write_job(tmp_path / "job.json", commands={"command": "show running-config"})
        result = _run(
            "run_job",
            "--job",
            str(job),
            "-y",
            "--credential",
            "transcript",
            env=lean_env(db, vault, tmp_path / "c"),
        )
    assert result.returncode == 0, result.output
    expected = _expected_config(simulation, "show running-config")
    assert (tmp_path / "c" / "configs" / "wlc.txt").read_text() == expected


# --- 4. each job's credential set --------------------------------------------------------


def test_each_job_uses_its_own_credential_set(vault: Path, tmp_path: Path) -> None:
    a = LeanDevice("cred-a", device_address(630))
    b = LeanDevice("cred-b", device_address(631), password=OTHER_PASSWORD)
    with _fleet(a, b) as fleet:
        db = _db(tmp_path, fleet, [AssetRow(d.name, "cisco_ios", d.address) for d in (a, b)])
        first = write_job(
            tmp_path / "a.json",
            device_filter={"name_pattern": "cred-a"},
            commands={"command": "show version"},
        )
        second = write_job(
            tmp_path / "b.json",
            device_filter={"name_pattern": "cred-b"},
            commands={"command": "show version"},
            credentials={"credential_set": "other"},
        )
        result = _run(
            "run_jobs_concurrent",
            "--jobs",
            str(first),
            str(second),
            "-y",
            env=lean_env(db, vault, tmp_path / "c"),
        )
        attempts = dict(fleet.stats.auth_attempts)
    assert result.returncode == 0, result.output
    assert attempts == {"cred-a": 1, "cred-b": 1}  # nobody was tried with the wrong password
    assert "Using credentials: other (user: admin) for 1 device" in result.stdout


# --- 5. the results file always tells the truth ---------------------------------------


def test_a_run_that_fails_early_replaces_the_last_results(vault: Path, tmp_path: Path) -> None:
    device = LeanDevice("res-1", device_address(640))
    results = tmp_path / "last-run.json"
    with _fleet(device) as fleet:
        db = _db(tmp_path, fleet, [AssetRow(device.name, "cisco_ios", device.address)])
        job = _config_job(tmp_path / "job.json")
        env = lean_env(db, vault, tmp_path / "c")
        good = _run("run_job", "--job", str(job), "-y", "--json", str(results), env=env)
        assert good.returncode == 0, good.output
        assert json.loads(results.read_text())["status"] == "success"
        for broken, fragment in (
            ({**env, "VELOCITYCMDB_VAULT_PASS": "wrong-password"}, "invalid vault password"),
            ({**env, "VCOLLECTOR_ASSETS_DB": str(tmp_path / "missing.db")}, "assets.db not found"),
            ({**env, "VCOLLECTOR_VAULT": str(tmp_path / "missing-vault.db")}, "vault not found"),
        ):
            for tool, args in (
                ("run_job", ["--job", str(job)]),
                ("run_jobs_concurrent", ["--jobs", str(job)]),
            ):
                result = _run(tool, *args, "-y", "--json", str(results), env=broken)
                _one_line_error(result, fragment)
                document = json.loads(results.read_text())
                assert document["status"] == "failed" and fragment in document["error"], document
                assert document["tool"] == tool


def test_an_unwritable_results_path_fails_before_any_session(vault: Path, tmp_path: Path) -> None:
    device = LeanDevice("res-2", device_address(641))
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with _fleet(device) as fleet:
        db = _db(tmp_path, fleet, [AssetRow(device.name, "cisco_ios", device.address)])
        job = _config_job(tmp_path / "job.json")
        for target in (blocker / "results.json", tmp_path):
            result = _run(
                "run_job",
                "--job",
                str(job),
                "-y",
                "--json",
                str(target),
                env=lean_env(db, vault, tmp_path / "c"),
            )
            _one_line_error(result, "cannot write results file")
        assert sum(fleet.stats.connections.values()) == 0


def test_a_known_hosts_that_cannot_be_saved_fails_the_run_after_saving_the_captures(
    vault: Path, tmp_path: Path
) -> None:
    home = Path(os.environ["VCOLLECTOR_HOME"])
    (home / ".known_hosts.lock").mkdir(parents=True)  # the lock path is a directory
    device = LeanDevice("kh-1", device_address(642))
    results = tmp_path / "r.json"
    with _fleet(device) as fleet:
        db = _db(tmp_path, fleet, [AssetRow(device.name, "cisco_ios", device.address)])
        job = _config_job(tmp_path / "job.json")
        result = _run(
            "run_job",
            "--job",
            str(job),
            "-y",
            "--json",
            str(results),
            env=lean_env(db, vault, tmp_path / "c"),
        )
    _one_line_error(result, "cannot lock known_hosts")
    assert "Results: 1 success, 0 failed" in result.stdout
    assert (tmp_path / "c" / "configs" / "kh-1.txt").is_file()
    document = json.loads(results.read_text())
    assert document["status"] == "failed" and "known_hosts" in document["error"]
    assert document["totals"]["captures_saved"] == 1


# --- 6. one line, never a traceback ---------------------------------------------------


def test_a_key_that_is_not_a_key_is_refused_when_added(tmp_path: Path) -> None:
    path = tmp_path / "vault.db"
    env = {"VCOLLECTOR_VAULT": str(path), "VELOCITYCMDB_VAULT_PASS": VAULT_PASSWORD}
    assert run_cli("vcollector.cli", "vault", "init", env=env).returncode == 0
    bad = tmp_path / "notakey"
    bad.write_text("this is not a private key\n")
    result = run_cli("vcollector.cli", "vault", "add", "k", "-u", "x", "-k", str(bad), env=env)
    _one_line_error(result, "SSH key cannot be loaded")
    assert "k " not in run_cli("vcollector.cli", "vault", "list", env=env).stdout


def test_a_device_type_port_that_is_not_a_port_fails_only_that_device(vault: Path, tmp_path: Path) -> None:
    good, bad = LeanDevice("port-ok", device_address(650)), LeanDevice("port-bad", device_address(651))
    with _fleet(good, bad) as fleet:
        db = _db(tmp_path, fleet, [AssetRow(d.name, "cisco_ios", d.address) for d in (good, bad)])
        connection = sqlite3.connect(db)
        with connection:
            connection.execute(
                "INSERT INTO device_types (name, netmiko_driver, default_port) VALUES ('x', 'cisco_ios', 'ssh')"
            )
            connection.execute(
                "UPDATE devices SET device_type_id = last_insert_rowid() WHERE name = 'port-bad'"
            )
        connection.close()
        job = _config_job(tmp_path / "job.json")
        result = _run("run_job", "--job", str(job), "-y", env=lean_env(db, vault, tmp_path / "c"))
    assert result.returncode == 1 and "Traceback" not in result.output
    assert "port-bad (127.0.2.153): invalid port 'ssh' in device_types.default_port" in result.stdout
    assert "Results: 1 success, 1 failed" in result.stdout


def test_a_latin1_vault_password_in_the_environment_works(tmp_path: Path) -> None:
    device = LeanDevice("latin-1", device_address(652))
    password = b"caf\xe9-pass-1".decode("utf-8", "surrogateescape")  # as Linux hands it over
    path = tmp_path / "vault.db"
    env = {
        "VCOLLECTOR_VAULT": str(path),
        "VELOCITYCMDB_VAULT_PASS": password,
        "VCOLLECTOR_CREDENTIAL_PASSWORD": PASSWORD,
    }
    assert run_cli("vcollector.cli", "vault", "init", env=env).returncode == 0
    assert (
        run_cli("vcollector.cli", "vault", "add", "lab", "-u", USERNAME, "--default", env=env).returncode == 0
    )
    with _fleet(device) as fleet:
        db = _db(tmp_path, fleet, [AssetRow(device.name, "cisco_ios", device.address)])
        job = write_job(tmp_path / "job.json", commands={"command": "show version"})
        result = _run("run_job", "--job", str(job), "-y", env={**lean_env(db, path, tmp_path / "c"), **env})
    assert result.returncode == 0, result.output


def test_vault_init_in_a_directory_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    env = {"VCOLLECTOR_VAULT": str(blocker / "vault.db"), "VELOCITYCMDB_VAULT_PASS": VAULT_PASSWORD}
    _one_line_error(run_cli("vcollector.cli", "vault", "init", env=env), "cannot create vault")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_starting_is_one_line_exit_130_and_a_results_file(
    vault: Path, tmp_path: Path, sig: signal.Signals
) -> None:
    results = tmp_path / "r.json"
    results.write_text('{"status": "success"}')  # an old run's file must not survive
    job = _config_job(tmp_path / "job.json")
    db = build_assets_db(tmp_path / "a.db", [AssetRow("x", "cisco_ios", device_address(653))])
    env = {**os.environ, **lean_env(db, vault, tmp_path / "c")}
    process = subprocess.Popen(
        [sys.executable, "-m", "vcollector.run_job", "--job", str(job), "-y", "--json", str(results)],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.25)  # still loading modules
    process.send_signal(sig)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stdout + stderr
    assert "Traceback" not in stderr, stderr
    assert json.loads(results.read_text())["status"] == "failed"


# --- 7. the run's own secrets are never printed or written ----------------------------


def test_a_password_the_device_echoes_is_removed_everywhere(vault: Path, tmp_path: Path) -> None:
    device = LeanDevice("leaky", device_address(660), behaviour="leaky")
    with _fleet(device) as fleet:
        db = _db(tmp_path, fleet, [AssetRow(device.name, "cisco_ios", device.address)])
        env = lean_env(db, vault, tmp_path / "c")
        config = _config_job(tmp_path / "config.json")
        saved = _run("run_job", "--job", str(config), "-y", env=env)
        leak = write_job(tmp_path / "leak.json", commands={"command": "show leak"})
        refused = _run("run_job", "--job", str(leak), "-y", "--json", str(tmp_path / "r.json"), env=env)
    assert saved.returncode == 0, saved.output
    text = (tmp_path / "c" / "configs" / "leaky.txt").read_text()
    assert PASSWORD not in text and "password 0 <removed>" in text
    assert refused.returncode == 1
    assert "<removed>" in refused.stdout
    for written in (refused.output, (tmp_path / "r.json").read_text()):
        assert PASSWORD not in written


# --- 8. output is capped ------------------------------------------------------------


@pytest.mark.parametrize("where", ["job", "command line"])
def test_a_device_that_never_stops_sending_is_cut_off_and_keeps_the_old_capture(
    vault: Path, tmp_path: Path, where: str
) -> None:
    device = LeanDevice("flood", device_address(670), behaviour="huge", huge_bytes=20 * 1024 * 1024)
    previous = tmp_path / "c" / "configs" / "flood.txt"
    previous.parent.mkdir(parents=True)
    previous.write_text("previous good capture\n")
    with _fleet(device) as fleet:
        db = _db(tmp_path, fleet, [AssetRow(device.name, "cisco_ios", device.address)])
        if where == "job":
            job, extra = _config_job(tmp_path / "job.json", execution={"max_output_mb": 1, "timeout": 60}), []
        else:
            job, extra = _config_job(tmp_path / "job.json"), ["--max-output-mb", "1"]
        result = _run("run_job", "--job", str(job), "-y", *extra, env=lean_env(db, vault, tmp_path / "c"))
    assert result.returncode == 1, result.output
    assert "output of 'show running-config' exceeded 1 MB; nothing saved" in result.stdout
    assert previous.read_text() == "previous good capture\n"
    assert [p.name for p in previous.parent.iterdir()] == ["flood.txt"]


# --- 9. nothing from a device or inventory drives the terminal -------------------------


def test_escape_codes_in_names_are_shown_not_sent(vault: Path, tmp_path: Path) -> None:
    device = LeanDevice("esc", device_address(680))
    with _fleet(device) as fleet:
        name = "\x1b]0;owned\x07\x1b[31mred\x1b[0m"
        db = _db(tmp_path, fleet, [AssetRow(name, "cisco_ios", device.address, normalized_name="esc")])
        job = _config_job(tmp_path / "job.json")
        result = _run("run_job", "--job", str(job), "-y", env=lean_env(db, vault, tmp_path / "c"))
    assert result.returncode == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "\\x1b[31mred" in result.stdout


# --- 11, 15, 17: inventories, usage, IOS-XE -------------------------------------------


def test_a_row_that_is_not_utf8_does_not_fail_the_job(vault: Path, tmp_path: Path) -> None:
    device = LeanDevice("utf", device_address(690))
    with _fleet(device) as fleet:
        db = _db(tmp_path, fleet, [AssetRow(device.name, "cisco_ios", device.address)])
        connection = sqlite3.connect(db)
        with connection:
            connection.execute("UPDATE devices SET model = CAST(X'43393330305fe9ff' AS TEXT)")
        connection.close()
        job = _config_job(tmp_path / "job.json")
        result = _run("run_job", "--job", str(job), "-y", env=lean_env(db, vault, tmp_path / "c"))
    assert result.returncode == 0, result.output
    assert "C9300_\ufffd\ufffd" in result.stdout


@contextlib.contextmanager
def _read_only(folder: Path) -> Iterator[None]:
    """``folder`` read-only even for root (a read-only bind mount), else by its mode."""
    if os.geteuid() != 0:
        folder.chmod(0o500)
        try:
            yield
        finally:
            folder.chmod(0o700)
        return
    bound = subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True, check=False)
    if bound.returncode != 0:
        pytest.skip("cannot make a directory read-only for root here (no bind mounts)")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)], check=True, capture_output=True)
        yield
    finally:
        subprocess.run(["umount", str(folder)], check=False, capture_output=True)


def test_a_wal_assets_db_in_a_read_only_directory(vault: Path, tmp_path: Path) -> None:
    folder = tmp_path / "cmdb"
    folder.mkdir()
    db = build_assets_db(folder / "assets.db", [AssetRow("wal-1", "cisco_ios", device_address(691))])
    connection = sqlite3.connect(db)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.close()
    assert not (folder / "assets.db-wal").exists()  # VelocityCMDB is not running
    job = _config_job(tmp_path / "j.json")
    with _read_only(folder):
        result = _run("run_job", "--job", str(job), "--dry-run", env=lean_env(db, vault, tmp_path))
    assert result.returncode == 0, result.output
    assert "wal-1" in result.stdout


def test_run_jobs_without_jobs_is_a_usage_error(tmp_path: Path) -> None:
    result = _run("run_jobs_concurrent", "-y", env={})
    assert result.returncode == 2, result.output
    assert "Traceback" not in result.output


def test_a_closed_output_does_not_stop_the_run(vault: Path, tmp_path: Path) -> None:
    devices = [LeanDevice(f"pipe-{i}", device_address(700 + i)) for i in range(6)]
    with _fleet(*devices) as fleet:
        db = _db(tmp_path, fleet, [AssetRow(d.name, "cisco_ios", d.address) for d in devices])
        job = _config_job(tmp_path / "job.json")
        env = {**os.environ, **lean_env(db, vault, tmp_path / "c")}
        process = subprocess.Popen(
            [sys.executable, "-m", "vcollector.run_job", "--job", str(job), "-y"],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert process.stdout is not None
        for _ in range(3):
            process.stdout.readline()  # like `| head -n 3`
        process.stdout.close()
        _stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert b"Traceback" not in stderr
    assert sorted(p.name for p in (tmp_path / "c" / "configs").iterdir()) == [
        f"pipe-{i}.txt" for i in range(6)
    ]


def test_ios_xe_devices_are_collected_by_the_sample_job_and_dry_run_explains_the_platform_filter(
    vault: Path, tmp_path: Path
) -> None:
    ios, xe, nx = (LeanDevice(n, device_address(710 + i)) for i, n in enumerate(["ios-1", "xe-1", "nx-1"]))
    with _fleet(ios, xe, nx) as fleet:
        rows = [
            AssetRow("ios-1", "cisco_ios", ios.address),
            AssetRow("xe-1", "cisco_xe", xe.address, driver="cisco_ios_xe_ssh"),
            AssetRow("nx-1", "cisco_nxos", nx.address),
        ]
        db = _db(tmp_path, fleet, rows)
        sample = REPO / "jobs_v2" / "job_329_cisco-ios_configs.json"
        env = lean_env(db, vault, tmp_path / "c")
        dry = _run("run_job", "--job", str(sample), "--dry-run", env=env)
        many = _run("run_jobs_concurrent", "--jobs", str(sample), "--dry-run", env=env)
    assert "Platform filter: cisco_ios, cisco_xe" in dry.stdout
    assert "ios-1" in dry.stdout and "xe-1" in dry.stdout and "nx-1 " not in dry.stdout
    assert "Platform filter excluded 1 device the other filters matched (cisco_nxos: 1)" in dry.stdout
    assert "platform filter excluded 1 device" in many.stdout


# --- 18. VelocityCMDB's own v1.0 job files -------------------------------------------


V1_JOB = {
    "version": "1.0",
    "timestamp": "2025-10-16T06:37:32",
    "session_file": "sessions.yaml",
    "vendor": {"selected": "Juniper", "auto_paging": True},
    "credentials": {"username": "netops", "password_provided": False},
    "filters": {"folder": "", "name": "", "vendor": "juniper", "device_type": ""},
    "commands": {
        "template": "Juniper Command Template",
        "command_text": "set cli screen-length 0,show configuration | display set",
        "output_directory": "configs",
    },
    "execution": {"batch_script": "batch_spn.py (Multi-process)", "max_workers": 12},
}


def test_a_v1_job_is_named_and_converted(tmp_path: Path) -> None:
    source = tmp_path / "job_331_juniper_configs.json"
    source.write_text(json.dumps(V1_JOB))
    refused = _run("run_job", "--job", str(source), "--dry-run", env={})
    _one_line_error(refused, "is a VelocityCMDB v1.0 job file; convert it with: vcollector jobs convert")
    out = tmp_path / "v2"
    converted = run_cli("vcollector.cli", "jobs", "convert", str(source), "--output-dir", str(out))
    assert converted.returncode == 0, converted.output
    job = json.loads((out / source.name).read_text())
    assert job["job_id"] == 331 and job["capture_type"] == "configs"
    assert job["commands"] == {
        "paging_disable": "set cli screen-length 0",
        "command": "show configuration | display set",
        "output_directory": "configs",
    }
    assert job["device_filter"]["platform"] == "juniper_junos"
    assert job["legacy_v1"]["original_command_text"] == V1_JOB["commands"]["command_text"]  # type: ignore[index]
    again = run_cli("vcollector.cli", "jobs", "convert", str(source), "--output-dir", str(out))
    _one_line_error(again, "exists already")
