"""Our plugins in someone else's Nornir script: nornir_netmiko first, then our task."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from nornir import InitNornir
from nornir.core.filter import F
from nornir.core.plugins.inventory import InventoryPluginRegister, TransformFunctionRegister
from nornir_netmiko.tasks import netmiko_send_command

from tests.conftest import REPO, VAULT_PASSWORD
from vcollector.collection.tasks import collect_commands
from vcollector.credentials import store
from vcollector.credentials.vault import Credential, Vault
from vcollector_sim.assets import AssetRow, build_assets_db
from vcollector_sim.lean_fleet import PASSWORD, USERNAME, LeanDevice, LeanFleet, device_address


def test_collect_commands_reuses_a_connection_nornir_netmiko_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    devices = [LeanDevice(f"reuse-{i}", device_address(720 + i)) for i in range(2)]
    vault = Vault(tmp_path / "vault.db")
    vault.init(VAULT_PASSWORD)
    vault.unlock(VAULT_PASSWORD).add(
        Credential("lab", USERNAME, PASSWORD, enable_secret="lean-enable"), default=True
    )
    monkeypatch.setenv("VCOLLECTOR_VAULT_PASS", VAULT_PASSWORD)
    store._unlocked.clear()
    InventoryPluginRegister.auto_register()
    TransformFunctionRegister.auto_register()
    with LeanFleet(devices) as fleet:
        db = build_assets_db(
            tmp_path / "assets.db",
            [AssetRow(d.name, "cisco_ios", d.address, site="IAD2") for d in devices],
            port=fleet.port,
        )
        with InitNornir(
            inventory={
                "plugin": "AssetsDBInventory",
                "options": {"db_path": str(db)},
                "transform_function": "vcollector_credentials",
                "transform_function_options": {"vault_path": str(vault.path)},
            },
            runner={"plugin": "threaded", "options": {"num_workers": 4}},
            logging={"enabled": False},
        ) as nr:
            for host in nr.inventory.hosts.values():
                host.connection_options["netmiko"].extras["ssh_strict"] = False
            site = nr.filter(F(groups__contains="site__iad2"))
            assert sorted(site.inventory.hosts) == ["reuse-0", "reuse-1"]
            first = site.run(task=netmiko_send_command, command_string="show version")
            assert not first.failed, {h: r[0].exception for h, r in first.items()}
            ours = site.run(task=collect_commands, commands=["enable", "show running-config"], timeout=20)
            assert not ours.failed, {h: r[0].exception for h, r in ours.items()}
            assert "hostname reuse-0\n" in ours["reuse-0"][0].result
            assert all(
                "netmiko" in host.connections for host in site.inventory.hosts.values()
            )  # still theirs
            again = site.run(task=netmiko_send_command, command_string="show clock")
            assert not again.failed
        logins = dict(fleet.stats.logins)
    assert logins == {"reuse-0": 1, "reuse-1": 1}  # one login each, shared by both libraries' tasks


def test_the_readme_example_runs(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Reusing the Nornir plugins", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    devices = [LeanDevice(f"leaf-{i}", device_address(730 + i)) for i in range(2)]
    home = Path(os.environ["HOME"])
    vault = Vault(tmp_path / "vault.db")
    vault.init(VAULT_PASSWORD)
    vault.unlock(VAULT_PASSWORD).add(Credential("lab", USERNAME, PASSWORD, enable_secret="lean-enable"))
    with LeanFleet(devices) as fleet:
        db = home / ".velocitycmdb" / "data" / "assets.db"
        db.parent.mkdir(parents=True)
        rows = [AssetRow(d.name, "cisco_ios", d.address, site="IAD2") for d in devices]
        others = [
            AssetRow("fra", "cisco_ios", device_address(739), site="FRA1"),
            AssetRow("nx", "cisco_nxos", "x"),
        ]
        build_assets_db(db, [*rows, *others], port=fleet.port)
        script = tmp_path / "example.py"
        script.write_text(code)
        env = {**os.environ, "VCOLLECTOR_VAULT": str(vault.path), "VCOLLECTOR_VAULT_PASS": VAULT_PASSWORD}
        done = subprocess.run(
            [sys.executable, str(script)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "FAILED" not in done.stdout, done.stdout
    assert sorted(line.split()[0] for line in done.stdout.splitlines() if "Cisco IOS Software" in line) == [
        "leaf-0",
        "leaf-1",
    ]
