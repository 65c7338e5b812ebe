"""VelocityCMDB's v1.0 job files (``pcng/jobs/*.json``) and their v2.0 form.

A v1.0 file names its job only in its file name (``job_331_juniper_configs.json``), keeps
the commands in ``commands.command_text`` with the paging command first, and filters by
``filters.vendor`` / ``filters.name``. The v2.0 form is what the field's migration wrote
(the 102 real v2.0 files carry a ``legacy_v1`` block showing what it kept): the paging
command moves to ``commands.paging_disable``, the job id and capture type come from the
file name, and the v1.0 command text, session file and vendor are kept under
``legacy_v1``. A v1.0 file's user name, key path and UI state are not carried over.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from vcollector.jobs.commands import is_paging_command

_FILE_NAME = re.compile(r"^job_(?P<id>\d+)_(?P<vendor>[a-z]+(?:-[a-z]+)?)_(?P<type>.+?)(?:\.json)?$", re.I)
# The platform filter a v1.0 vendor token meant (v1's runner kept IOS jobs off NX-OS boxes).
_PLATFORMS: dict[str, str | list[str]] = {
    "cisco-ios": ["cisco_ios", "cisco_xe"],
    "cisco-nxos": "cisco_nxos",
    "arista": "arista_eos",
    "juniper": "juniper_junos",
}


def is_v1(data: dict[str, Any]) -> bool:
    """True for a VelocityCMDB v1.0 job file."""
    commands = data.get("commands")
    v1_shape = isinstance(commands, dict) and "command_text" in commands and "command" not in commands
    return str(data.get("version", "")).strip() == "1.0" or (v1_shape and "job_id" not in data)


def convert_v1(data: dict[str, Any], file_name: str, today: date | None = None) -> dict[str, Any]:
    """The v2.0 form of a v1.0 job (as a mapping, ready to be written as JSON)."""
    commands = data.get("commands") or {}
    filters = data.get("filters") or {}
    vendor_block = data.get("vendor") or {}
    named = _FILE_NAME.match(file_name)
    text = str(commands.get("command_text") or "")
    entries = [entry.strip() for entry in text.split(",") if entry.strip()]
    paging = entries.pop(0) if entries and is_paging_command(entries[0]) else None
    vendor = str(filters.get("vendor") or vendor_block.get("selected") or "").strip().lower() or None
    output_directory = str(commands.get("output_directory") or "").strip() or None
    capture_type = named.group("type") if named else (output_directory or "unknown")
    device_filter: dict[str, Any] = {
        "source": "database",
        "vendor": vendor,
        "site": None,
        "role": None,
        "name_pattern": str(filters.get("name") or "").strip() or None,
    }
    platform = str(filters.get("device_type") or "").strip() or (
        _PLATFORMS.get(named.group("vendor").lower()) if named else None
    )
    if platform:
        device_filter["platform"] = platform
    execution = data.get("execution") or {}
    return {
        "version": "2.0",
        "job_id": int(named.group("id")) if named else file_name.removesuffix(".json"),
        "capture_type": capture_type,
        "vendor": vendor,
        "credentials": {
            "source": "vault",
            "credential_set": "default",
            "fallback_env": "VELOCITYCMDB_VAULT_PASS",
        },
        "protocol": "ssh",
        "device_filter": device_filter,
        "commands": {
            "paging_disable": paging,
            "command": ",".join(entries),
            "output_directory": output_directory or capture_type,
        },
        "validation": {"use_tfsm": False, "min_score": 1, "store_failures": True},
        "execution": {
            "max_workers": int(execution.get("max_workers") or 12),
            "timeout": 60,
            "inter_command_time": 1,
        },
        "storage": {"base_path": "~/.vcollector/collections", "filename_pattern": "{device_name}.txt"},
        "legacy_v1": {
            "migrated_from": file_name,
            "migration_date": (today or date.today()).isoformat(),
            "original_command_text": text,
            "original_session_file": data.get("session_file"),
            "original_vendor_selected": vendor_block.get("selected"),
        },
    }
