"""CLI helpers: debug folders, credential names, printable text."""

from __future__ import annotations

import stat
from pathlib import Path

from vcollector.cli import common
from vcollector.config.paths import vcollector_home
from vcollector.jobs.model import parse_job
from vcollector.ui.text import printable


def test_two_debug_runs_in_one_second_get_their_own_private_folders() -> None:
    first, second = common.debug_log_dir("20261201_120000"), common.debug_log_dir("20261201_120000")
    assert first != second
    assert first.name.startswith("20261201_120000-")
    for path in (first, second, vcollector_home(), vcollector_home() / "debug"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path


def test_credential_chain_of_a_job() -> None:
    job = parse_job({"job_id": 1, "commands": {"command": "x"}, "credentials": {"credential_set": "tacacs"}})
    default = parse_job(
        {"job_id": 2, "commands": {"command": "x"}, "credentials": {"credential_set": "default"}}
    )
    listed = parse_job(
        {"job_id": 3, "commands": {"command": "x"}, "credentials": {"credential_set": ["a", "b"]}}
    )
    assert common.job_credentials(job, []) == ("tacacs",)
    assert common.job_credentials(default, []) == ()  # config.toml's rules, then the vault default
    assert common.job_credentials(listed, []) == ("a", "b")
    assert common.job_credentials(job, common.names("local, tacacs,")) == ("local", "tacacs")


def test_control_characters_are_shown_not_sent() -> None:
    assert printable("ok\ttab") == "ok\ttab"
    assert printable("\x1b[31mred\x1b[0m\x07\n\x9b") == "\\x1b[31mred\\x1b[0m\\x07\\x0a\\x9b"


def test_home_is_where_the_test_put_it() -> None:
    assert isinstance(vcollector_home(), Path)
