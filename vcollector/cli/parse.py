"""``vcollector parse``: a saved capture through its ntc-templates template, as a table or JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from vcollector.cli import common
from vcollector.cli.common import fail
from vcollector.parsing import parse_output

_WIDEST = 32  # a cell wider than this is cut, so that a table of many columns stays readable


def parse(
    file: Annotated[Path, typer.Argument(help="A saved capture (the device's output as text).")],
    platform: Annotated[
        str, typer.Option(help="Netmiko device type (cisco_ios, cisco_xe, cisco_nxos, arista_eos, ...).")
    ],
    command: Annotated[str, typer.Option(help="The command whose output the file holds.")],
    hint: Annotated[
        str | None, typer.Option("--hint", help="A job's tfsm_filter, used when the index finds nothing.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the records as JSON.")] = False,
) -> None:
    """Parse a saved capture with the ntc-templates template for its platform and command."""
    try:
        text = file.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror or exc}")
    parsed = parse_output(platform, command, text, hint)
    if parsed is None:
        fail(f"no template for {platform} '{command}'")
    if not parsed.records:
        fail(f"parsed 0 records with {parsed.template}")
    if as_json:
        common.echo(json.dumps(parsed.records, indent=2), lines=True)
        return
    for line in _table(parsed.records):
        common.echo(line)
    common.echo(f"{len(parsed.records)} record(s) with {parsed.template}")


def _cell(value: Any) -> str:
    text = ",".join(str(item) for item in value) if isinstance(value, list) else str(value)
    text = text or "-"
    return text if len(text) <= _WIDEST else text[: _WIDEST - 1] + "…"


def _table(records: list[dict[str, Any]]) -> list[str]:
    columns = list(records[0])
    cells = [[_cell(record.get(column, "")) for column in columns] for record in records]
    widths = [max(len(column), *(len(row[n]) for row in cells)) for n, column in enumerate(columns)]
    lines = ["  ".join(column.upper().ljust(width) for column, width in zip(columns, widths, strict=True))]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in cells]
    return [line.rstrip() for line in lines]
