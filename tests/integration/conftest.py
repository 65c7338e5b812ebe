"""A simulated fleet on loopback, shared by the integration tests, plus per-test inventories."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import VAULT_PASSWORD, CliResult, run_cli
from vcollector.credentials.vault import Credential, Vault
from vcollector_sim.assets import AssetRow, build_assets_db
from vcollector_sim.fleet import FakeDevice, Fleet, FleetSpec, loopback_address

DEVICES = (
    ("r1", "cisco_ios", "IAD2", "access"),
    ("r2", "cisco_ios", "IAD2", "core"),
    ("r3", "cisco_ios", "FRA1", "access"),
    ("sw1", "arista_eos", "FRA1", "leaf"),
    ("sw2", "arista_eos", "IAD2", "leaf"),
    ("mx1", "juniper_junos", "IAD2", "edge"),
    ("mx2", "juniper_junos", "FRA1", "edge"),
    ("nx1", "cisco_nxos", "FRA1", "leaf"),
    ("locked-out", "cisco_ios", "IAD2", "access"),  # accepts another password only
)

CONFIG_COMMAND = {
    "cisco_ios": "enable,terminal length 0,show running-config,,",
    "arista_eos": "enable,terminal length 0,show running-config,,",
    "juniper_junos": "show configuration | display set",
    "cisco_nxos": "terminal length 0,show running-config",
}
HOSTNAME_LINE = {
    "cisco_ios": "hostname {name}",
    "arista_eos": "hostname {name}",
    "juniper_junos": "set system host-name {name}",
    "cisco_nxos": "hostname {name}",
}


@dataclass
class Lab:
    """The running fleet, its vault, and helpers to write inventories and jobs."""

    fleet: Fleet
    devices: dict[str, FakeDevice]
    vault: Path

    def assets(self, path: Path, names: Sequence[str] | None = None, extra: Sequence[AssetRow] = ()) -> Path:
        chosen = [name for name, *_ in DEVICES if name != "locked-out"] if names is None else names
        rows = []
        for name, platform, site, role in DEVICES:
            if name in chosen:
                rows.append(
                    AssetRow(
                        name,
                        platform,
                        self.devices[name].address,
                        site=site,
                        role=role,
                        model=f"{platform}-model",
                    )
                )
        return build_assets_db(path, [*rows, *extra], port=self.fleet.port)

    def env(self, db: Path, captures: Path, **extra: str) -> dict[str, str]:
        return {
            "VCOLLECTOR_ASSETS_DB": str(db),
            "VCOLLECTOR_VAULT": str(self.vault),
            "VCOLLECTOR_CAPTURE_DIR": str(captures),
            "VELOCITYCMDB_VAULT_PASS": VAULT_PASSWORD,
            **extra,
        }


def write_lean_vault(path: Path, enable_secret: str | None = None) -> Path:
    """A vault at ``path`` whose default credential ``lab`` logs in to the lean fleet."""
    from vcollector_sim.lean_fleet import PASSWORD, USERNAME

    store = Vault(path)
    store.init(VAULT_PASSWORD)
    credential = Credential("lab", USERNAME, PASSWORD, enable_secret=enable_secret)
    store.unlock(VAULT_PASSWORD).add(credential, default=True)
    return store.path


def lean_env(db: Path, vault: Path, captures: Path) -> dict[str, str]:
    """Environment for a run against a lean fleet's assets.db and vault."""
    return {
        "VCOLLECTOR_ASSETS_DB": str(db),
        "VCOLLECTOR_VAULT": str(vault),
        "VCOLLECTOR_CAPTURE_DIR": str(captures),
        "VELOCITYCMDB_VAULT_PASS": VAULT_PASSWORD,
    }


def write_job(path: Path, **fields: Any) -> Path:
    """A v2.0 job file; ``fields`` override sections (merged one level deep)."""
    job: dict[str, Any] = {
        "version": "2.0",
        "job_id": path.stem,
        "capture_type": "configs",
        "device_filter": {"vendor": None, "site": None, "role": None, "name_pattern": None},
        "commands": {"command": "show version", "output_directory": "configs"},
        "execution": {"timeout": 20, "inter_command_time": 0, "max_workers": 12},
        "storage": {"filename_pattern": "{device_name}.txt"},
    }
    for key, value in fields.items():
        if isinstance(value, dict) and isinstance(job.get(key), dict):
            job[key] = {**job[key], **value}
        else:
            job[key] = value
    path.write_text(json.dumps(job))
    return path


def config_job(path: Path, platform: str, **fields: Any) -> Path:
    """A job collecting the configuration of every device of ``platform``."""
    return write_job(
        path,
        device_filter={"platform": platform},
        commands={"command": CONFIG_COMMAND[platform], "output_directory": "configs"},
        **fields,
    )


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    devices = [
        FakeDevice(
            name, platform, loopback_address(index), password="other-pass" if name == "locked-out" else None
        )
        for index, (name, platform, *_rest) in enumerate(DEVICES)
    ]
    spec = FleetSpec(devices)
    vault_path = tmp_path_factory.mktemp("vault") / "collector.db"
    vault = Vault(vault_path)
    vault.init(VAULT_PASSWORD)
    unlocked = vault.unlock(VAULT_PASSWORD)
    unlocked.add(Credential("lab", spec.username, spec.password), default=True)
    unlocked.add(Credential("wrong", spec.username, "not-the-password"))
    with Fleet(spec) as fleet:
        yield Lab(fleet, {device.name: device for device in devices}, vault_path)


def run_job(*args: str, env: dict[str, str]) -> CliResult:
    return run_cli("vcollector.run_job", *args, env=env)


def run_jobs(*args: str, env: dict[str, str]) -> CliResult:
    return run_cli("vcollector.run_jobs_concurrent", *args, env=env)
