from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from vcollector.errors import InventoryError
from vcollector.inventory.assets_db import load_devices
from vcollector.inventory.filters import DeviceFilterSpec
from vcollector.inventory.records import netmiko_platform, port_of
from vcollector_sim.assets import AssetRow, build_assets_db


@pytest.fixture
def assets(tmp_path: Path) -> Path:
    return build_assets_db(
        tmp_path / "assets.db",
        [
            AssetRow("zeta-sw", "arista_eos", "10.0.0.9", site="FRA1", role="leaf"),
            AssetRow("Alpha-RTR", "cisco_ios", None, ipv4_address="10.0.0.1/24", site="IAD2", role="core"),
            AssetRow("beta-nx", "cisco_nxos", "10.0.0.2", site="IAD2", role="leaf"),
            AssetRow("gamma", None, "10.0.0.3", vendor="juniper"),
            AssetRow("no-address", "cisco_ios", None),
        ],
        port=2222,
    )


def test_devices_are_ordered_by_name_and_carry_what_collection_needs(assets: Path) -> None:
    devices = load_devices(assets)
    assert [d.name for d in devices] == ["Alpha-RTR", "beta-nx", "gamma", "no-address", "zeta-sw"]
    alpha = devices[0]
    assert (alpha.address, alpha.port, alpha.platform, alpha.site, alpha.role) == (
        "10.0.0.1",
        2222,
        "cisco_ios",
        "IAD2",
        "core",
    )
    assert alpha.normalized_name == "alpha-rtr"
    assert alpha.vendor == "Cisco Systems"


def test_device_without_address_is_kept_with_a_problem(assets: Path) -> None:
    (record,) = load_devices(assets, DeviceFilterSpec(name_pattern="no-address"))
    assert record.address is None
    assert record.problem and "management_ip" in record.problem


def test_platform_falls_back_to_the_vendor(assets: Path) -> None:
    (gamma,) = load_devices(assets, DeviceFilterSpec(name_pattern="gamma"))
    assert gamma.platform == "juniper_junos"


def test_filters_apply(assets: Path) -> None:
    names = [d.name for d in load_devices(assets, DeviceFilterSpec(vendor="cisco", role="leaf"))]
    assert names == ["beta-nx"]


@pytest.mark.parametrize(
    ("driver", "expected"),
    [
        ("cisco_ios_ssh", "cisco_ios"),
        ("cisco_ios_xe", "cisco_xe"),
        (" Arista_EOS ", "arista_eos"),
        ("", None),
    ],
)
def test_netmiko_driver_is_normalised(driver: str, expected: str | None) -> None:
    assert netmiko_platform(driver, None, None) == expected


def test_vendor_mapping() -> None:
    assert netmiko_platform(None, "Arista Networks", None) == "arista_eos"
    assert netmiko_platform(None, "Unknown", "??") is None


def test_database_is_opened_read_only(assets: Path) -> None:
    before = assets.read_bytes()
    load_devices(assets)
    assert assets.read_bytes() == before
    assert not Path(str(assets) + "-journal").exists()


def test_missing_database_is_not_created(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match="not found"):
        load_devices(tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists()


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "assets.db"
    path.write_text("this is not sqlite " * 100)
    with pytest.raises(InventoryError, match="not a readable SQLite database"):
        load_devices(path)


def test_missing_tables(tmp_path: Path) -> None:
    path = tmp_path / "assets.db"
    sqlite3.connect(path).execute("CREATE TABLE unrelated (x)").connection.commit()
    with pytest.raises(InventoryError, match="not a VelocityCMDB assets.db"):
        load_devices(path)


@pytest.mark.parametrize(
    ("value", "port", "problem"),
    [
        (None, 22, None),
        ("", 22, None),
        (830, 830, None),
        ("2222", 2222, None),
        ("ssh", 22, "invalid port 'ssh' in device_types.default_port (not a number)"),
        (0, 22, "invalid port 0 in device_types.default_port (must be 1-65535)"),
        (70000, 22, "invalid port 70000 in device_types.default_port (must be 1-65535)"),
    ],
)
def test_ports_that_are_not_ports_make_the_device_unusable(
    value: object, port: int, problem: str | None
) -> None:
    assert port_of(value) == (port, problem)


def test_a_row_with_bytes_that_are_not_utf8_is_read(assets: Path) -> None:
    connection = sqlite3.connect(assets)
    with connection:
        connection.execute("UPDATE devices SET model = CAST(X'4d58ff' AS TEXT) WHERE name = 'zeta-sw'")
    connection.close()
    (device,) = load_devices(assets, DeviceFilterSpec(name_pattern="zeta*"))
    assert device.model == "MX\ufffd"
