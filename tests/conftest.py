"""Shared fixtures. Autouse ones only isolate the environment: HOME, env vars, keyring."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
VAULT_PASSWORD = "test-vault-pass-1"

_CLEARED = (
    "VELOCITYCMDB_VAULT_PASS",
    "VCOLLECTOR_VAULT_PASS",
    "VCOLLECTOR_VAULT",
    "VCOLLECTOR_ASSETS_DB",
    "VCOLLECTOR_CAPTURE_DIR",
    "VCOLLECTOR_CREDENTIAL_PASSWORD",
    "VCOLLECTOR_ENABLE_SECRET",
    "VCOLLECTOR_KEY_PASSPHRASE",
    "VCOLLECTOR_NEW_VAULT_PASS",
)


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private HOME, vcollector home and keyring file; no vault password in the env."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("VCOLLECTOR_HOME", str(home / ".vcollector"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.support.keyring_backend.FileKeyring")
    monkeypatch.setenv("VCOLLECTOR_TEST_KEYRING", str(tmp_path / "keyring.json"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    for name in _CLEARED:
        monkeypatch.delenv(name, raising=False)
    return home


@dataclass
class CliResult:
    """A finished CLI subprocess."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_cli(
    module: str,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 180,
    stdin: str | None = None,
) -> CliResult:
    """Run ``python -m <module> args...`` as a real subprocess (stdin is not a TTY)."""
    completed = subprocess.run(
        [sys.executable, "-m", module, *args],
        env={**os.environ, **(env or {})},
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )
    return CliResult(completed.returncode, completed.stdout, completed.stderr)
