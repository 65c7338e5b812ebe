"""``vcollector vault ...``: create the vault and manage credentials."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from vcollector.cli import common
from vcollector.config.paths import VAULT_ENV
from vcollector.config.settings import load_settings
from vcollector.credentials import password as vault_password
from vcollector.credentials.vault import Credential, UnlockedVault, Vault
from vcollector.errors import VCollectorError

app = typer.Typer(
    help="Manage the encrypted credential vault (~/.vcollector/collector.db).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)

SECRET_ENV = {
    "password": "VCOLLECTOR_CREDENTIAL_PASSWORD",
    "enable_secret": "VCOLLECTOR_ENABLE_SECRET",
    "passphrase": "VCOLLECTOR_KEY_PASSPHRASE",
    "new_vault_password": "VCOLLECTOR_NEW_VAULT_PASS",
}


def _vault(given: Path | None) -> Vault:
    """``--vault``, else ``$VCOLLECTOR_VAULT``, else config.toml's ``[defaults] vault``."""
    if given is None and not os.environ.get(VAULT_ENV):
        try:
            configured = load_settings().defaults.vault
        except VCollectorError as exc:
            common.fail(str(exc))
        if configured:
            return Vault(Path(configured).expanduser())
    return Vault(given)


def _interactive() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def _new_password(label: str, env_name: str, given: str | None = None) -> str:
    """A new password from ``given``, an env var, or typed twice on a terminal."""
    value = given or os.environ.get(env_name)
    if value:
        return value
    if not _interactive():
        common.fail(f"no {label} given: set {env_name} or run on a terminal")
    first = getpass.getpass(f"New {label}: ")
    if first != getpass.getpass(f"Repeat {label}: "):
        common.fail(f"the two {label}s differ")
    return first


def _optional_secret(label: str, env_name: str, *, ask: bool) -> str | None:
    value = os.environ.get(env_name)
    if value:
        return value
    if ask and _interactive():
        return getpass.getpass(f"{label} (Enter to skip): ") or None
    return None


def _unlock(vault: Vault, given: str | None) -> UnlockedVault:
    password, _source = vault_password.resolve(vault.path, given)
    return vault.unlock(password)


@app.command("init")
def init(vault: common.VaultPathOption = None, vault_pass: common.VaultPassOption = None) -> None:
    """Create a new vault (password: --vault-pass, VELOCITYCMDB_VAULT_PASS, or a prompt)."""
    common.warn_command_line_password(vault_pass)
    target = _vault(vault)
    try:
        given = vault_pass or next(
            (os.environ[n] for n in vault_password.ENV_VARIABLES if os.environ.get(n)), None
        )
        target.init(_new_password("vault password", vault_password.ENV_VARIABLES[0], given))
    except VCollectorError as exc:
        common.fail(str(exc))
    common.echo(f"Vault created: {target.path}")


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Credential set name, e.g. lab.")],
    username: Annotated[str, typer.Option("--username", "-u", help="Login username.")],
    key_file: Annotated[Path | None, typer.Option("--key-file", "-k", help="SSH private key file.")] = None,
    enable_secret: Annotated[
        bool, typer.Option("--enable-secret/--no-enable-secret", help="Ask for an enable secret.")
    ] = False,
    default: Annotated[
        bool, typer.Option("--default", "-d", help="Make this the default credential.")
    ] = False,
    replace: Annotated[bool, typer.Option("--replace", help="Overwrite an existing credential.")] = False,
    vault: common.VaultPathOption = None,
    vault_pass: common.VaultPassOption = None,
) -> None:
    """Add a credential. Secrets come from prompts, or from VCOLLECTOR_CREDENTIAL_PASSWORD,
    VCOLLECTOR_ENABLE_SECRET and VCOLLECTOR_KEY_PASSPHRASE for scripts."""
    common.warn_command_line_password(vault_pass)
    try:
        unlocked = _unlock(_vault(vault), vault_pass)
        key_text = None
        if key_file is not None:
            try:
                key_text = key_file.expanduser().read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                common.fail(f"cannot read key file {key_file}: {exc}")
        password = _optional_secret("SSH password", SECRET_ENV["password"], ask=True)
        passphrase = (
            _optional_secret("Key passphrase", SECRET_ENV["passphrase"], ask=True) if key_text else None
        )
        secret = _optional_secret("Enable secret", SECRET_ENV["enable_secret"], ask=enable_secret)
        credential = Credential(name, username, password, key_text, passphrase, secret)
        if key_text:
            from vcollector.transport.credentials import private_key

            private_key(credential)  # refuse a file that is not a usable key, or a wrong passphrase
        unlocked.add(credential, default=default, replace=replace)
    except VCollectorError as exc:
        common.fail(str(exc))
    common.echo(f"Credential {name!r} saved" + (" (default)" if default else "") + ".")


@app.command("list")
def list_credentials(vault: common.VaultPathOption = None) -> None:
    """List credentials (no password needed)."""
    try:
        infos = _vault(vault).list()
    except VCollectorError as exc:
        common.fail(str(exc))
    if not infos:
        common.echo("No credentials. Add one with: vcollector vault add NAME -u USER")
        return
    common.echo(f"{'NAME':20} {'USERNAME':20} {'DEFAULT':8} SECRETS")
    for info in infos:
        held = [
            label
            for label, present in (
                ("password", info.has_password),
                ("ssh-key", info.has_ssh_key),
                ("enable", info.has_enable_secret),
            )
            if present
        ]
        common.echo(
            f"{info.name:20} {info.username:20} {'yes' if info.is_default else '':8} {', '.join(held)}"
        )


@app.command("remove")
def remove(
    name: str,
    yes: common.YesOption = False,
    vault: common.VaultPathOption = None,
    vault_pass: common.VaultPassOption = None,
) -> None:
    """Delete a credential."""
    common.warn_command_line_password(vault_pass)
    common.confirm(f"Remove credential {name!r}?", yes)
    try:
        _unlock(_vault(vault), vault_pass).remove(name)
    except VCollectorError as exc:
        common.fail(str(exc))
    common.echo(f"Credential {name!r} removed.")


@app.command("set-default")
def set_default(
    name: str, vault: common.VaultPathOption = None, vault_pass: common.VaultPassOption = None
) -> None:
    """Make a credential the default."""
    common.warn_command_line_password(vault_pass)
    try:
        _unlock(_vault(vault), vault_pass).set_default(name)
    except VCollectorError as exc:
        common.fail(str(exc))
    common.echo(f"Default credential: {name}")


@app.command("passwd")
def change_password(vault: common.VaultPathOption = None, vault_pass: common.VaultPassOption = None) -> None:
    """Change the vault password (new one: VCOLLECTOR_NEW_VAULT_PASS or prompt); re-encrypts every secret."""
    common.warn_command_line_password(vault_pass)
    target = _vault(vault)
    try:
        unlocked = _unlock(target, vault_pass)
        unlocked.change_password(_new_password("vault password", SECRET_ENV["new_vault_password"]))
        if vault_password.from_keyring(target.path):
            common.echo("Note: the keyring holds the old password; run 'vcollector vault remember' again.")
    except VCollectorError as exc:
        common.fail(str(exc))
    common.echo("Vault password changed.")


@app.command("remember")
def remember(vault: common.VaultPathOption = None, vault_pass: common.VaultPassOption = None) -> None:
    """Store the vault password in the OS keyring, so runs need no env var or prompt."""
    common.warn_command_line_password(vault_pass)
    target = _vault(vault)
    try:
        password, _source = vault_password.resolve(target.path, vault_pass)
        target.unlock(password)
        vault_password.remember(target.path, password)
    except VCollectorError as exc:
        common.fail(str(exc))
    common.echo(f"Vault password stored in the OS keyring for {target.path}.")


@app.command("forget")
def forget(vault: common.VaultPathOption = None) -> None:
    """Remove the vault password from the OS keyring."""
    target = _vault(vault)
    try:
        removed = vault_password.forget(target.path)
    except VCollectorError as exc:
        common.fail(str(exc))
    common.echo("Vault password removed from the keyring." if removed else "No password was stored.")
