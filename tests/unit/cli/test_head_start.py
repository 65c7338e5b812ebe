"""head_start: which runs get an early vault key, and that it is the right key."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from vcollector.cli import head_start
from vcollector.credentials.vault import Credential, Vault
from vcollector.errors import VaultError

PASSWORD = "head-start-pass"


@pytest.fixture(autouse=True)
def _collector_back_on() -> Iterator[None]:
    yield
    gc.enable()


def test_options_are_read_in_both_spellings() -> None:
    argv = ["--job", "j.json", "--vault", "/v.db", "--vault-pass=s3cret", "-y"]
    assert head_start._option(argv, "--vault") == "/v.db"
    assert head_start._option(argv, "--vault-pass") == "s3cret"
    assert head_start._option(argv, "--credential") is None
    assert head_start._option(["--vault"], "--vault") is None  # no value: left to the parser


@pytest.mark.parametrize("extra", [[], ["--dry-run"], ["--help"]])
def test_unlock_after_a_head_start_is_the_same_unlock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: list[str]
) -> None:
    vault = Vault(tmp_path / "vault.db")
    vault.init(PASSWORD)
    vault.unlock(PASSWORD).add(Credential("lab", "admin", "pw"), default=True)
    monkeypatch.setenv("VCOLLECTOR_VAULT_PASS", PASSWORD)
    head_start.begin(["--job", "j.json", "--vault", str(vault.path), *extra])
    assert gc.isenabled() == bool(extra)  # paused while a run loads
    head_start.loaded()
    assert gc.isenabled()
    assert vault.unlock(PASSWORD).get(None).password == "pw"
    head_start.begin(["--job", "j.json", "--vault", str(vault.path), "--vault-pass", "wrong-pass"])
    with pytest.raises(VaultError, match="invalid vault password"):
        vault.unlock("wrong-pass")
