"""``vcollector jobs convert``: VelocityCMDB v1.0 job files to the v2.0 form."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from vcollector.cli import common
from vcollector.errors import JobFileError, VCollectorError
from vcollector.jobs.convert import convert_v1, is_v1
from vcollector.jobs.model import parse_job
from vcollector.storage.atomic import write_atomic

app = typer.Typer(
    help="Work with job files.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)


@app.command("convert")
def convert(
    files: Annotated[list[Path], typer.Argument(help="v1.0 job files (VelocityCMDB pcng/jobs/*.json).")],
    output_dir: Annotated[
        Path | None,
        typer.Option(
            "--output-dir",
            "-o",
            help="Write the v2.0 files here, same names (default: NAME.v2.json beside each).",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite files that exist.")] = False,
) -> None:
    """Write the v2.0 form of each v1.0 job file; every written file loads as a job."""
    failed = 0
    for source in files:
        target = (output_dir / source.name) if output_dir else source.with_name(f"{source.stem}.v2.json")
        try:
            written = _convert_one(source, target, force=force)
        except VCollectorError as exc:
            common.echo(f"Error: {exc}", err=True)
            failed += 1
            continue
        common.echo(f"Converted {source} -> {written}")
    raise typer.Exit(1 if failed else 0)


def _convert_one(source: Path, target: Path, *, force: bool) -> Path:
    shown = str(source)
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise JobFileError(shown, None, f"cannot read: {exc}") from exc
    if not isinstance(data, dict) or not is_v1(data):
        raise JobFileError(shown, None, "is not a v1.0 job file (nothing to convert)")
    converted = convert_v1(data, source.name)
    parse_job(converted, shown)  # what we write must load
    if target.exists() and not force:
        raise JobFileError(str(target), None, "exists already (--force overwrites it)")
    try:
        write_atomic(target, (json.dumps(converted, indent=2) + "\n").encode("utf-8"))
    except OSError as exc:
        raise JobFileError(str(target), None, f"cannot write: {exc.strerror or exc}") from exc
    return target
