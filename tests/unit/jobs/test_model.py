from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import REPO
from vcollector.errors import JobFileError
from vcollector.jobs.commands import is_enable_command, is_paging_command
from vcollector.jobs.model import load_job, parse_job

# The 102 real job files from the field (copied unchanged from ../shared/fixtures).
REAL_JOBS = REPO / "tests" / "fixtures" / "jobs_v2_original"
SAMPLE_JOBS = REPO / "jobs_v2"


def _minimal(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {"job_id": 1, "commands": {"command": "show version"}}
    data.update(overrides)
    return data


def _write(tmp_path: Path, content: str) -> Path:
    path = tmp_path / "job.json"
    path.write_text(content)
    return path


def test_every_real_job_file_loads() -> None:
    files = sorted(REAL_JOBS.glob("*.json"))
    assert len(files) == 102
    for path in files:
        job = load_job(path)
        assert job.command_list, path
        assert all(entry == entry.strip() and entry for entry in job.command_list)


def test_sample_jobs_load() -> None:
    assert len(list(SAMPLE_JOBS.glob("*.json"))) >= 4
    for path in SAMPLE_JOBS.glob("*.json"):
        load_job(path)


def test_commands_paging_first_then_split_stripped_and_empties_dropped() -> None:
    job = parse_job(
        _minimal(commands={"paging_disable": "terminal length 0", "command": " enable, show run ,,"})
    )
    assert job.command_list == ("terminal length 0", "enable", "show run")
    assert job.command_text == "terminal length 0,enable,show run"


def test_command_may_be_a_json_list() -> None:
    job = parse_job(_minimal(commands={"command": ["show version", " ", "show clock"]}))
    assert job.command_list == ("show version", "show clock")


@pytest.mark.parametrize("job_id", [329, "329"])
def test_job_id_string_or_integer(job_id: object) -> None:
    assert parse_job(_minimal(job_id=job_id)).id == "329"


def test_defaults_follow_the_seed() -> None:
    job = parse_job(_minimal(capture_type="configs"))
    assert (job.execution.timeout, job.execution.inter_command_time, job.execution.max_workers) == (60, 1, 12)
    assert job.storage.filename_pattern == "{device_name}.txt"
    assert job.output_directory == "configs"


def test_null_output_directory_falls_back_to_capture_type() -> None:
    job = parse_job(_minimal(capture_type="arp", commands={"command": "x", "output_directory": None}))
    assert job.output_directory == "arp"


def test_unknown_keys_are_tolerated_and_listed() -> None:
    job = parse_job(_minimal(surprise=1, execution={"max_workers": 2, "turbo": True}))
    assert job.unknown_keys() == ["execution.turbo", "surprise"]


@pytest.mark.parametrize(
    ("content", "field", "fragment"),
    [
        ("{not json", None, "not valid JSON"),
        ("", None, "empty"),
        ("[1, 2]", None, "JSON object"),
        (json.dumps({"job_id": 1, "commands": {}}), "commands.command", "required"),
        (json.dumps({"job_id": 1}), "commands", "required"),
        (json.dumps(_minimal(execution={"max_workers": 0})), "execution.max_workers", "≥ 1"),
        (json.dumps(_minimal(execution={"max_workers": "many"})), "execution.max_workers", "wrong type"),
        (json.dumps(_minimal(execution={"timeout": -5})), "execution.timeout", "> 0"),
        (json.dumps(_minimal(execution={"inter_command_time": -1})), "execution.inter_command_time", "≥ 0"),
        (json.dumps(_minimal(commands={"command": 5})), "commands.command", "wrong type"),
        (json.dumps(_minimal(commands={"command": " , ,"})), "commands.command", "no command"),
        (
            json.dumps(_minimal(storage={"filename_pattern": "{hostname}.txt"})),
            "storage.filename_pattern",
            "unknown variable {hostname}",
        ),
        (
            json.dumps(_minimal(storage={"filename_pattern": "{device_name"})),
            "storage.filename_pattern",
            "malformed",
        ),
        (
            json.dumps(_minimal(commands={"command": "x", "output_directory": "../etc"})),
            "commands.output_directory",
            "leave",
        ),
        (
            json.dumps(_minimal(commands={"command": "x", "output_directory": "/etc"})),
            "commands.output_directory",
            "leave",
        ),
        (
            json.dumps(_minimal(storage={"filename_pattern": "../../{device_name}.txt"})),
            "storage.filename_pattern",
            "leave",
        ),
        (json.dumps(_minimal(job_id=None)), "job_id", ""),
        ('{"job_id": 1, "commands": {"command": "x"}, "execution": {"timeout": Infinity}}', None, "Infinity"),
        ('{"job_id": 1, "commands": {"command": "x"}, "execution": {"timeout": NaN}}', None, "NaN"),
        (json.dumps(_minimal(execution={"timeout": 1e12})), "execution.timeout", "≤ 86400"),
        (json.dumps(_minimal(execution={"max_workers": 10**9})), "execution.max_workers", "≤ 1000"),
        (json.dumps(_minimal(execution={"max_output_mb": 0})), "execution.max_output_mb", "> 0"),
        (
            json.dumps(_minimal(commands={"command": "x", "output_directory": "conf\u0000igs"})),
            "commands.output_directory",
            "control character",
        ),
        (
            json.dumps(_minimal(storage={"filename_pattern": "{device_name}\u0000.txt"})),
            "storage.filename_pattern",
            "control character",
        ),
        (json.dumps(_minimal(device_filter={"platform": [1, 2]})), "device_filter.platform", ""),
        (
            json.dumps({"version": "1.0", "commands": {"command_text": "show version"}}),
            None,
            "VelocityCMDB v1.0 job file; convert it with: vcollector jobs convert",
        ),
    ],
)
def test_bad_job_files_get_one_error_naming_file_and_field(
    tmp_path: Path, content: str, field: str | None, fragment: str
) -> None:
    path = _write(tmp_path, content)
    with pytest.raises(JobFileError) as caught:
        load_job(path)
    assert caught.value.field == field
    assert str(path) in str(caught.value)
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(JobFileError, match="file not found"):
        load_job(tmp_path / "nope.json")


@pytest.mark.parametrize(
    "command", ["terminal length 0", "term len 0", "set cli screen-length 0", "terminal pager 0"]
)
def test_paging_commands_are_recognised(command: str) -> None:
    assert is_paging_command(command)


@pytest.mark.parametrize("command", ["show terminal", "show running-config", "terminal length 24"])
def test_other_commands_are_not_paging(command: str) -> None:
    assert not is_paging_command(command)


def test_enable_is_recognised_only_alone() -> None:
    assert is_enable_command(" Enable ")
    assert not is_enable_command("enable secret x")


def test_platform_may_be_a_list_of_device_types() -> None:
    job = parse_job(_minimal(device_filter={"vendor": "cisco", "platform": ["cisco_ios", "CISCO_XE", " "]}))
    spec = job.device_filter.spec()
    assert spec.platform == ("cisco_ios", "cisco_xe")
    assert spec.describe() == "vendor=cisco, platform=cisco_ios, cisco_xe"


def test_output_cap_in_bytes() -> None:
    assert parse_job(_minimal()).max_output_bytes == 64 * 1024 * 1024
    assert parse_job(_minimal(execution={"max_output_mb": 0.5})).max_output_bytes == 512 * 1024
