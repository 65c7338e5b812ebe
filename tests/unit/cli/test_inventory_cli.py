"""``vcollector inventory list``: the table and JSON, through the job filters."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from vcollector.cli.app import app
from vcollector_sim.assets import AssetRow, build_assets_db


def test_inventory_list_json_and_table(tmp_path: Path) -> None:
    db = build_assets_db(
        tmp_path / "a.db",
        [
            AssetRow("r1", "cisco_ios", "10.0.0.1", site="IAD2"),
            AssetRow("nx1", "cisco_nxos", None, site="FRA1"),
        ],
    )
    shown = CliRunner().invoke(app, ["inventory", "list", "--db", str(db), "--json"])
    assert shown.exit_code == 0, shown.output
    records = json.loads(shown.output)
    assert [(r["name"], r["problem"]) for r in records] == [
        ("nx1", "no management_ip or ipv4_address in assets.db"),
        ("r1", None),
    ]
    table = CliRunner().invoke(app, ["inventory", "list", "--db", str(db), "--site", "iad2"])
    assert table.exit_code == 0 and "r1" in table.output and "nx1" not in table.output
