"""Device filter semantics, as pure functions over :class:`~vcollector.inventory.assets_db.DeviceRecord`.

All filters given are ANDed; an absent or empty filter matches everything:

* ``vendor``: case-insensitive substring of the vendor's name or short name;
* ``site``: the site code, compared case-insensitively;
* ``role``: case-insensitive substring of the role name;
* ``name_pattern``: shell-style ``*``/``?`` wildcards, anchored, case-insensitive, against
  the device name and its normalized name (every other character is literal);
* ``platform``: the exact Netmiko device type.
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
    platform: str | None = None

    @classmethod
    def from_mapping(cls, options: Mapping[str, object] | None) -> DeviceFilterSpec:
        """Build from a job's ``device_filter`` (unknown keys are ignored, blanks mean "any")."""
        values: dict[str, str] = {}
        for key in FILTER_KEYS:
            value = (options or {}).get(key)
            if value is None:
                continue
            if not isinstance(value, str):
                raise TypeError(f"device_filter.{key} must be text, not {type(value).__name__}")
            if value.strip():
                values[key] = value.strip()
        return cls(**values)

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
        if self.platform and device.platform != self.platform:
            return False
        regex = self._name_regex
        return regex is None or any(regex.fullmatch(name) for name in (device.name, device.normalized_name))

    def describe(self) -> str:
        """The filters as ``key=value`` text, or ``(none)``."""
        shown = [f"{key}={getattr(self, key)}" for key in FILTER_KEYS if getattr(self, key)]
        return ", ".join(shown) or "(none)"
