"""A full --debug run of both tools never shows a secret anywhere."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.integration.conftest import write_job
from vcollector.credentials.vault import Credential, Vault
from vcollector_sim.assets import AssetRow, build_assets_db
from vcollector_sim.lean_fleet import USERNAME, LeanDevice, LeanFleet, device_address

LOGIN = "Pw-s3cr3t-4711"
ENABLE = "En-s3cr3t-0815"
PASSPHRASE = "Kp-s3cr3t-1234"
VAULT_PASS = "Vp-s3cr3t-9999"
SECRETS = (LOGIN, ENABLE, PASSPHRASE, VAULT_PASS)


def _key_pair() -> tuple[str, str]:
    """An encrypted ed25519 private key (OpenSSH format) and its public line."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.BestAvailableEncryption(PASSPHRASE.encode()),
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return private, public.decode()


@pytest.mark.parametrize("tool", ["run_job", "run_jobs_concurrent"])
def test_debug_run_leaks_no_secret(tmp_path: Path, tool: str) -> None:
    private, public = _key_pair()
    devices = [
        LeanDevice("sec-1", device_address(150), "enable_password", LOGIN, ENABLE, authorized_key=public),
        LeanDevice("sec-2", device_address(151), "enable_password", LOGIN, ENABLE),
        LeanDevice("sec-locked", device_address(152), password="another-one"),
    ]
    vault = Vault(tmp_path / "vault.db")
    vault.init(VAULT_PASS)
    unlocked = vault.unlock(VAULT_PASS)
    unlocked.add(Credential("pw", USERNAME, LOGIN, enable_secret=ENABLE), default=True)
    unlocked.add(Credential("key", USERNAME, LOGIN, private, PASSPHRASE, ENABLE))
    assert stat.S_IMODE(vault.path.stat().st_mode) == 0o600
    captures = tmp_path / "captures"
    outputs: dict[str, str] = {}
    with LeanFleet(devices) as fleet:
        rows = [AssetRow(d.name, "cisco_ios", d.address) for d in devices]
        rows.append(AssetRow("sec-refused", "cisco_ios", device_address(153)))
        db = build_assets_db(tmp_path / "assets.db", rows, port=fleet.port)
        job = write_job(tmp_path / "job.json", commands={"command": "enable,show running-config,show bogus"})
        flag = "--job" if tool == "run_job" else "--jobs"
        for credential, expect in (("pw", ("sec-1", "sec-2")), ("key", ("sec-1",))):
            report = tmp_path / f"results-{credential}.json"
            result = run_cli(
                f"vcollector.{tool}",
                flag,
                str(job),
                "-y",
                "--debug",
                "--vault-pass",
                VAULT_PASS,
                "--credential",
                credential,
                "--json",
                str(report),
                "--db",
                str(db),
                "--vault",
                str(vault.path),
                "--output-dir",
                str(captures),
            )
            assert result.returncode == 1  # show bogus, the locked device and the refused one fail
            for name in expect:  # enable with the secret worked, then the bogus command failed
                assert re.search(rf"{name}( \([\d.]+\))?: device rejected 'show bogus'", result.stdout), (
                    result.stdout
                )
            outputs[f"{credential} stdout"] = result.stdout
            outputs[f"{credential} stderr"] = result.stderr
            outputs[f"{credential} json"] = report.read_text()
    home = Path(os.environ["VCOLLECTOR_HOME"])
    session_logs = list((home / "debug").rglob("*.log"))
    assert session_logs, "--debug writes Netmiko session logs"
    assert any("show running-config" in log.read_text(errors="replace") for log in session_logs)
    # The enable secret did cross the channel (and was masked in the log).
    assert any("Password:" in log.read_text(errors="replace") for log in session_logs)
    for path in [*home.rglob("*"), *captures.rglob("*")]:
        if path.is_file():
            outputs[str(path)] = path.read_text(errors="replace")
            if path.suffix in {".txt", ".log", ".json"}:
                assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path
    for where, text in outputs.items():
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} leaked into {where}"
