"""Build a VelocityCMDB-shaped ``assets.db`` from plain rows (tests, demo, benchmark).

The DDL is the subset of VelocityCMDB's schema that vcollector reads, plus the capture
tables, so the file looks like the real thing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ASSETS_SCHEMA = """
CREATE TABLE vendors (
  id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE NOT NULL, short_name TEXT, description TEXT);
CREATE TABLE sites (code TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT);
CREATE TABLE device_roles (
  id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE NOT NULL, description TEXT,
  expected_model_patterns TEXT, port_count_min INTEGER, port_count_max INTEGER,
  is_infrastructure BOOLEAN DEFAULT 0);
CREATE TABLE device_types (
  id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE NOT NULL, description TEXT,
  netmiko_driver TEXT, napalm_driver TEXT, transport TEXT, default_port INTEGER,
  requires_enable BOOLEAN DEFAULT 0, supports_config_session BOOLEAN DEFAULT 0);
CREATE TABLE devices (
  id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, normalized_name TEXT UNIQUE NOT NULL,
  site_code TEXT REFERENCES sites(code), vendor_id INTEGER REFERENCES vendors(id),
  device_type_id INTEGER REFERENCES device_types(id), model TEXT, os_version TEXT, uptime TEXT,
  have_sn BOOLEAN DEFAULT 0, processor_id TEXT, ipv4_address TEXT, management_ip TEXT,
  role_id INTEGER REFERENCES device_roles(id), is_stack BOOLEAN DEFAULT 0, stack_count INTEGER DEFAULT 0,
  timestamp TEXT, source_file TEXT, source_system TEXT);
CREATE TABLE device_captures_current (
  id INTEGER PRIMARY KEY AUTOINCREMENT, device_id INTEGER NOT NULL REFERENCES devices(id),
  capture_type TEXT NOT NULL, file_path TEXT NOT NULL, file_size INTEGER,
  capture_timestamp TEXT NOT NULL, extraction_success BOOLEAN DEFAULT 1, command_used TEXT,
  UNIQUE(device_id, capture_type));
"""

VENDORS = {
    "cisco": ("Cisco Systems", "CISCO"),
    "arista": ("Arista Networks", "Arista"),
    "juniper": ("Juniper Networks", "JUNIPER"),
}
PLATFORM_VENDOR = {
    "cisco_ios": "cisco",
    "cisco_xe": "cisco",
    "cisco_ios_xe": "cisco",
    "cisco_nxos": "cisco",
    "arista_eos": "arista",
    "juniper_junos": "juniper",
}


@dataclass(frozen=True)
class AssetRow:
    """One device row; ``platform`` becomes ``device_types.netmiko_driver`` (``<platform>_ssh`` type)."""

    name: str
    platform: str | None
    management_ip: str | None
    site: str = "LAB1"
    role: str = "access"
    model: str = "vSwitch"
    normalized_name: str | None = None
    ipv4_address: str | None = None
    vendor: str | None = None
    driver: str | None = None  # device_types.netmiko_driver as VelocityCMDB stores it (default: platform)


def build_assets_db(path: Path, rows: Iterable[AssetRow], port: int = 22) -> Path:
    """Write a fresh assets.db at ``path`` holding ``rows``; devices listen on ``port``."""
    path.unlink(missing_ok=True)
    connection = sqlite3.connect(path)
    try:
        with connection:
            connection.executescript(ASSETS_SCHEMA)
            ids: dict[tuple[str, str], int] = {}

            def ensure(table: str, key: str, insert: str, values: tuple[object, ...]) -> int:
                if (table, key) not in ids:
                    cursor = connection.execute(insert, values)
                    ids[(table, key)] = int(cursor.lastrowid or 0)
                return ids[(table, key)]

            for row in rows:
                vendor_key = row.vendor or PLATFORM_VENDOR.get(row.platform or "", "unknown")
                vendor_name, short = VENDORS.get(vendor_key, (vendor_key.title(), vendor_key.upper()))
                vendor_id = ensure(
                    "vendors",
                    vendor_name,
                    "INSERT INTO vendors (name, short_name) VALUES (?, ?)",
                    (vendor_name, short),
                )
                if ("sites", row.site) not in ids:
                    connection.execute(
                        "INSERT INTO sites (code, name) VALUES (?, ?)", (row.site, f"Site {row.site}")
                    )
                    ids[("sites", row.site)] = 0
                role_id = ensure("roles", row.role, "INSERT INTO device_roles (name) VALUES (?)", (row.role,))
                type_id = None
                if row.platform:
                    driver = row.driver or row.platform
                    type_id = ensure(
                        "types",
                        driver,
                        "INSERT INTO device_types (name, netmiko_driver, transport, default_port)"
                        " VALUES (?, ?, 'ssh', ?)",
                        (driver if driver.endswith("_ssh") else f"{driver}_ssh", driver, port),
                    )
                connection.execute(
                    "INSERT INTO devices (name, normalized_name, site_code, vendor_id, device_type_id, model,"
                    " ipv4_address, management_ip, role_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        row.name,
                        row.normalized_name if row.normalized_name is not None else row.name.lower(),
                        row.site,
                        vendor_id,
                        type_id,
                        row.model,
                        row.ipv4_address,
                        row.management_ip,
                        role_id,
                    ),
                )
    finally:
        connection.close()
    return path
