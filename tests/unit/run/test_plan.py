"""Shared-session work building and process counts (pure logic, no sockets)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vcollector.inventory.records import DeviceRecord
from vcollector.jobs.model import parse_job
from vcollector.run.backends.local import build_work
from vcollector.run.plan import JobPlan, RunSettings
from vcollector.storage.captures import CaptureTarget


def _device(device_id: int, name: str, normalized: str | None = None) -> DeviceRecord:
    return DeviceRecord(
        device_id, name, normalized or name, "127.0.0.2", 22, "cisco_ios", None, "Cisco", None, None, None
    )


def _plan(tmp_path: Path, job_id: int, devices: list[DeviceRecord], command: str = "show version") -> JobPlan:
    job = parse_job(
        {
            "job_id": job_id,
            "commands": {"command": command, "output_directory": str(job_id)},
            "execution": {"timeout": job_id, "inter_command_time": 0},
        }
    )
    return JobPlan(Path(f"{job_id}.json"), job, devices, CaptureTarget(tmp_path, job, "t"))


def test_each_device_once_with_its_jobs_in_job_order(tmp_path: Path) -> None:
    r1, r2, r3 = _device(1, "r1"), _device(2, "r2"), _device(3, "r3")
    plans = [
        _plan(tmp_path, 10, [r2, r1]),
        JobPlan(Path("broken.json"), None, error="not valid JSON"),
        _plan(tmp_path, 30, [r3, r1], "show clock"),
    ]
    entries, steps = build_work(plans, save=True)
    assert [name for name, _device_, _problem in entries] == ["r1", "r2", "r3"]
    assert [(s.plan_index, s.commands, s.timeout) for s in steps["r1"]] == [
        (0, ("show version",), 10.0),
        (2, ("show clock",), 30.0),
    ]
    assert [s.plan_index for s in steps["r2"]] == [0]
    assert [s.plan_index for s in steps["r3"]] == [2]
    assert all(s.target is not None for s in steps["r1"])
    _entries, unsaved = build_work(plans, save=False)
    assert all(s.target is None for s in unsaved["r1"])


def test_duplicate_names_get_a_problem_not_a_shared_session(tmp_path: Path) -> None:
    a, b = _device(1, "sw", "sw"), _device(2, "SW", "sw")
    entries, steps = build_work([_plan(tmp_path, 1, [a, b])], save=True)
    problems = {name: problem for name, _device_, problem in entries}
    assert problems["sw"] is None
    (other,) = set(problems) - {"sw"}
    assert other.startswith("sw#")
    assert "duplicate normalized_name" in (problems[other] or "")
    assert len(steps["sw"]) == len(steps[other]) == 1


@pytest.mark.parametrize(
    ("processes", "sessions", "workers", "expected"),
    [(None, 10, 12, 1), (None, 99, 50, 1), (3, 10, 12, 3), (8, 2, 12, 2), (4, 100, 2, 2), (1, 1000, 50, 1)],
)
def test_process_count(processes: int | None, sessions: int, workers: int, expected: int) -> None:
    assert RunSettings(db_path=Path("x"), processes=processes).process_count(sessions, workers) == expected


def test_large_runs_use_every_core_but_not_more_than_the_work() -> None:
    settings = RunSettings(db_path=Path("x"))
    count = settings.process_count(1000, 50)
    assert 1 <= count <= 50
    assert settings.process_count(150, 50) <= 3  # at least ~50 devices per process
