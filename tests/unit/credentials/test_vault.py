from __future__ import annotations

import base64
import hashlib
import os
import sqlite3
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from vcollector.credentials.vault import Credential, Vault
from vcollector.errors import CredentialError, VaultError

PASSWORD = "correct horse"


def make_legacy_vault(path: Path, password: str) -> None:
    """A vault as the earlier VelocityCollector writes it, straight from the format doc."""
    salt = os.urandom(16)
    check = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 100_000, 32)
    key = base64.urlsafe_b64encode(hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 480_000, 32))
    fernet = Fernet(key)
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE vault_metadata (id INTEGER PRIMARY KEY, key TEXT UNIQUE NOT NULL, value TEXT);
        CREATE TABLE credentials (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE NOT NULL,
          username TEXT NOT NULL, password_encrypted TEXT, ssh_key_encrypted TEXT,
          ssh_key_passphrase_encrypted TEXT, is_default INTEGER DEFAULT 0,
          created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
        CREATE TABLE job_history (id INTEGER PRIMARY KEY, job_id TEXT);
        """
    )
    db.execute(
        "INSERT INTO vault_metadata (key, value) VALUES ('salt', ?)", (base64.b64encode(salt).decode(),)
    )
    db.execute(
        "INSERT INTO vault_metadata (key, value) VALUES ('password_hash', ?)",
        (base64.b64encode(check).decode(),),
    )
    db.execute(
        "INSERT INTO credentials (name, username, password_encrypted, is_default) VALUES (?, ?, ?, 1)",
        ("lab", "admin", fernet.encrypt(b"s3cret").decode()),
    )
    db.execute("INSERT INTO job_history (job_id) VALUES ('329')")
    db.commit()
    db.close()


def read_legacy_password(path: Path, password: str, name: str) -> str:
    """Decrypt a credential the way the earlier tool does (to prove our vault opens there)."""
    db = sqlite3.connect(path)
    meta = dict(db.execute("SELECT key, value FROM vault_metadata"))
    salt = base64.b64decode(meta["salt"])
    assert base64.b64decode(meta["password_hash"]) == hashlib.pbkdf2_hmac(
        "sha256", password.encode(), salt, 100_000, 32
    )
    key = base64.urlsafe_b64encode(hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 480_000, 32))
    (token,) = db.execute("SELECT password_encrypted FROM credentials WHERE name = ?", (name,)).fetchone()
    db.close()
    return Fernet(key).decrypt(token.encode()).decode()


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    created = Vault(tmp_path / "collector.db")
    created.init(PASSWORD)
    return created


def test_new_vault_is_0600_and_opens_in_the_earlier_tool(vault: Vault) -> None:
    vault.unlock(PASSWORD).add(Credential("lab", "admin", "pw-1", enable_secret="en-1"), default=True)
    assert stat.S_IMODE(vault.path.stat().st_mode) == 0o600
    assert read_legacy_password(vault.path, PASSWORD, "lab") == "pw-1"


def test_legacy_vault_opens_and_keeps_other_tables(tmp_path: Path) -> None:
    path = tmp_path / "collector.db"
    make_legacy_vault(path, PASSWORD)
    unlocked = Vault(path).unlock(PASSWORD)
    credential = unlocked.get(None)
    assert (credential.name, credential.username, credential.password) == ("lab", "admin", "s3cret")
    assert credential.enable_secret is None
    unlocked.add(Credential("core", "ops", "pw2", enable_secret="en"))
    assert unlocked.get("core").enable_secret == "en"
    assert sqlite3.connect(path).execute("SELECT job_id FROM job_history").fetchall() == [("329",)]


def test_wrong_password_is_one_clear_error(vault: Vault) -> None:
    with pytest.raises(VaultError, match="^invalid vault password$"):
        vault.unlock("wrong password")


def test_missing_vault(tmp_path: Path) -> None:
    with pytest.raises(VaultError, match="vault not found"):
        Vault(tmp_path / "nope.db").unlock(PASSWORD)


def test_credential_priority_and_listing(vault: Vault) -> None:
    unlocked = vault.unlock(PASSWORD)
    with pytest.raises(CredentialError, match="no default credential"):
        unlocked.get(None)
    unlocked.add(Credential("lab", "admin", "a"))
    unlocked.add(Credential("prod", "ops", "b"), default=True)
    assert unlocked.get(None).name == "prod"
    assert unlocked.get("lab").password == "a"
    unlocked.set_default("lab")
    assert [(i.name, i.is_default) for i in vault.list()] == [("lab", True), ("prod", False)]
    with pytest.raises(CredentialError, match="'nope' not found. Available: lab, prod"):
        unlocked.get("nope")
    with pytest.raises(CredentialError):
        unlocked.set_default("nope")
    assert unlocked.get(None).name == "lab"  # a failed set-default changes nothing
    unlocked.remove("prod")
    assert unlocked.names() == ["lab"]


def test_change_password_reencrypts(vault: Vault) -> None:
    unlocked = vault.unlock(PASSWORD)
    unlocked.add(Credential("lab", "admin", "pw", enable_secret="en"), default=True)
    unlocked.change_password("a new password")
    with pytest.raises(VaultError):
        vault.unlock(PASSWORD)
    again = vault.unlock("a new password").get("lab")
    assert (again.password, again.enable_secret) == ("pw", "en")


def test_key_derived_ahead_is_the_same_key(vault: Vault) -> None:
    vault.unlock(PASSWORD).add(Credential("lab", "admin", "pw"), default=True)
    vault.begin_unlock(PASSWORD)
    assert vault.unlock(PASSWORD).get("lab").password == "pw"
    vault.begin_unlock("not the password")
    with pytest.raises(VaultError, match="invalid vault password"):
        vault.unlock("not the password")


def test_key_derived_ahead_is_not_used_after_a_password_change(vault: Vault) -> None:
    vault.unlock(PASSWORD).add(Credential("lab", "admin", "pw"), default=True)
    vault.begin_unlock(PASSWORD)
    vault.unlock(PASSWORD).change_password("a new password")  # consumes the early key
    vault.begin_unlock("a new password")
    Vault(vault.path).unlock("a new password").change_password(PASSWORD)  # salt and hash change
    with pytest.raises(VaultError, match="invalid vault password"):
        vault.unlock("a new password")
    assert vault.unlock(PASSWORD).get("lab").password == "pw"


def test_begin_unlock_leaves_problems_to_unlock(tmp_path: Path) -> None:
    missing = Vault(tmp_path / "none.db")
    missing.begin_unlock(PASSWORD)  # silent
    with pytest.raises(VaultError, match="vault not found"):
        missing.unlock(PASSWORD)


def test_corrupted_row_is_reported_not_raised_raw(vault: Vault) -> None:
    vault.unlock(PASSWORD).add(Credential("lab", "admin", "pw"))
    db = sqlite3.connect(vault.path)
    db.execute("UPDATE credentials SET password_encrypted = 'garbage'")
    db.commit()
    db.close()
    with pytest.raises(VaultError, match="'lab' is damaged"):
        vault.unlock(PASSWORD).get("lab")


def test_secrets_never_show_in_repr() -> None:
    credential = Credential("lab", "admin", "pw-visible?", "KEYDATA", "kp-Zx81", "enable-x")
    for text in (repr(credential), str(credential), f"{credential}", repr([credential])):
        for secret in ("pw-visible?", "KEYDATA", "kp-Zx81", "enable-x"):
            assert secret not in text
    assert "REDACTED" in repr(credential)


def test_short_password_refused(tmp_path: Path) -> None:
    with pytest.raises(VaultError, match="at least 8"):
        Vault(tmp_path / "v.db").init("short")


def test_credential_needs_a_secret(vault: Vault) -> None:
    with pytest.raises(CredentialError, match="password or an SSH key"):
        vault.unlock(PASSWORD).add(Credential("lab", "admin"))


def test_a_password_that_is_not_utf8_opens_the_vault(tmp_path: Path) -> None:
    password = b"caf\xe9-latin1".decode("utf-8", "surrogateescape")  # a Latin-1 environment variable
    created = Vault(tmp_path / "v.db")
    created.init(password)
    created.unlock(password).add(Credential("lab", "u", "p"), default=True)
    assert created.unlock(password).get().password == "p"


def test_a_locked_vault_says_so(vault: Vault, monkeypatch: pytest.MonkeyPatch) -> None:
    holder = sqlite3.connect(vault.path)
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr("vcollector.credentials.vault.LOCK_WAIT_SECONDS", 0.1)
    try:
        with pytest.raises(VaultError, match="locked by another program"):
            vault.list()
    finally:
        holder.rollback()
        holder.close()
