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
    invalid: str | None = None  # a value of its row that cannot be used (e.g. the port)

    @property
    def problem(self) -> str | None:
        """Why this device cannot be collected from, or ``None``."""
        if self.invalid:
            return self.invalid
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


def port_of(value: object) -> tuple[int, str | None]:
    """The SSH port from ``device_types.default_port`` (22 when empty), and what is wrong
    with the value when it is not a port number (then the device cannot be collected)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return DEFAULT_SSH_PORT, None
    try:
        port = int(str(value).strip())
    except ValueError:
        return DEFAULT_SSH_PORT, f"invalid port {value!r} in device_types.default_port (not a number)"
    if not 1 <= port <= 65535:
        return DEFAULT_SSH_PORT, f"invalid port {port} in device_types.default_port (must be 1-65535)"
    return port, None


def address_of(management_ip: str | None, ipv4_address: str | None) -> str | None:
    """The SSH address: ``management_ip``, else ``ipv4_address`` (without a prefix length)."""
    for value in (management_ip, ipv4_address):
        if value and value.strip():
            # Some importers store an interface address with its prefix length.
            return value.strip().split("/", 1)[0]
    return None
