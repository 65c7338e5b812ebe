"""The Nornir entry points resolve, and the plugins work through InitNornir (no sockets)."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest
from nornir import InitNornir
from nornir.core.plugins.inventory import InventoryPluginRegister, TransformFunctionRegister

from tests.conftest import REPO
from vcollector.cli.run_jobs import spread_multi_value_options
from vcollector.credentials import store as credentials
from vcollector.credentials.vault import Credential, Vault
from vcollector.inventory.plugin import AssetsDBInventory
from vcollector.transport.credentials import apply_vault_credentials
from vcollector_sim.assets import AssetRow, build_assets_db


def test_entry_points_resolve() -> None:
    groups = metadata.entry_points()
    inventory = {ep.name: ep for ep in groups.select(group="nornir.plugins.inventory")}
    transform = {ep.name: ep for ep in groups.select(group="nornir.plugins.transform_function")}
    assert inventory["AssetsDBInventory"].load() is AssetsDBInventory
    assert transform["vcollector_credentials"].load() is apply_vault_credentials
    scripts = {ep.name: ep for ep in groups.select(group="console_scripts")}
    assert scripts["vcollector"].value == "vcollector.cli.app:main"


def test_init_nornir_with_our_plugins(tmp_path: Path) -> None:
    db = build_assets_db(
        tmp_path / "assets.db",
        [AssetRow("r1", "cisco_ios", "127.0.0.2", site="IAD2"), AssetRow("sw1", "arista_eos", "127.0.0.3")],
        port=2022,
    )
    vault = Vault(tmp_path / "vault.db")
    vault.init("vault-pass-1")
    vault.unlock("vault-pass-1").add(Credential("lab", "netops", "pw", enable_secret="en"), default=True)
    credentials.unlock(vault.path, "vault-pass-1")
    InventoryPluginRegister.auto_register()
    TransformFunctionRegister.auto_register()
    with InitNornir(
        inventory={
            "plugin": "AssetsDBInventory",
            "options": {"db_path": str(db), "device_filter": {"site": "iad2"}},
            "transform_function": "vcollector_credentials",
            "transform_function_options": {"credential": "lab", "vault_path": str(vault.path)},
        },
        logging={"enabled": False},
    ) as nr:
        assert list(nr.inventory.hosts) == ["r1"]
        host = nr.inventory.hosts["r1"]
        assert (host.hostname, host.port, host.platform, host.username) == (
            "127.0.0.2",
            2022,
            "cisco_ios",
            "netops",
        )
        assert host.data["site"] == "IAD2"
        assert host.connection_options["netmiko"].extras["secret"] == "en"


def test_jobs_option_takes_several_values() -> None:
    argv = ["--jobs", "a.json", "b.json", "--credential", "lab", "-y"]
    assert spread_multi_value_options(argv) == [
        "--jobs",
        "a.json",
        "--jobs",
        "b.json",
        "--credential",
        "lab",
        "-y",
    ]


def test_shipped_nornir_config_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = build_assets_db(
        tmp_path / "assets.db",
        [AssetRow("sw9", "arista_eos", "127.0.0.9"), AssetRow("r9", "cisco_ios", "127.0.0.10")],
    )
    vault = Vault(tmp_path / "vault.db")
    vault.init("vault-pass-2")
    vault.unlock("vault-pass-2").add(Credential("lab", "automation", "pw"), default=True)
    monkeypatch.setenv("VCOLLECTOR_VAULT", str(vault.path))
    monkeypatch.setenv("VCOLLECTOR_VAULT_PASS", "vault-pass-2")
    config = REPO / "nornir_config" / "config.yaml"
    with InitNornir(
        config_file=str(config),
        inventory={"options": {"db_path": str(db), "device_filter": {"vendor": "arista"}}},
    ) as nr:
        assert list(nr.inventory.hosts) == ["sw9"]
        assert nr.inventory.hosts["sw9"].username == "automation"
