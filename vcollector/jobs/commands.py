"""What a job's commands mean: paging, privilege, and (later) whether they change a device."""

from __future__ import annotations

import re

# Commands that only switch paging off. Netmiko already disables paging when it
# prepares a session, so their output (e.g. Junos "Screen length set to 0") is never
# part of a capture.
_PAGING_COMMAND = re.compile(
    r"^(?:term(?:inal)?\s+len(?:gth)?\s+0"
    r"|set\s+cli\s+screen-length\s+0"
    r"|term(?:inal)?\s+pager\s+0"
    r"|screen-length\s+0(?:\s+temporary)?"
    r"|no\s+page"
    r"|terminal\s+datadump)$",
    re.IGNORECASE,
)


def is_paging_command(command: str) -> bool:
    """Tell whether ``command`` only disables paging (its output is never captured)."""
    return bool(_PAGING_COMMAND.match(command.strip()))


def is_enable_command(command: str) -> bool:
    """Tell whether ``command`` asks for privileged mode (run as Netmiko's ``enable()``)."""
    return command.strip().lower() == "enable"
