"""The Netmiko names vcollector relies on, private ones included: this fails the day they go.

vcollector drives Netmiko's own connect steps one by one (to open the TCP socket itself,
put its host-key policy into the SSH client, and watch the channel before the session is
prepared), reads and writes the channel itself, and wakes Netmiko's polling loops. Each
name below is one of those contact points; ``pyproject.toml`` caps Netmiko below its next
major version for the same reason.
"""

from __future__ import annotations

import inspect
from importlib import metadata

import netmiko.base_connection
import pytest
from netmiko import BaseConnection
from netmiko.cisco_base_connection import CiscoBaseConnection

from vcollector.transport.netmiko_waits import _POLLING

# (attribute of BaseConnection, what we use it for)
CONTACT_POINTS = {
    "_modify_connection_params": "the first of Netmiko's connect steps (session._login)",
    "establish_connection": "the SSH login itself",
    "_build_ssh_client": "wrapped to put our host-key policy into the client",
    "_try_session_preparation": "Netmiko's own session preparation",
    "read_channel": "every read of a command's output",
    "write_channel": "every command and confirming RETURN",
    "enable": "privileged mode",
    "check_enable_mode": "whether a refused command needs enable",
    "exit_enable_mode": "the job's 'disable'",
    "is_alive": "whether a host's open connection can be reused",
    "disconnect": "closing (nornir_netmiko calls it)",
}
INSTANCE_ATTRIBUTES = (
    "remote_conn",
    "remote_conn_pre",
    "base_prompt",
    "RETURN",
    "sock",
    "read_timeout_override",
)
CONSTRUCTOR_OPTIONS = (
    "sock",
    "auto_connect",
    "fast_cli",
    "encoding",
    "disable_lf_normalization",
    "read_timeout_override",
    "system_host_keys",
    "alt_host_keys",
    "ssh_strict",
    "conn_timeout",
    "banner_timeout",
    "auth_timeout",
    "session_log",
    "secret",
    "pkey",
    "passphrase",
    "allow_agent",
)


@pytest.mark.parametrize("name", sorted(CONTACT_POINTS))
def test_methods_we_call_exist(name: str) -> None:
    assert callable(getattr(BaseConnection, name, None)), f"Netmiko lost {name}: {CONTACT_POINTS[name]}"


def test_constructor_takes_the_options_we_pass() -> None:
    parameters = inspect.signature(BaseConnection.__init__).parameters
    missing = [name for name in CONSTRUCTOR_OPTIONS if name not in parameters]
    assert not missing, missing


def test_instance_attributes_we_read_are_set_by_netmiko() -> None:
    source = inspect.getsource(BaseConnection)
    missing = [name for name in INSTANCE_ATTRIBUTES if f"self.{name}" not in source]
    assert not missing, missing


def test_cisco_enable_still_reads_the_secret_the_way_we_set_it() -> None:
    assert "secret" in inspect.signature(CiscoBaseConnection.__init__).parameters or "secret" in (
        inspect.signature(BaseConnection.__init__).parameters
    )


def test_the_polling_loops_we_wake_still_sleep_through_the_module_clock() -> None:
    # netmiko_waits replaces ``time`` in netmiko.base_connection; the loops must use it.
    assert netmiko.base_connection.time is not None
    for name in sorted(_POLLING):
        function = getattr(BaseConnection, name)
        assert "time.sleep(" in inspect.getsource(function), f"{name} no longer sleeps via time.sleep"


def test_the_netmiko_release_is_one_we_were_tested_with() -> None:
    major = int(metadata.version("netmiko").split(".")[0])
    assert major == 4  # pyproject: netmiko>=4.3,<5
