"""Device filter semantics, as pure functions over :class:`~vcollector.inventory.assets_db.DeviceRecord`.

All filters given are ANDed; an absent or empty filter matches everything:

* ``vendor``: case-insensitive substring of the vendor's name or short name;
* ``site``: the site code, compared case-insensitively;
* ``role``: case-insensitive substring of the role name;
* ``name_pattern``: shell-style ``*``/``?`` wildcards, anchored, case-insensitive, against
  the device name and its normalized name (every other character is literal);
* ``platform``: the exact Netmiko device type, or a list of them (any one matches).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vcollector.inventory.records import DeviceRecord

FILTER_KEYS = ("vendor", "site", "role", "name_pattern", "platform")


def wildcard_regex(pattern: str) -> re.Pattern[str]:
    """Compile a ``*``/``?`` wildcard pattern into an anchored, case-insensitive regex."""
    parts = (".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class DeviceFilterSpec:
    """The filters of one job, normalised once."""

    vendor: str | None = None
    site: str | None = None
    role: str | None = None
    name_pattern: str | None = None
    platform: tuple[str, ...] = ()

    @classmethod
    def from_mapping(cls, options: Mapping[str, object] | None) -> DeviceFilterSpec:
        """Build from a job's ``device_filter`` (unknown keys are ignored, blanks mean "any")."""
        values: dict[str, object] = {}
        for key in FILTER_KEYS:
            value = (options or {}).get(key)
            if value is None:
                continue
            if key == "platform" and isinstance(value, list | tuple):
                if not all(isinstance(item, str) for item in value):
                    raise TypeError("device_filter.platform must be text or a list of text")
                platforms = tuple(dict.fromkeys(item.strip().lower() for item in value if item.strip()))
                if platforms:
                    values[key] = platforms
                continue
            if not isinstance(value, str):
                raise TypeError(f"device_filter.{key} must be text, not {type(value).__name__}")
            if value.strip():
                values[key] = (value.strip().lower(),) if key == "platform" else value.strip()
        return cls(**values)  # type: ignore[arg-type]

    @cached_property
    def _name_regex(self) -> re.Pattern[str] | None:
        return wildcard_regex(self.name_pattern) if self.name_pattern else None

    def matches(self, device: DeviceRecord) -> bool:
        """Tell whether ``device`` passes every filter that is set."""
        if self.vendor:
            wanted = self.vendor.casefold()
            names = (device.vendor or "", device.vendor_short_name or "")
            if not any(wanted in name.casefold() for name in names):
                return False
        if self.site and (device.site or "").casefold() != self.site.casefold():
            return False
        if self.role and self.role.casefold() not in (device.role or "").casefold():
            return False
        if self.platform and device.platform not in self.platform:
            return False
        regex = self._name_regex
        return regex is None or any(regex.fullmatch(name) for name in (device.name, device.normalized_name))

    def without_platform(self) -> DeviceFilterSpec:
        """The same filters but the platform one (to tell what the platform filter excluded)."""
        return DeviceFilterSpec(self.vendor, self.site, self.role, self.name_pattern)

    def items(self) -> list[tuple[str, str]]:
        """The filters that are set, as ``(key, shown value)``; a platform list comma-joined."""
        shown = []
        for key in FILTER_KEYS:
            value = getattr(self, key)
            if value:
                shown.append((key, ", ".join(value) if isinstance(value, tuple) else str(value)))
        return shown

    def describe(self) -> str:
        """The filters as ``key=value`` text, or ``(none)``."""
        return ", ".join(f"{key}={value}" for key, value in self.items()) or "(none)"
