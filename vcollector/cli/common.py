"""What both runner commands share: options, logging, errors, confirmation, vault unlock."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from vcollector.cli import signals
from vcollector.config.logging import setup_logging as setup_logging
from vcollector.config.paths import debug_root, default_db_path, make_private_dirs
from vcollector.ui.text import printable

if TYPE_CHECKING:  # the history commands start without the job model (pydantic)
    from vcollector.jobs.model import Job

CredentialOption = Annotated[
    list[str] | None,
    typer.Option(
        "--credential",
        "-c",
        help="Credential set(s) from the vault, tried in order: repeat it or give a,b "
        "(default: the job's credential_set, then config.toml's rules, then the vault's default).",
        show_default=False,
    ),
]
MaxAuthAttemptsOption = Annotated[
    int | None,
    typer.Option(
        "--max-auth-attempts",
        min=1,
        max=10,
        help="Credential sets tried per device at most (default: config.toml's, else 3).",
        show_default=False,
    ),
]
JumpHostOption = Annotated[
    str | None,
    typer.Option(
        "--jump-host",
        help="Reach the devices through this bastion: [USER@]HOST[:PORT], or none "
        "(config.toml [sites.CODE] jump_host wins for its site).",
        show_default=False,
    ),
]
JumpCredentialOption = Annotated[
    str | None,
    typer.Option("--jump-credential", help="Vault credential set for the jump host.", show_default=False),
]
MaxSessionsPerJumpOption = Annotated[
    int | None,
    typer.Option(
        "--max-sessions-per-jump-host",
        min=1,
        max=1000,
        help="Device sessions through one jump host at once (default: config.toml's, else 20).",
        show_default=False,
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
MaxOutputOption = Annotated[
    float | None,
    typer.Option(
        "--max-output-mb",
        min=0.001,
        max=4096,
        help="Cap one command's output, in MB (default: the job's execution.max_output_mb, else 64); "
        "a device that prints more fails and nothing of it is kept.",
        show_default=False,
    ),
]
NoHistoryOption = Annotated[
    bool,
    typer.Option(
        "--no-history", help="Keep no versions in the capture history this run (default: on, see README)."
    ),
]
ScrubSecretsOption = Annotated[
    bool,
    typer.Option(
        "--scrub-secrets",
        help="Replace secrets (enable/user passwords, SNMP communities, TACACS/RADIUS, routing and "
        "crypto keys) in the output before anything is written.",
    ),
]
BROKER_ENV = "VCOLLECTOR_BROKER_URL"
BrokerOption = Annotated[
    str | None,
    typer.Option(
        "--broker",
        help=f"Celery broker URL (redis://, rediss://, amqp://, amqps://): run the SSH sessions on "
        f"vcollector workers (default: ${BROKER_ENV}, else config.toml's [defaults] broker, else none: "
        "here). Give a URL with a password in the variable: arguments show in the process list.",
        show_default=False,
    ),
]
ReportOption = Annotated[
    Path | None,
    typer.Option(
        "--report",
        help="Write a self-contained HTML report of the run (summary, jobs, failures, changes, a "
        "timeline of the sessions) to this file, atomically.",
        show_default=False,
    ),
]
RetryFailedOption = Annotated[
    Path | None,
    typer.Option(
        "--retry-failed",
        help="Run only what failed in this results file (written by --json): per job, its failed "
        "devices, and the jobs that failed to start.",
        show_default=False,
    ),
]
ForceSaveOption = Annotated[
    bool,
    typer.Option(
        "--force-save",
        help="Save captures that fail the job's TextFSM validation too (they are still counted invalid).",
    ),
]
JsonOption = Annotated[
    Path | None, typer.Option("--json", help="Write machine-readable results to this file (atomically).")
]

log = logging.getLogger("vcollector")


def echo(text: str = "", *, err: bool = False, lines: bool = False) -> None:
    """One line for a person (``lines``: several, e.g. JSON): control characters shown, not
    sent to the terminal; a closed output (``| head``) is not an error of the program."""
    stream = sys.stderr if err else sys.stdout
    shown = "\n".join(map(printable, text.split("\n"))) if lines else printable(text)
    try:
        stream.write(shown + "\n")
        stream.flush()
    except (BrokenPipeError, ValueError, OSError):
        pass


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
    signals.install()
    try:
        app(args=args, prog_name=prog_name)
        code = 0
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            echo(str(exc.code), err=True)
            code = 1
    except KeyboardInterrupt:
        code = signals.EXIT_INTERRUPTED
    if signals.was_interrupted() and code != signals.EXIT_INTERRUPTED:
        # Stopped before the run could report for itself (loading, planning, a prompt).
        _interrupted_early(prog_name, args if args is not None else sys.argv[1:])
        code = signals.EXIT_INTERRUPTED
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        # A closed pipe: nothing more can be said there, and the run's outcome stands.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def _interrupted_early(prog_name: str, args: Sequence[str]) -> None:
    echo("Interrupted before the run started; nothing was collected.", err=True)
    if _failure_hooks:
        for hook in list(_failure_hooks):
            hook("interrupted before the run started", True)
        return
    many = "run_jobs_concurrent" in prog_name or "run-jobs" in args
    signals.write_interrupted_results("run_jobs_concurrent" if many else "run_job", args)


_failure_hooks: list[Callable[[str, bool], None]] = []


def on_failure(hook: Callable[[str, bool], None]) -> None:
    """Call ``hook(message, interrupted)`` when the command fails early: :func:`fail`, or a
    signal before the run could report (the results file uses it)."""
    _failure_hooks.append(hook)


def clear_failure_hooks() -> None:
    """The run has its own results now: an error after this point is not an early failure."""
    _failure_hooks.clear()


def fail(message: str) -> NoReturn:
    """Print one error line to stderr and exit 1."""
    for hook in list(_failure_hooks):
        hook(message, False)
    echo(f"Error: {message}", err=True)
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
        echo("Aborted.")
        raise typer.Exit(1)


def warn_command_line_password(given: str | None) -> None:
    """One line on stderr when the vault password was passed as an argument."""
    if given:
        echo(
            "Warning: --vault-pass is visible to other users of this machine (process list, shell history); "
            "use VELOCITYCMDB_VAULT_PASS or 'vcollector vault remember' instead.",
            err=True,
        )


def debug_log_dir(timestamp: str) -> Path:
    """This run's own folder for ``--debug`` session logs: unique (two runs started in the
    same second do not share it) and private (0700, as is the vcollector home)."""
    root = debug_root()
    try:
        make_private_dirs(root)
        return Path(tempfile.mkdtemp(prefix=f"{timestamp}-", dir=root))
    except OSError as exc:
        fail(f"cannot create a debug folder in {root}: {exc.strerror or exc}")


def broker_url(given: str | None, configured: str | None = None) -> str | None:
    """``--broker``, else ``$VCOLLECTOR_BROKER_URL``, else config.toml's (None: no broker)."""
    return given or os.environ.get(BROKER_ENV) or configured or None


def names(option: str | None) -> list[str]:
    """Credential set names from ``--credential`` (comma-separated)."""
    return [name.strip() for name in (option or "").split(",") if name.strip()]


def job_credentials(job: Job, given: Sequence[str]) -> tuple[str, ...]:
    """The credential sets a job names for its devices: ``--credential`` when given, else the
    job's ``credentials.credential_set`` (a name or a list; ``"default"`` names none, so that
    config.toml's rules and then the vault default decide)."""
    if given:
        return tuple(given)
    wanted = job.credentials.credential_set
    sets = (
        names(wanted) if isinstance(wanted, str) else [name.strip() for name in wanted or [] if name.strip()]
    )
    return tuple(name for name in sets if name != "default")
