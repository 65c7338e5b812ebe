"""Nornir inventory plugin over a VelocityCMDB ``assets.db``.

Registered under the ``nornir.plugins.inventory`` entry point as ``AssetsDBInventory``::

    from nornir import InitNornir

    nr = InitNornir(inventory={
        "plugin": "AssetsDBInventory",
        "options": {"db_path": "~/.velocitycmdb/data/assets.db",
                    "device_filter": {"vendor": "arista", "site": "IAD2"}},
    })
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nornir.core.inventory import ConnectionOptions, Defaults, Group, Groups, Host, Hosts, Inventory

from vcollector.config.paths import default_db_path
from vcollector.errors import InventoryError
from vcollector.inventory.assets_db import load_devices
from vcollector.inventory.filters import DeviceFilterSpec
from vcollector.inventory.records import DeviceRecord


class AssetsDBInventory:
    """Hosts from the ``devices`` table of a VelocityCMDB assets.db, read-only.

    Options:
        db_path: the assets.db file (default ``$VCOLLECTOR_ASSETS_DB`` or
            ``~/.velocitycmdb/data/assets.db``).
        device_filter: ``vendor`` (substring of vendor name or short name), ``site`` (site
            code), ``role`` (substring), ``name_pattern`` (``*``/``?`` wildcards, anchored),
            ``platform`` (exact Netmiko device type); all case-insensitive and ANDed.
        limit: keep only the first N matching devices (ordered by name).

    Each host is named after the device's ``normalized_name`` and carries ``hostname``
    (``management_ip``, else ``ipv4_address``), ``port`` (``device_types.default_port`` or
    22), ``platform`` (the Netmiko device type) and ``data``: ``device_id``, ``name``,
    ``normalized_name``, ``site``, ``vendor``, ``role``, ``model``, ``requires_enable`` and
    ``problem`` (why the device cannot be collected from, e.g. no address; ``None`` when it
    can). Devices with a problem are kept, never silently dropped, so every task reports them.

    Hosts belong to groups named as NetBox's inventory plugin names them, so ``F(groups__contains=...)``
    and group data work: ``site__<code>``, ``platform__<netmiko type>``, ``role__<role>`` and
    ``vendor__<short name>`` (values lower-cased, spaces and slashes as ``-``). Each host also
    carries the platform names of other connection plugins: ``scrapli`` (``cisco_iosxe``,
    ``cisco_nxos``, ``arista_eos``, ``juniper_junos`` ...), so nornir-scrapli tasks work on
    this inventory without a mapping of their own.
    """

    def __init__(
        self,
        db_path: str | Path | None = None,
        device_filter: Mapping[str, Any] | None = None,
        limit: int | None = None,
    ) -> None:
        self.db_path = Path(db_path).expanduser() if db_path else default_db_path()
        try:
            self.device_filter = DeviceFilterSpec.from_mapping(device_filter)
        except TypeError as exc:
            raise InventoryError(str(exc)) from exc
        if limit is not None and limit < 1:
            raise InventoryError("limit must be at least 1")
        self.limit = limit

    def devices(self) -> list[DeviceRecord]:
        """The matching devices, in inventory order."""
        devices = load_devices(self.db_path, self.device_filter)
        return devices[: self.limit] if self.limit else devices

    def load(self) -> Inventory:
        """Query assets.db and build the Nornir inventory."""
        return inventory_from_entries(host_entries(self.devices()), groups=True)


# A device as a Nornir host: its host name, the device, and why it cannot be reached (if so).
HostEntry = tuple[str, DeviceRecord, "str | None"]


def host_entries(devices: list[DeviceRecord]) -> list[HostEntry]:
    """Host name and problem of each device; a duplicate normalized name becomes a problem."""
    entries: list[HostEntry] = []
    owners: dict[str, DeviceRecord] = {}
    for device in devices:
        problem = device.problem
        name = device.normalized_name
        if name in owners:
            problem = (
                f"duplicate normalized_name {name!r} (also device id {owners[name].id}); captures would clash"
            )
            name = f"{name}#{device.id}"
        else:
            owners[name] = device
        entries.append((name, device, problem))
    return entries


# Netmiko device type -> scrapli platform (nornir-scrapli reads ``connection_options``).
SCRAPLI_PLATFORMS = {
    "cisco_ios": "cisco_iosxe",
    "cisco_xe": "cisco_iosxe",
    "cisco_xr": "cisco_iosxr",
    "cisco_nxos": "cisco_nxos",
    "arista_eos": "arista_eos",
    "juniper_junos": "juniper_junos",
    "juniper": "juniper_junos",
}


def group_names(device: DeviceRecord) -> list[str]:
    """The groups a device's host belongs to (see :class:`AssetsDBInventory`)."""
    values = (
        ("site", device.site),
        ("platform", device.platform),
        ("role", device.role),
        ("vendor", device.vendor_short_name or device.vendor),
    )
    return [f"{kind}__{_group_slug(value)}" for kind, value in values if value and value.strip()]


def _group_slug(value: str) -> str:
    return re.sub(r"[\s/]+", "-", value.strip().lower())


def inventory_from_entries(entries: list[HostEntry], *, groups: bool = False) -> Inventory:
    """A Nornir inventory of already-named hosts (no I/O); ``groups`` adds the plugin's
    groups and other plugins' connection options (runs of our own need neither)."""
    defaults = Defaults()
    hosts = Hosts()
    all_groups = Groups()
    for name, device, problem in entries:
        host = Host(
            name=name,
            hostname=device.address,
            port=device.port,
            platform=device.platform,
            data=host_data(device, problem),
            defaults=defaults,
        )
        if groups:
            for group in group_names(device):
                if group not in all_groups:
                    all_groups[group] = Group(name=group, defaults=defaults)
                host.groups.append(all_groups[group])
            scrapli = SCRAPLI_PLATFORMS.get(device.platform or "")
            if scrapli:
                host.connection_options["scrapli"] = ConnectionOptions(platform=scrapli)
        hosts[name] = host
    return Inventory(hosts=hosts, groups=all_groups, defaults=defaults)


def host_data(device: DeviceRecord, problem: str | None) -> dict[str, Any]:
    """The ``data`` of a host built from ``device``."""
    return {
        "device_id": device.id,
        "name": device.name,
        "normalized_name": device.normalized_name,
        "site": device.site,
        "vendor": device.vendor,
        "role": device.role,
        "model": device.model,
        "requires_enable": device.requires_enable,
        "problem": problem,
    }
