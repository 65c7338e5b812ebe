"""Read-only by default: which commands would change a device."""

from __future__ import annotations

import pytest

from tests.unit.jobs.test_model import REAL_JOBS, load_job
from vcollector.errors import JobFileError
from vcollector.jobs.commands import changing_reason
from vcollector.jobs.model import parse_job


@pytest.mark.parametrize(
    "command",
    [
        "configure terminal", "conf t", "config", "write memory", "wr", "copy running-config startup-config",
        "delete flash:x", "erase startup-config", "reload", "rel", "clear counters", "cle ip bgp *", "debug ip packet",
        "request system reboot", "commit", "rollback 1", "set date 2026", "file delete /var/tmp/x", "start shell",
        "show running-config | redirect flash:cfg", "show tech | tee flash:t", "show config | save /tmp/x",
        "no debug all", "format flash:", "install add file x", "bash rm -rf /",
    ],
)  # fmt: skip
def test_changing_commands_are_recognised(command: str) -> None:
    assert changing_reason(command), command


@pytest.mark.parametrize(
    "command",
    [
        "show running-config", "sh run", "show ip bgp | begin Network", "show configuration | display set",
        "terminal length 0", "term len 0", "set cli screen-length 0", "enable", "disable", "dir flash:",
        "ping 10.0.0.1", "traceroute 10.0.0.1", "show log messages", "monitor traffic interface ge-0/0/0",
        "show tech-support", "show run | include hostname", "screen-length 0 temporary",
    ],
)  # fmt: skip
def test_reading_commands_are_not(command: str) -> None:
    assert changing_reason(command) is None, command


def test_a_changing_job_is_refused_unless_it_allows_changes() -> None:
    data = {"job_id": 1, "commands": {"command": "show version,conf t"}}
    with pytest.raises(JobFileError, match=r"commands\.command: 'conf t' would change the device"):
        parse_job(data)
    allowed = parse_job({**data, "execution": {"allow_changes": True}})
    assert allowed.command_list == ("show version", "conf t")


def test_all_real_job_files_are_read_only() -> None:
    for path in sorted(REAL_JOBS.glob("*.json")):
        job = load_job(path)
        assert not any(changing_reason(command) for command in job.command_list), path
