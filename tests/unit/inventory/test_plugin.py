"""The Nornir inventory plugin: groups as NetBox's plugin names them, other plugins' platforms."""

from __future__ import annotations

from pathlib import Path

from nornir.core.filter import F

from vcollector.inventory.plugin import AssetsDBInventory
from vcollector_sim.assets import AssetRow, build_assets_db


def test_hosts_have_site_platform_role_and_vendor_groups_and_a_scrapli_platform(tmp_path: Path) -> None:
    db = build_assets_db(
        tmp_path / "assets.db",
        [
            AssetRow("r1", "cisco_ios", "10.0.0.1", site="IAD2", role="Core Router"),
            AssetRow("x1", "cisco_xe", "10.0.0.2", site="FRA1", role="access", driver="cisco_ios_xe_ssh"),
            AssetRow("mx1", "juniper_junos", "10.0.0.3", site="IAD2", role="edge"),
        ],
    )
    inventory = AssetsDBInventory(db).load()
    r1 = inventory.hosts["r1"]
    assert sorted(group.name for group in r1.groups) == [
        "platform__cisco_ios",
        "role__core-router",
        "site__iad2",
        "vendor__cisco",
    ]
    assert r1.connection_options["scrapli"].platform == "cisco_iosxe"
    assert inventory.hosts["x1"].connection_options["scrapli"].platform == "cisco_iosxe"
    assert inventory.hosts["mx1"].connection_options["scrapli"].platform == "juniper_junos"
    assert set(inventory.groups) >= {"site__iad2", "site__fra1", "platform__cisco_xe"}
    iad2 = inventory.filter(F(groups__contains="site__iad2"))
    assert sorted(iad2.hosts) == ["mx1", "r1"]
