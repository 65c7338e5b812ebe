"""What vcollector knows of each platform's CLI, by Netmiko device type.

Only the platforms we simulate and test (IOS, IOS-XE, NX-OS, EOS, Junos) get the faster
paths; every other platform keeps Netmiko's own behaviour and our safe defaults.
"""

from __future__ import annotations

# Netmiko drivers whose session preparation already switches paging off: a job's own
# paging command would only repeat it (two more round trips per device).
PAGING_DISABLED_BY_NETMIKO = frozenset(
    {
        "cisco_ios",
        "cisco_xe",
        "cisco_nxos",
        "cisco_xr",
        "cisco_asa",
        "arista_eos",
        "juniper_junos",
        "juniper",
        "hp_procurve",
    }
)


def paging_disabled_by_netmiko(platform: str) -> bool:
    """True when Netmiko's session preparation has switched paging off already."""
    return platform in PAGING_DISABLED_BY_NETMIKO
