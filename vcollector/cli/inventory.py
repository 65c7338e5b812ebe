"""``vcollector inventory list``: what assets.db holds, through the same filters jobs use."""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated

import typer

from vcollector.cli import common
from vcollector.errors import VCollectorError
from vcollector.inventory.plugin import AssetsDBInventory

app = typer.Typer(
    help="Look at the assets.db inventory.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)


@app.command("list")
def list_devices(
    vendor: Annotated[str | None, typer.Option(help="Vendor name or short name contains.")] = None,
    site: Annotated[str | None, typer.Option(help="Site code.")] = None,
    role: Annotated[str | None, typer.Option(help="Role name contains.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Device name, * and ? wildcards.")] = None,
    platform: Annotated[str | None, typer.Option(help="Netmiko device type, exact.")] = None,
    limit: common.LimitOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    db: common.DbOption = None,
) -> None:
    """List devices matching the filters, in job order."""
    options = {"vendor": vendor, "site": site, "role": role, "name_pattern": name, "platform": platform}
    try:
        devices = AssetsDBInventory(common.resolve_db(db), options, limit).devices()
    except VCollectorError as exc:
        common.fail(str(exc))
    if as_json:
        records = [dataclasses.asdict(device) | {"problem": device.problem} for device in devices]
        common.echo(json.dumps(records, indent=2), lines=True)
        return
    common.echo(f"{'NAME':28} {'ADDRESS':16} {'PORT':>5} {'PLATFORM':15} {'SITE':8} {'VENDOR':18} ROLE")
    for device in devices:
        common.echo(
            f"{device.name:28} {device.address or '-':16} {device.port:>5} {device.platform or '-':15} "
            f"{device.site or '-':8} {device.vendor or '-':18} {device.role or '-'}"
            + (f"  [{device.problem}]" if device.problem else "")
        )
    common.echo(f"{len(devices)} device(s)")
