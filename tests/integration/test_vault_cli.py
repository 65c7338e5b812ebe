"""The ``vcollector vault`` commands, as a user runs them (subprocesses, no terminal)."""

from __future__ import annotations

import stat
from pathlib import Path

from tests.conftest import run_cli
from vcollector.credentials.vault import Vault


def vault_cli(*args: str, **env: str) -> tuple[int, str]:
    result = run_cli("vcollector.cli", "vault", *args, env=env)
    assert "Traceback" not in result.output
    return result.returncode, result.output


def test_vault_lifecycle(tmp_path: Path) -> None:
    path = str(tmp_path / "collector.db")
    base = {"VCOLLECTOR_VAULT": path}
    assert vault_cli("init", **base)[0] == 1  # no password and no terminal: a clear error
    code, out = vault_cli("init", **base, VCOLLECTOR_VAULT_PASS="short")
    assert code == 1 and "at least 8 characters" in out
    code, out = vault_cli("init", **base, VCOLLECTOR_VAULT_PASS="first-pass-1")
    assert code == 0, out
    assert stat.S_IMODE(Path(path).stat().st_mode) == 0o600
    unlocked = {**base, "VCOLLECTOR_VAULT_PASS": "first-pass-1"}

    code, out = vault_cli("add", "lab", "-u", "admin", **unlocked)
    assert code == 1 and "needs a password or an SSH key" in out
    code, out = vault_cli(
        "add",
        "lab",
        "-u",
        "admin",
        "--default",
        "--enable-secret",
        **unlocked,
        VCOLLECTOR_CREDENTIAL_PASSWORD="pw-lab-1",
        VCOLLECTOR_ENABLE_SECRET="en-lab-1",
    )
    assert code == 0, out
    code, out = vault_cli("add", "core", "-u", "ops", **unlocked, VCOLLECTOR_CREDENTIAL_PASSWORD="pw-core-1")
    assert code == 0, out
    code, out = vault_cli("add", "core", "-u", "ops", **unlocked, VCOLLECTOR_CREDENTIAL_PASSWORD="x")
    assert code == 1 and "already exists" in out

    code, out = vault_cli("list", **base)
    assert code == 0
    lines = out.splitlines()
    assert lines[1].split()[:3] == ["core", "ops", "password"]
    assert lines[2].split() == ["lab", "admin", "yes", "password,", "enable"]
    for secret in ("pw-lab-1", "en-lab-1", "pw-core-1"):
        assert secret not in out

    assert vault_cli("set-default", "core", **unlocked)[0] == 0
    assert Vault(path).unlock("first-pass-1").get(None).name == "core"
    code, out = vault_cli("set-default", "nope", **unlocked)
    assert code == 1 and "'nope' not found" in out

    code, out = vault_cli("passwd", **unlocked, VCOLLECTOR_NEW_VAULT_PASS="second-pass-2")
    assert code == 0, out
    code, out = vault_cli("list", **base)
    assert code == 0
    assert vault_cli("remove", "lab", "-y", **unlocked)[0] == 1  # old password no longer works
    renewed = {**base, "VCOLLECTOR_VAULT_PASS": "second-pass-2"}
    assert Vault(path).unlock("second-pass-2").get("lab").enable_secret == "en-lab-1"
    code, out = vault_cli("remove", "lab", "-y", **renewed)
    assert code == 0, out
    assert Vault(path).unlock("second-pass-2").names() == ["core"]

    code, out = vault_cli("remember", **renewed)
    assert code == 0, out
    assert vault_cli("set-default", "core", **base)[0] == 0  # password now comes from the keyring
    code, out = vault_cli("forget", **base)
    assert code == 0 and "removed" in out
    assert vault_cli("set-default", "core", **base)[0] == 1
