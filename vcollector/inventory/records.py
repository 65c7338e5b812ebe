"""A device as vcollector sees it, and how its Netmiko platform is derived."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

DEFAULT_SSH_PORT = 22

# Netmiko device type from the vendor name, when device_types says nothing.
_VENDOR_PLATFORMS = (
    ("cisco", "cisco_ios"),
    ("arista", "arista_eos"),
    ("juniper", "juniper_junos"),
    ("palo alto", "paloalto_panos"),
    ("fortinet", "fortinet"),
    ("aruba", "aruba_os"),
    ("hewlett", "hp_procurve"),
    ("huawei", "huawei"),
    ("dell", "dell_os10"),
    ("mikrotik", "mikrotik_routeros"),
)
_DRIVER_ALIASES = {"cisco_ios_xe": "cisco_xe", "cisco_iosxe": "cisco_xe", "cisco_ios_xr": "cisco_xr"}


@dataclass(slots=True)
class DeviceRecord:
    """One device as a collection job needs it; ``problem`` says why it cannot be reached."""

    id: int
    name: str
    normalized_name: str
    address: str | None
    port: int
    platform: str | None
    site: str | None
    vendor: str | None
    vendor_short_name: str | None
    role: str | None
    model: str | None
    requires_enable: bool = False

    @property
    def problem(self) -> str | None:
        """Why this device cannot be collected from, or ``None``."""
        if not self.address:
            return "no management_ip or ipv4_address in assets.db"
        if not self.platform:
            return "no Netmiko device type (set device_types.netmiko_driver or a known vendor)"
        return None


@lru_cache(maxsize=1024)
def netmiko_platform(driver: str | None, vendor: str | None, vendor_short: str | None) -> str | None:
    """The Netmiko device type from ``device_types.netmiko_driver``, else from the vendor."""
    if driver and driver.strip():
        cleaned = driver.strip().lower()
        cleaned = cleaned.removesuffix("_ssh")
        return _DRIVER_ALIASES.get(cleaned, cleaned)
    for name in (vendor, vendor_short):
        lowered = (name or "").lower()
        for needle, platform in _VENDOR_PLATFORMS:
            if needle in lowered:
                return platform
    return None


def device_slug(name: str) -> str:
    """A safe lower-case slug of a device name (used when ``normalized_name`` is empty)."""
    return re.sub(r"[^a-z0-9._-]+", "-", name.strip().lower()).strip("-.") or "device"


def address_of(management_ip: str | None, ipv4_address: str | None) -> str | None:
    """The SSH address: ``management_ip``, else ``ipv4_address`` (without a prefix length)."""
    for value in (management_ip, ipv4_address):
        if value and value.strip():
            # Some importers store an interface address with its prefix length.
            return value.strip().split("/", 1)[0]
    return None
