"""From plans to work: shared sessions, credential groups, capture path claims (no sockets)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vcollector.inventory.records import DeviceRecord
from vcollector.jobs.model import parse_job
from vcollector.run.plan import JobPlan
from vcollector.run.spec import RunSpec
from vcollector.run.work import build_work
from vcollector.storage.captures import CaptureTarget

SPEC = RunSpec(db_path=Path("assets.db"))


def _device(device_id: int, name: str, normalized: str | None = None) -> DeviceRecord:
    return DeviceRecord(
        device_id, name, normalized or name, "127.0.0.2", 22, "cisco_ios", None, "Cisco", None, None, None
    )


def _plan(
    tmp_path: Path,
    job_id: int,
    devices: list[DeviceRecord],
    command: str = "show version",
    credentials: tuple[str, ...] = (),
    outdir: str | None = None,
    pattern: str = "{device_name}.txt",
) -> JobPlan:
    job = parse_job(
        {
            "job_id": job_id,
            "commands": {"command": command, "output_directory": outdir or str(job_id)},
            "execution": {"timeout": job_id, "inter_command_time": 0},
            "storage": {"filename_pattern": pattern},
        }
    )
    return JobPlan(
        Path(f"{job_id}.json"), job, devices, CaptureTarget(tmp_path, job, "t"), credentials=credentials
    )


def test_each_device_once_with_its_jobs_in_job_order(tmp_path: Path) -> None:
    r1, r2, r3 = _device(1, "r1"), _device(2, "r2"), _device(3, "r3")
    plans = [
        _plan(tmp_path, 10, [r2, r1]),
        JobPlan(Path("broken.json"), None, error="not valid JSON"),
        _plan(tmp_path, 30, [r3, r1], "show clock"),
    ]
    work = build_work(plans, SPEC)
    assert not work.blocked
    assert [item.host for item in work.items] == ["r1", "r2", "r3"]
    (first, *_rest) = work.items
    assert [(s.plan_index, s.commands, s.timeout) for s in first.steps] == [
        (0, ("show version",), 10.0),
        (2, ("show clock",), 30.0),
    ]
    assert first.steps[0].path == tmp_path / "10" / "r1.txt"
    unsaved = build_work(plans, RunSpec(Path("x"), save=False))
    assert all(step.path is None for item in unsaved.items for step in item.steps)


def test_jobs_with_other_credentials_log_in_separately(tmp_path: Path) -> None:
    r1 = _device(1, "r1")
    plans = [
        _plan(tmp_path, 1, [r1]),
        _plan(tmp_path, 2, [r1], credentials=("nxos",)),
        _plan(tmp_path, 3, [r1], credentials=("nxos",)),
    ]
    items = build_work(plans, SPEC).items
    assert [(item.credentials, [s.plan_index for s in item.steps]) for item in items] == [
        (("default",), [0]),
        (("nxos",), [1, 2]),
    ]
    assert len({item.host for item in items}) == 2


@pytest.mark.parametrize("other", ["edge/1", "edge:1", "EDGE_1 "])
def test_names_that_sanitise_alike_never_share_a_file(tmp_path: Path, other: str) -> None:
    clean, dirty = _device(1, "edge_1"), _device(2, other, other)
    work = build_work([_plan(tmp_path, 1, [dirty, clean])], SPEC)
    assert [item.device.id for item in work.items] == [1]  # the name that needed no sanitising wins
    (blocked,) = work.blocked
    assert blocked.device_id == 2 and not blocked.ok
    assert blocked.failure == "capture_clash"
    assert "_1.txt is also written by edge_1 (device 1)" in (blocked.reason or "")


def test_names_that_differ_in_case_only_share_no_file(tmp_path: Path) -> None:
    work = build_work(
        [_plan(tmp_path, 1, [_device(1, "core1", "core1"), _device(2, "CORE1", "CORE1")])], SPEC
    )
    assert [item.device.id for item in work.items] == [1]
    assert [outcome.device_id for outcome in work.blocked] == [2]


def test_dot_names_do_not_clash_silently(tmp_path: Path) -> None:
    work = build_work([_plan(tmp_path, 1, [_device(1, "."), _device(2, ".."), _device(3, "a")])], SPEC)
    paths = [step.path for item in work.items for step in item.steps]
    assert len(paths) == len(set(paths))
    assert len(work.items) + len(work.blocked) == 3


def test_the_same_file_from_two_jobs_is_written_by_the_first_only(tmp_path: Path) -> None:
    r1 = _device(1, "r1")
    plans = [_plan(tmp_path, 1, [r1], outdir="configs"), _plan(tmp_path, 2, [r1], outdir="configs")]
    work = build_work(plans, SPEC)
    assert [s.plan_index for item in work.items for s in item.steps] == [0]
    (blocked,) = work.blocked
    assert blocked.plan_index == 1
    assert "of job 1" in (blocked.reason or "")


def test_a_path_that_leaves_the_base_blocks_only_that_device(tmp_path: Path) -> None:
    base, outside = tmp_path / "base", tmp_path / "outside"
    outside.mkdir()
    (base / "1").mkdir(parents=True)
    (base / "1" / "link").symlink_to(outside)
    plan = _plan(base, 1, [_device(1, "r1")], pattern="link/{device_name}.txt")
    work = build_work([plan], SPEC)
    assert not work.items
    assert "would leave the capture directory" in (work.blocked[0].reason or "")


@pytest.mark.parametrize(
    ("processes", "sessions", "workers", "expected"),
    [(None, 10, 12, 1), (None, 99, 50, 1), (3, 10, 12, 3), (8, 2, 12, 2), (4, 100, 2, 2), (1, 1000, 50, 1)],
)
def test_process_count(processes: int | None, sessions: int, workers: int, expected: int) -> None:
    assert RunSpec(db_path=Path("x"), processes=processes).process_count(sessions, workers) == expected


def test_large_runs_use_every_core_but_not_more_than_the_work() -> None:
    spec = RunSpec(db_path=Path("x"))
    count = spec.process_count(1000, 50)
    assert 1 <= count <= 50
    assert spec.process_count(150, 50) <= 3  # at least ~50 devices per process


def test_spec_round_trips_through_json() -> None:
    spec = RunSpec(db_path=Path("/a/assets.db"), output_dir=Path("/b"), limit=3, strict_host_keys=True)
    assert RunSpec.from_json(spec.to_json()) == spec
