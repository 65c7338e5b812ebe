"""Reaching every device: credential chains counted at the devices, jump hosts counted at
the bastion, and config.toml."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import VAULT_PASSWORD, CliResult, run_cli
from tests.integration.conftest import lean_env, write_job
from vcollector.credentials.vault import Credential, Vault
from vcollector_sim.assets import AssetRow, build_assets_db
from vcollector_sim.bastion import JUMP_PASSWORD, JUMP_USER, Bastion
from vcollector_sim.lean_fleet import USERNAME, LeanDevice, LeanFleet, device_address

TACACS, LOCAL = "tacacs-pw-1", "local-pw-2"


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    store = Vault(tmp_path / "vault.db")
    store.init(VAULT_PASSWORD)
    unlocked = store.unlock(VAULT_PASSWORD)
    unlocked.add(Credential("tacacs", USERNAME, TACACS), default=True)
    unlocked.add(Credential("local", USERNAME, LOCAL))
    unlocked.add(Credential("bastion", JUMP_USER, JUMP_PASSWORD))
    unlocked.add(Credential("bad-bastion", JUMP_USER, "wrong"))
    return store.path


def _home() -> Path:
    home = Path(os.environ["VCOLLECTOR_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    return home


def _run(*args: str, env: dict[str, str]) -> CliResult:
    return run_cli("vcollector.run_job", *args, env=env)


def _job(tmp_path: Path, **fields: object) -> Path:
    return write_job(tmp_path / "job.json", commands={"command": "show version"}, **fields)  # type: ignore[arg-type]


def _devices(results: Path) -> dict[str, dict[str, object]]:
    return {d["name"]: d for d in json.loads(results.read_text())["jobs"][0]["devices"]}


def test_the_next_set_only_after_an_authentication_failure_then_the_one_that_worked_first(
    vault: Path, tmp_path: Path
) -> None:
    one = LeanDevice("c-tacacs", device_address(900), password=TACACS)
    two = LeanDevice("c-local", device_address(901), password=LOCAL)
    none = LeanDevice("c-none", device_address(902), password="neither")
    results = tmp_path / "r.json"
    with LeanFleet([one, two, none]) as fleet:
        rows = [AssetRow(d.name, "cisco_ios", d.address) for d in (one, two, none)]
        rows.append(AssetRow("c-refused", "cisco_ios", device_address(903)))  # nothing listens there
        db = build_assets_db(tmp_path / "a.db", rows, port=fleet.port)
        env = lean_env(db, vault, tmp_path / "c")
        first = _run(
            "--job", str(_job(tmp_path)), "-y", "-c", "tacacs,local", "--json", str(results), env=env
        )
        attempts = dict(fleet.stats.auth_attempts)
        fleet.stats.reset()
        again = _run(
            "--job", str(_job(tmp_path)), "-y", "-c", "tacacs", "-c", "local", "--json", str(results), env=env
        )
        second = dict(fleet.stats.auth_attempts)
    assert first.returncode == 1, first.output
    assert "Using credentials: tacacs (user: admin), then local (user: admin)" in first.stdout
    assert attempts == {"c-tacacs": 1, "c-local": 2, "c-none": 2}
    devices = _devices(results)
    assert (devices["c-tacacs"]["credential"], devices["c-local"]["credential"]) == ("tacacs", "local")
    assert (
        "c-none (127.0.3.154): authentication failed with every credential set tried (tacacs, local)"
        in again.stdout
    )
    assert "c-refused (127.0.3.155): connection refused" in again.stdout  # never a next set for that
    assert devices["c-refused"]["credentials_tried"] == ["tacacs"]
    # The second run starts with what worked: one authentication per device that logs in.
    assert second == {"c-tacacs": 1, "c-local": 1, "c-none": 2}
    memory = (_home() / "credential-memory.json").read_text()
    assert TACACS not in memory and LOCAL not in memory and '"local"' in memory


def test_attempts_are_bounded(vault: Path, tmp_path: Path) -> None:
    device = LeanDevice("b-1", device_address(905), password=LOCAL)
    with LeanFleet([device]) as fleet:
        db = build_assets_db(
            tmp_path / "a.db", [AssetRow(device.name, "cisco_ios", device.address)], port=fleet.port
        )
        result = _run(
            "--job",
            str(_job(tmp_path)),
            "-y",
            "-c",
            "tacacs,local",
            "--max-auth-attempts",
            "1",
            env=lean_env(db, vault, tmp_path / "c"),
        )
        attempts = dict(fleet.stats.auth_attempts)
    assert result.returncode == 1
    assert attempts == {"b-1": 1}
    assert (
        "authentication failed with every credential set tried (tacacs); 1 more not tried (--max-auth-attempts 1)"
        in result.stdout
    )


def test_jobs_and_config_rules_name_the_chains(vault: Path, tmp_path: Path) -> None:
    iad = LeanDevice("r-iad", device_address(910), password=LOCAL)
    fra = LeanDevice("r-fra", device_address(911), password=TACACS)
    (_home() / "config.toml").write_text(
        '[[credential_rules]]\nsite = "IAD2"\ncredentials = ["local"]\n\n'
        '[sites.FRA1]\ncredentials = "tacacs"\n'
    )
    with LeanFleet([iad, fra]) as fleet:
        rows = [
            AssetRow("r-iad", "cisco_ios", iad.address, site="IAD2"),
            AssetRow("r-fra", "cisco_ios", fra.address, site="FRA1"),
        ]
        db = build_assets_db(tmp_path / "a.db", rows, port=fleet.port)
        env = lean_env(db, vault, tmp_path / "c")
        ruled = _run("--job", str(_job(tmp_path)), "-y", env=env)
        attempts = dict(fleet.stats.auth_attempts)
        fleet.stats.reset()
        listed = _run(
            "--job", str(_job(tmp_path, credentials={"credential_set": ["local", "tacacs"]})), "-y", env=env
        )
        job_attempts = dict(fleet.stats.auth_attempts)
    assert ruled.returncode == 0, ruled.output
    assert attempts == {"r-iad": 1, "r-fra": 1}  # each device straight to its rule's set
    assert "Using credentials: local (user: admin) for 1 device" in ruled.stdout
    assert listed.returncode == 0, listed.output
    assert job_attempts == {"r-iad": 1, "r-fra": 1}  # the job's list, the worked set remembered first


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("[defaults]\nmax_auth_attempts = 0\n", "defaults.max_auth_attempts: must be ≥ 1"),
        ("[defaults]\ncolour = 'red'\n", "defaults.colour: unknown key"),
        ("[[credential_rules]]\nsite = 'IAD2'\n", "credential_rules.0.credentials: is required"),
        ("[sites.FRA1]\njump_host = 'a b c'\n", "sites.FRA1.jump_host: 'a b c' is not [USER@]HOST[:PORT]"),
        ("not toml ===", "not valid TOML"),
    ],
)
def test_a_bad_config_file_is_one_line_naming_the_key(
    vault: Path, tmp_path: Path, content: str, fragment: str
) -> None:
    (_home() / "config.toml").write_text(content)
    db = build_assets_db(tmp_path / "a.db", [AssetRow("x", "cisco_ios", device_address(915), site="FRA1")])
    result = _run("--job", str(_job(tmp_path)), "-y", env=lean_env(db, vault, tmp_path / "c"))
    assert result.returncode == 1 and "Traceback" not in result.output, result.output
    assert fragment in result.stderr and result.stderr.count("\n") == 1, result.stderr


def test_devices_behind_a_bastion_share_one_login(vault: Path, tmp_path: Path) -> None:
    devices = [LeanDevice(f"j-{i}", device_address(920 + i), password=TACACS) for i in range(6)]
    results = tmp_path / "r.json"
    with LeanFleet(devices) as fleet, Bastion() as bastion:
        db = build_assets_db(
            tmp_path / "a.db", [AssetRow(d.name, "cisco_ios", d.address) for d in devices], port=fleet.port
        )
        env = lean_env(db, vault, tmp_path / "c")
        jump = f"127.0.0.1:{bastion.port}"
        args = ["--job", str(_job(tmp_path)), "-y", "--jump-host", jump, "--jump-credential", "bastion"]
        result = _run(*args, "--max-sessions-per-jump-host", "2", "--json", str(results), env=env)
        stats = bastion.stats
        assert result.returncode == 0, result.output
        assert f"Using jump host 127.0.0.1:{bastion.port} (user: jump) for 6 devices" in result.stdout
        assert stats.logins[JUMP_USER] == 1  # one bastion login for the whole run
        assert stats.channels[JUMP_USER] == 6
        assert stats.peak_channels[JUMP_USER] <= 2
        known = (_home() / "known_hosts").read_text()
        assert f"[127.0.0.1]:{bastion.port}" in known  # the bastion's key, trusted on first use
        again = _run(*args, "--strict-host-keys", env=env)
        assert again.returncode == 0, again.output


def test_a_bastion_that_refuses_fails_every_device_behind_it_with_one_login(
    vault: Path, tmp_path: Path
) -> None:
    devices = [LeanDevice(f"k-{i}", device_address(930 + i), password=TACACS) for i in range(3)]
    with LeanFleet(devices) as fleet, Bastion() as bastion, Bastion(allow_forwarding=False) as closed:
        db = build_assets_db(
            tmp_path / "a.db", [AssetRow(d.name, "cisco_ios", d.address) for d in devices], port=fleet.port
        )
        env = lean_env(db, vault, tmp_path / "c")
        bad = _run(
            "--job",
            str(_job(tmp_path)),
            "-y",
            "--jump-host",
            f"127.0.0.1:{bastion.port}",
            "--jump-credential",
            "bad-bastion",
            env=env,
        )
        assert bastion.stats.auth_attempts[JUMP_USER] == 1  # not once per device: no lockout
        refused = _run(
            "--job",
            str(_job(tmp_path)),
            "-y",
            "--jump-host",
            f"jump@127.0.0.1:{closed.port}",
            "--jump-credential",
            "bastion",
            env=env,
        )
        assert sum(fleet.stats.connections.values()) == 0
    assert bad.returncode == 1
    assert bad.stdout.count("jump host 127.0.0.1: authentication failed") == 6  # 3 progress + 3 summary
    assert refused.returncode == 1
    address = devices[0].address
    assert (
        f"jump host 127.0.0.1: cannot reach {address}:{fleet.port} from there (administratively prohibited)"
        in refused.stdout
    )


def test_sites_reach_their_own_bastion_or_go_direct(vault: Path, tmp_path: Path) -> None:
    near = LeanDevice("s-iad", device_address(940), password=TACACS)
    far = LeanDevice("s-fra", device_address(941), password=TACACS)
    with LeanFleet([near, far]) as fleet, Bastion() as bastion:
        (_home() / "config.toml").write_text(
            f'[sites.FRA1]\njump_host = "127.0.0.1:{bastion.port}"\njump_credential = "bastion"\n\n'
            '[sites.IAD2]\njump_host = "none"\n'
        )
        rows = [
            AssetRow("s-iad", "cisco_ios", near.address, site="IAD2"),
            AssetRow("s-fra", "cisco_ios", far.address, site="FRA1"),
        ]
        db = build_assets_db(tmp_path / "a.db", rows, port=fleet.port)
        result = _run("--job", str(_job(tmp_path)), "-y", env=lean_env(db, vault, tmp_path / "c"))
        assert result.returncode == 0, result.output
        assert bastion.stats.channels[JUMP_USER] == 1
        assert bastion.stats.targets[(far.address, fleet.port)] == 1
