"""The ``vcollector`` console script: both runners plus the vault and inventory helpers."""

from __future__ import annotations

import sys

import typer

from vcollector import __version__
from vcollector.cli import common, history, inventory, jobs, vault
from vcollector.cli.common import run_and_exit
from vcollector.cli.parse import parse
from vcollector.cli.run_job import run_job
from vcollector.cli.run_jobs import run_jobs_concurrent, spread_multi_value_options

app = typer.Typer(
    help="Collect configs and show-command output from network devices listed in a VelocityCMDB assets.db.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)
app.command("run-job", help=run_job.__doc__)(run_job)
app.command("run-jobs", help=run_jobs_concurrent.__doc__)(run_jobs_concurrent)
app.add_typer(vault.app, name="vault")
app.add_typer(inventory.app, name="inventory")
app.add_typer(jobs.app, name="jobs")
app.command("parse", help=parse.__doc__)(parse)
for command in (history.history, history.diff, history.changes, history.show):
    app.command(command.__name__, help=command.__doc__)(command)


@app.command("version")
def version() -> None:
    """Print the version."""
    common.echo(f"vcollector {__version__}")


def main() -> None:
    """Entry point of the ``vcollector`` console script."""
    run_and_exit(app, "vcollector", spread_multi_value_options(sys.argv[1:]))
