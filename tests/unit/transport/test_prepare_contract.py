"""What the lean preparation (:mod:`vcollector.transport.prepare`) takes from Netmiko and
paramiko: this fails the day one of them changes underneath it.

The lean way sends Netmiko's own preparation commands, in Netmiko's order, so each
platform's ``session_preparation`` is read here for them; it hands what it read back
through Netmiko's read buffer; and it sends the pty request through paramiko's message
layer without waiting for the reply.
"""

from __future__ import annotations

import inspect

import paramiko
import pytest
from netmiko import BaseConnection
from netmiko.ssh_dispatcher import CLASS_MAPPER
from paramiko.common import cMSG_CHANNEL_REQUEST

from vcollector.transport.prepare import DIALECTS, lean_platform


@pytest.mark.parametrize("platform", sorted(DIALECTS))
def test_the_setup_lines_are_netmikos_own_in_its_order(platform: str) -> None:
    source = inspect.getsource(CLASS_MAPPER[platform].session_preparation)
    defaults = {"terminal length 0": inspect.signature(BaseConnection.disable_paging).parameters["command"]}
    places = []
    for line in DIALECTS[platform].setup:
        if line in source:
            places.append(source.index(line))
        else:  # disable_paging() with its default command
            assert defaults[line].default == line, (platform, line)
            places.append(source.index("self.disable_paging("))
    assert places == sorted(places), f"{platform}: Netmiko prepares in another order now"


@pytest.mark.parametrize("platform", sorted(DIALECTS))
def test_escape_codes_are_set_where_netmiko_sets_them(platform: str) -> None:
    source = inspect.getsource(CLASS_MAPPER[platform].session_preparation)
    assert ("self.ansi_escape_codes = True" in source) == DIALECTS[platform].escape_codes, platform


def test_other_platforms_keep_netmikos_preparation() -> None:
    assert not lean_platform("cisco_asa") and not lean_platform("hp_procurve")


def test_what_was_read_goes_back_through_netmikos_read_buffer() -> None:
    assert "self._read_buffer" in inspect.getsource(BaseConnection.read_channel)


def test_the_pty_request_goes_through_paramikos_message_layer() -> None:
    assert callable(getattr(paramiko.Transport, "_send_user_message", None))
    assert isinstance(cMSG_CHANNEL_REQUEST, bytes)
    assert "self.remote_chanid" in inspect.getsource(paramiko.Channel)
    source = inspect.getsource(paramiko.Channel.get_pty)
    # The fields of our request are those paramiko writes itself, in its order.
    place = source.index("Message()")
    for field in ("cMSG_CHANNEL_REQUEST", "remote_chanid", '"pty-req"', "term", "width", "height"):
        place = source.index(field, place)  # ValueError: not there after the one before it
    assert callable(paramiko.Channel.invoke_shell) and callable(paramiko.Channel.update_environment)
    assert "def invoke_shell" in inspect.getsource(paramiko.SSHClient)
