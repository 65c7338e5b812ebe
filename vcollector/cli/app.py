"""The ``vcollector`` console script: both runners plus the vault, inventory, job, parse and
history helpers.

The history commands are often run on their own (``vcollector diff r1`` from a shell): they
start with only what they need, not the runners' SSH and inventory stack.
"""

from __future__ import annotations

import sys
from functools import cache
from typing import Any

import typer

from vcollector import __version__
from vcollector.cli import common, history
from vcollector.cli.common import run_and_exit

HISTORY_COMMANDS = ("history", "diff", "changes", "show")
_SETTINGS: dict[str, Any] = {
    "add_completion": False,
    "pretty_exceptions_show_locals": False,
    "rich_markup_mode": None,
}


def _add_history(target: typer.Typer) -> None:
    for command in (history.history, history.diff, history.changes, history.show):
        target.command(command.__name__, help=command.__doc__)(command)


def version() -> None:
    """Print the version."""
    common.echo(f"vcollector {__version__}")


@cache
def build_app() -> typer.Typer:
    """The whole ``vcollector`` application."""
    from vcollector.cli import inventory, jobs, vault
    from vcollector.cli.parse import parse
    from vcollector.cli.run_job import run_job
    from vcollector.cli.run_jobs import run_jobs_concurrent
    from vcollector.cli.worker import worker

    full = typer.Typer(
        help="Collect configs and show-command output from network devices listed in a VelocityCMDB "
        "assets.db.",
        no_args_is_help=True,
        **_SETTINGS,
    )
    full.command("run-job", help=run_job.__doc__)(run_job)
    full.command("run-jobs", help=run_jobs_concurrent.__doc__)(run_jobs_concurrent)
    full.add_typer(vault.app, name="vault")
    full.add_typer(inventory.app, name="inventory")
    full.add_typer(jobs.app, name="jobs")
    full.command("parse", help=parse.__doc__)(parse)
    full.command("worker", help=worker.__doc__)(worker)
    _add_history(full)
    full.command("version")(version)
    return full


def history_app() -> typer.Typer:
    """The history commands alone."""
    light = typer.Typer(**_SETTINGS)
    _add_history(light)
    return light


def __getattr__(name: str) -> Any:
    if name == "app":  # ``from vcollector.cli.app import app`` (tests, other tools' entry points)
        return build_app()
    raise AttributeError(name)


def main() -> None:
    """Entry point of the ``vcollector`` console script."""
    args = sys.argv[1:]
    if args and args[0] in HISTORY_COMMANDS and not {"--help", "-h"} & set(args[:1]):
        run_and_exit(history_app(), "vcollector", args)
    from vcollector.cli.run_jobs import spread_multi_value_options

    run_and_exit(build_app(), "vcollector", spread_multi_value_options(args))
