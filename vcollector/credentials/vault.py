"""The credential vault: a SQLite file compatible with VelocityCollector's ``collector.db``.

Format (shared with the earlier tool, so vaults open in both directions): a 16-byte salt
and a PBKDF2-HMAC-SHA256 (100 000 rounds) password hash in ``vault_metadata``; each secret
a separate Fernet token keyed by PBKDF2-HMAC-SHA256 (480 000 rounds, same salt). Our
addition is the ``enable_secret_encrypted`` column, which older tools ignore.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from vcollector.config.paths import default_vault_path, make_private_dirs
from vcollector.errors import CredentialError, VaultError

HASH_ITERATIONS = 100_000
KEY_ITERATIONS = 480_000
MIN_PASSWORD_LENGTH = 8
# How long to wait for another program (a second run, the earlier tool) holding the vault.
LOCK_WAIT_SECONDS = 10.0
REDACTED = "REDACTED"

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS vault_metadata ("
    " id INTEGER PRIMARY KEY, key TEXT UNIQUE NOT NULL, value TEXT)",
    "CREATE TABLE IF NOT EXISTS credentials ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE NOT NULL, username TEXT NOT NULL,"
    " password_encrypted TEXT, ssh_key_encrypted TEXT, ssh_key_passphrase_encrypted TEXT,"
    " is_default INTEGER DEFAULT 0, created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,"
    " updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP)",
)
_SECRET_COLUMNS = {
    "password": "password_encrypted",
    "ssh_key": "ssh_key_encrypted",
    "ssh_key_passphrase": "ssh_key_passphrase_encrypted",
    "enable_secret": "enable_secret_encrypted",
}


@dataclass(frozen=True)
class CredentialInfo:
    """What can be shown about a credential without unlocking the vault."""

    name: str
    username: str
    is_default: bool
    has_password: bool
    has_ssh_key: bool
    has_enable_secret: bool


@dataclass(frozen=True, repr=False)
class Credential:
    """A decrypted credential. Its repr and str never show a secret."""

    name: str
    username: str
    password: str | None = field(default=None)
    ssh_key: str | None = field(default=None)
    ssh_key_passphrase: str | None = field(default=None)
    enable_secret: str | None = field(default=None)

    def __repr__(self) -> str:
        shown = {
            secret: REDACTED if getattr(self, secret) else None
            for secret in ("password", "ssh_key", "ssh_key_passphrase", "enable_secret")
        }
        parts = ", ".join(f"{key}={value}" for key, value in shown.items())
        return f"Credential(name={self.name!r}, username={self.username!r}, {parts})"

    __str__ = __repr__

    def secrets(self) -> list[str]:
        """Every secret this credential holds (used to scrub text before showing it)."""
        values = (self.password, self.ssh_key_passphrase, self.enable_secret)
        return [value for value in values if value]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _password_bytes(password: str) -> bytes:
    """The password's bytes: UTF-8, and bytes that were not UTF-8 (a Latin-1 environment
    variable arrives as surrogate escapes) exactly as they were given."""
    return password.encode("utf-8", errors="surrogateescape")


def _password_hash(password: str, salt: bytes) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", _password_bytes(password), salt, HASH_ITERATIONS, 32)


def _fernet_key(password: str, salt: bytes) -> bytes:
    raw = hashlib.pbkdf2_hmac("sha256", _password_bytes(password), salt, KEY_ITERATIONS, 32)
    return base64.urlsafe_b64encode(raw)


class Vault:
    """A vault file. Listing needs no password; everything secret goes through :meth:`unlock`."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path).expanduser() if path else default_vault_path()

    @contextmanager
    def _connect(self, *, create: bool = False) -> Iterator[sqlite3.Connection]:
        if not create and not self.path.is_file():
            raise VaultError(f"vault not found: {self.path} (create one with: vcollector vault init)")
        if create:
            try:
                make_private_dirs(self.path.parent)
                # Create the file 0600 before SQLite does, so it is never readable by others.
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
            except OSError as exc:
                raise VaultError(f"cannot create vault {self.path}: {exc.strerror or exc}") from exc
        try:
            connection = sqlite3.connect(self.path, timeout=LOCK_WAIT_SECONDS)
        except sqlite3.Error as exc:
            raise VaultError(f"cannot open vault {self.path}: {exc}") from exc
        try:
            with connection:
                yield connection
        except sqlite3.DatabaseError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise VaultError(f"vault {self.path} is locked by another program; try again") from exc
            if isinstance(exc, sqlite3.OperationalError) and "readonly" in str(exc):
                raise VaultError(f"vault {self.path} is read-only: {exc}") from exc
            raise VaultError(f"vault {self.path} is unreadable or not a vault: {exc}") from exc
        finally:
            connection.close()

    def _metadata(self, connection: sqlite3.Connection) -> dict[str, str]:
        try:
            rows = connection.execute("SELECT key, value FROM vault_metadata").fetchall()
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise VaultError(f"vault {self.path} is locked by another program; try again") from exc
            if "no such table" not in str(exc):
                raise VaultError(f"cannot read vault {self.path}: {exc}") from exc
            raise VaultError(f"vault not initialized: {self.path} (run: vcollector vault init)") from exc
        return {str(key): str(value) for key, value in rows if value is not None}

    def is_initialized(self) -> bool:
        """True when the file exists and holds a salt and password hash."""
        if not self.path.is_file():
            return False
        try:
            with self._connect() as connection:
                meta = self._metadata(connection)
        except VaultError:
            return False
        return "salt" in meta and "password_hash" in meta

    def init(self, password: str) -> None:
        """Create the vault (or initialise the tables in an existing collector.db)."""
        if len(password) < MIN_PASSWORD_LENGTH:
            raise VaultError(f"vault password must be at least {MIN_PASSWORD_LENGTH} characters")
        if self.is_initialized():
            raise VaultError(f"vault already initialized: {self.path}")
        salt = secrets.token_bytes(16)
        with self._connect(create=True) as connection:
            for statement in _SCHEMA:
                connection.execute(statement)
            _ensure_enable_column(connection)
            connection.executemany(
                "INSERT OR REPLACE INTO vault_metadata (key, value) VALUES (?, ?)",
                [("salt", _b64(salt)), ("password_hash", _b64(_password_hash(password, salt)))],
            )
        self.path.chmod(0o600)

    def list(self) -> list[CredentialInfo]:
        """Every credential, by name, without decrypting anything."""
        with self._connect() as connection:
            self._metadata(connection)
            has_enable = _ensure_enable_column(connection, alter=False)
            enable = "enable_secret_encrypted" if has_enable else "NULL"
            query = f"SELECT name, username, is_default, password_encrypted, ssh_key_encrypted, {enable} FROM credentials ORDER BY name"  # noqa: E501, S608 - our own column name
            rows = connection.execute(query).fetchall()
        return [
            CredentialInfo(str(n), str(u), bool(d), bool(p), bool(k), bool(e)) for n, u, d, p, k, e in rows
        ]

    def _salt_and_hash(self) -> tuple[bytes, bytes]:
        with self._connect() as connection:
            meta = self._metadata(connection)
        try:
            return base64.b64decode(meta["salt"], validate=True), base64.b64decode(
                meta["password_hash"], validate=True
            )
        except (KeyError, ValueError) as exc:
            raise VaultError(f"vault not initialized or damaged: {self.path}") from exc

    def begin_unlock(self, password: str) -> None:
        """Start deriving the key in the background, for a later :meth:`unlock`.

        The two PBKDF2 runs take ~0.35 s of OpenSSL, which releases the GIL: started before
        the heavy imports, they cost a run no time. Problems are left to :meth:`unlock`.
        """
        try:
            salt, expected = self._salt_and_hash()
        except (VaultError, OSError):
            return
        slot = (self.path.resolve(), password, salt, expected)
        future: Future[bytes | None] = Future()
        with _early_lock:
            if slot in _early:
                return
            _early[slot] = future

        def derive() -> None:
            try:
                future.set_result(_checked_key(password, salt, expected))
            except BaseException as exc:  # handed to unlock(), which raises it
                future.set_exception(exc)

        threading.Thread(target=derive, name="vault-key", daemon=True).start()

    def unlock(self, password: str) -> UnlockedVault:
        """Check the password against the stored hash, then derive the key (once)."""
        salt, expected = self._salt_and_hash()
        with _early_lock:
            early = _early.pop((self.path.resolve(), password, salt, expected), None)
        key = early.result() if early is not None else _checked_key(password, salt, expected)
        if key is None:
            raise VaultError("invalid vault password")
        return UnlockedVault(self, Fernet(key), salt)


# Keys being derived ahead of need, by (vault, password, salt, stored hash).
_early: dict[tuple[Path, str, bytes, bytes], Future[bytes | None]] = {}
_early_lock = threading.Lock()


def _checked_key(password: str, salt: bytes, expected: bytes) -> bytes | None:
    """The Fernet key, or None when ``password`` does not match the stored hash."""
    if not hmac.compare_digest(_password_hash(password, salt), expected):
        return None
    return _fernet_key(password, salt)


def _ensure_enable_column(connection: sqlite3.Connection, *, alter: bool = True) -> bool:
    columns = {row[1] for row in connection.execute("PRAGMA table_info(credentials)")}
    if "enable_secret_encrypted" in columns:
        return True
    if alter and columns:
        connection.execute("ALTER TABLE credentials ADD COLUMN enable_secret_encrypted TEXT")
        return True
    return False


class UnlockedVault:
    """An unlocked vault: decrypts and edits credentials with a key derived once."""

    def __init__(self, vault: Vault, fernet: Fernet, salt: bytes) -> None:
        self.vault = vault
        self._fernet = fernet
        self._salt = salt
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"UnlockedVault(path={str(self.vault.path)!r})"

    def _encrypt(self, value: str | None) -> str | None:
        return self._fernet.encrypt(value.encode("utf-8")).decode("ascii") if value else None

    def _decrypt(self, name: str, what: str, token: str | None) -> str | None:
        if not token:
            return None
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError, ValueError) as exc:
            raise VaultError(f"credential {name!r} is damaged: its {what} cannot be decrypted") from exc

    def names(self) -> list[str]:
        """Credential names, sorted."""
        return [info.name for info in self.vault.list()]

    def get(self, name: str | None = None) -> Credential:
        """The named credential, or the default when ``name`` is None or ``"default"``."""
        with self.vault._connect() as connection:
            has_enable = _ensure_enable_column(connection, alter=False)
            enable = "enable_secret_encrypted" if has_enable else "NULL"
            columns = (
                f"name, username, password_encrypted, ssh_key_encrypted, "
                f"ssh_key_passphrase_encrypted, {enable}"
            )
            if name is None or name == "default":
                row = connection.execute(
                    f"SELECT {columns} FROM credentials WHERE is_default = 1 ORDER BY id LIMIT 1"  # noqa: S608
                ).fetchone()
                if row is None and name == "default":
                    row = connection.execute(
                        f"SELECT {columns} FROM credentials WHERE name = 'default'"  # noqa: S608
                    ).fetchone()
            else:
                row = connection.execute(
                    f"SELECT {columns} FROM credentials WHERE name = ?",  # noqa: S608
                    (name,),
                ).fetchone()
        if row is None:
            available = ", ".join(self.names()) or "none (add one with: vcollector vault add)"
            if name is None or name == "default":
                raise CredentialError(
                    f"no default credential in the vault; use --credential NAME. Available: {available}"
                )
            raise CredentialError(f"credential {name!r} not found. Available: {available}")
        cred_name, username, password, key, passphrase, enable_secret = row
        return Credential(
            name=str(cred_name),
            username=str(username),
            password=self._decrypt(cred_name, "password", password),
            ssh_key=self._decrypt(cred_name, "SSH key", key),
            ssh_key_passphrase=self._decrypt(cred_name, "SSH key passphrase", passphrase),
            enable_secret=self._decrypt(cred_name, "enable secret", enable_secret),
        )

    def add(self, credential: Credential, *, default: bool = False, replace: bool = False) -> None:
        """Store ``credential`` (at least a password or an SSH key)."""
        if not credential.name.strip() or not credential.username.strip():
            raise CredentialError("a credential needs a name and a username")
        if not credential.password and not credential.ssh_key:
            raise CredentialError("a credential needs a password or an SSH key")
        values = [self._encrypt(getattr(credential, attr)) for attr in _SECRET_COLUMNS]
        with self._lock, self.vault._connect() as connection:
            _ensure_enable_column(connection)
            exists = connection.execute(
                "SELECT 1 FROM credentials WHERE name = ?", (credential.name,)
            ).fetchone()
            if exists and not replace:
                raise CredentialError(f"credential {credential.name!r} already exists")
            if default:
                connection.execute("UPDATE credentials SET is_default = 0")
            if exists:
                connection.execute(
                    "UPDATE credentials SET username = ?, password_encrypted = ?, ssh_key_encrypted = ?,"
                    " ssh_key_passphrase_encrypted = ?, enable_secret_encrypted = ?,"
                    " is_default = MAX(is_default, ?), updated_at = CURRENT_TIMESTAMP WHERE name = ?",
                    (credential.username, *values, int(default), credential.name),
                )
            else:
                connection.execute(
                    "INSERT INTO credentials (name, username, password_encrypted, ssh_key_encrypted,"
                    " ssh_key_passphrase_encrypted, enable_secret_encrypted, is_default)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (credential.name, credential.username, *values, int(default)),
                )

    def remove(self, name: str) -> None:
        """Delete a credential."""
        with self._lock, self.vault._connect() as connection:
            if connection.execute("DELETE FROM credentials WHERE name = ?", (name,)).rowcount == 0:
                raise CredentialError(f"credential {name!r} not found")

    def set_default(self, name: str) -> None:
        """Make ``name`` the only default (an unknown name changes nothing)."""
        with self._lock, self.vault._connect() as connection:
            if not connection.execute("SELECT 1 FROM credentials WHERE name = ?", (name,)).fetchone():
                raise CredentialError(f"credential {name!r} not found")
            connection.execute("UPDATE credentials SET is_default = (name = ?)", (name,))

    def change_password(self, new_password: str) -> UnlockedVault:
        """Re-encrypt every secret under a new password and salt, in one transaction."""
        if len(new_password) < MIN_PASSWORD_LENGTH:
            raise VaultError(f"vault password must be at least {MIN_PASSWORD_LENGTH} characters")
        salt = secrets.token_bytes(16)
        fresh = Fernet(_fernet_key(new_password, salt))
        with self._lock, self.vault._connect() as connection:
            _ensure_enable_column(connection)
            columns = ", ".join(_SECRET_COLUMNS.values())
            assignments = ", ".join(f"{column} = ?" for column in _SECRET_COLUMNS.values())
            rows = connection.execute(f"SELECT id, name, {columns} FROM credentials").fetchall()  # noqa: S608
            for row_id, name, *tokens in rows:
                plain = [
                    self._decrypt(name, what, token)
                    for what, token in zip(_SECRET_COLUMNS, tokens, strict=True)
                ]
                sealed = [fresh.encrypt(p.encode("utf-8")).decode("ascii") if p else None for p in plain]
                connection.execute(
                    f"UPDATE credentials SET {assignments}, updated_at = CURRENT_TIMESTAMP WHERE id = ?",  # noqa: S608
                    (*sealed, row_id),
                )
            connection.executemany(
                "INSERT OR REPLACE INTO vault_metadata (key, value) VALUES (?, ?)",
                [("salt", _b64(salt)), ("password_hash", _b64(_password_hash(new_password, salt)))],
            )
        return UnlockedVault(self.vault, fresh, salt)
