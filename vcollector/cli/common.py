"""What both runner commands share: options, logging, errors, confirmation, vault unlock."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from vcollector.config.logging import setup_logging as setup_logging
from vcollector.config.paths import debug_root, default_db_path
from vcollector.credentials import password as vault_password
from vcollector.credentials.vault import Credential, Vault
from vcollector.errors import VCollectorError
from vcollector.jobs.model import Job

if TYPE_CHECKING:
    from vcollector.transport.host_keys import KnownHosts

CredentialOption = Annotated[
    str | None,
    typer.Option(
        "--credential", "-c", help="Credential set name from the vault (default: the vault's default)."
    ),
]
VaultPassOption = Annotated[
    str | None,
    typer.Option(
        "--vault-pass",
        help="Vault password (visible to other users in the process list; prefer VELOCITYCMDB_VAULT_PASS "
        "or 'vcollector vault remember').",
        show_default=False,
    ),
]
VaultPathOption = Annotated[
    Path | None,
    typer.Option("--vault", help="Vault file (default: $VCOLLECTOR_VAULT or ~/.vcollector/collector.db)."),
]
DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db", help="assets.db (default: $VCOLLECTOR_ASSETS_DB or ~/.velocitycmdb/data/assets.db)."
    ),
]
OutputDirOption = Annotated[
    Path | None,
    typer.Option(
        "--output-dir",
        help="Capture base directory (default: $VCOLLECTOR_CAPTURE_DIR, else the job's storage.base_path, "
        "else ~/.vcollector/collections).",
    ),
]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Show matched devices without executing.")]
LimitOption = Annotated[
    int | None, typer.Option("--limit", min=1, help="Process only the first N matched devices.")
]
DebugOption = Annotated[
    bool, typer.Option("--debug", help="Debug logging and per-device SSH session logs (secrets redacted).")
]
NoSaveOption = Annotated[bool, typer.Option("--no-save", help="Execute but don't save captures to files.")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Skip the confirmation prompt.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Print only the final summary (for cron).")]
RetriesOption = Annotated[
    int,
    typer.Option(
        "--retries", min=0, max=10, help="Retry connection failures (never authentication) N times."
    ),
]
StrictHostKeysOption = Annotated[
    bool,
    typer.Option(
        "--strict-host-keys",
        help="Refuse devices whose SSH host key is not yet in known_hosts (default: trust on first use; "
        "a changed key is always refused).",
    ),
]
ProcessesOption = Annotated[
    int | None,
    typer.Option(
        "--processes",
        min=1,
        help="Worker processes (default: one per core for runs of 100+ devices, else 1).",
    ),
]
JsonOption = Annotated[
    Path | None, typer.Option("--json", help="Write machine-readable results to this file (atomically).")
]

log = logging.getLogger("vcollector")


def configure_output() -> None:
    """Never crash on a console that cannot show ✓ (cron with a C locale)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")


def run_and_exit(app: typer.Typer, prog_name: str, args: list[str] | None = None) -> NoReturn:
    """Run a command line app, then leave without Python's interpreter teardown.

    After a large run the interpreter spends ~0.2 s freeing modules and objects that nobody
    uses again. Everything a run writes (captures, JSON, known_hosts) is closed by the time
    the app returns; the output streams and log handlers are flushed here.
    """
    try:
        app(args=args, prog_name=prog_name)
        code = 0
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            sys.stderr.write(f"{exc.code}\n")
            code = 1
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said there
            code = code or 1
    os._exit(code)


def fail(message: str) -> NoReturn:
    """Print one error line to stderr and exit 1."""
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(1)


def resolve_db(db: Path | None) -> Path:
    """The assets.db path from ``--db`` or the defaults."""
    return db.expanduser() if db else default_db_path()


def confirm(question: str, yes: bool) -> None:
    """Ask ``question [y/N]`` on a terminal; without one, ``-y`` is required."""
    if yes:
        return
    if not sys.stdin or not sys.stdin.isatty():
        fail("standard input is not a terminal; pass -y/--yes to run without confirmation")
    try:
        answer = input(f"{question} [y/N]: ")
    except (EOFError, KeyboardInterrupt):
        answer = ""
    if answer.strip().lower() not in {"y", "yes"}:
        typer.echo("Aborted.")
        raise typer.Exit(1)


def warn_command_line_password(given: str | None) -> None:
    """One line on stderr when the vault password was passed as an argument."""
    if given:
        typer.echo(
            "Warning: --vault-pass is visible to other users of this machine (process list, shell history); "
            "use VELOCITYCMDB_VAULT_PASS or 'vcollector vault remember' instead.",
            err=True,
        )


def unlock_credential(
    vault_path: Path | None,
    given_password: str | None,
    credential_name: str | None,
    extra_env: str | None = None,
) -> Credential:
    """Unlock the vault once, pick the credential (``--credential`` > default), print who we are."""
    from vcollector.credentials import store

    vault = Vault(vault_path)
    try:
        if not vault.path.is_file():
            raise VCollectorError(f"vault not found: {vault.path} (create one with: vcollector vault init)")
        password, _source = vault_password.resolve(vault.path, given_password, extra_env=extra_env)
        unlocked = store.unlock(vault.path, password)
        credential = unlocked.get(credential_name)
    except VCollectorError as exc:
        fail(str(exc))
    typer.echo(f"Using credentials: {credential.name} (user: {credential.username})")
    return credential


def debug_log_dir(debug: bool, timestamp: str) -> Path | None:
    """Where ``--debug`` writes per-device Netmiko session logs (created 0700)."""
    if not debug:
        return None
    path = debug_root() / timestamp
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def job_credential(job: Job) -> str | None:
    """A job's ``credentials.credential_set``; ``"default"`` (or none) means the vault default."""
    wanted = job.credentials.credential_set
    return None if not wanted or wanted == "default" else wanted


def known_hosts(strict: bool) -> KnownHosts:
    """The run's known_hosts (paramiko is imported only when a run needs it)."""
    from vcollector.transport.host_keys import KnownHosts

    return KnownHosts(strict=strict)
