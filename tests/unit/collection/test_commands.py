"""tasks: which job commands leave privileged mode (the rest is tested against devices)."""

from __future__ import annotations

import pytest

from vcollector.collection.commands import is_disable_command as _is_disable_command


@pytest.mark.parametrize("command", ["disable", " DISABLE ", "disable 1"])
def test_disable_leaves_privileged_mode(command: str) -> None:
    assert _is_disable_command(command)


@pytest.mark.parametrize("command", ["disable clipaging", "show disabled-ports", "no disable", ""])
def test_other_commands_are_ordinary(command: str) -> None:
    assert not _is_disable_command(command)
