"""TextFSM validation from the job file to the results: the step carries it, the store applies it,
the results count invalid devices apart, --json and the console say so, the history keeps only
what was saved. Real job files, real templates, real files and a real history repository."""

from __future__ import annotations

import io
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tests.unit.parsing.test_validation import NOT_A_VERSION, raw
from vcollector.cancellation import Cancellation
from vcollector.collection.outcome import DeviceOutcome
from vcollector.collection.tasks import JobStep
from vcollector.inventory.records import DeviceRecord
from vcollector.jobs.model import load_job, parse_job
from vcollector.parsing import TfsmValidation
from vcollector.run.history import record_history
from vcollector.run.plan import JobPlan
from vcollector.run.results import JobResult
from vcollector.run.results_json import results_document
from vcollector.run.spec import RunSpec
from vcollector.run.store import CaptureStore
from vcollector.run.work import build_work
from vcollector.storage.captures import CaptureTarget
from vcollector.storage.history import History
from vcollector.ui.console import Reporter

REAL_JOBS = Path(__file__).resolve().parents[2] / "fixtures" / "jobs_v2_original"
VERSION = raw("cisco_ios", "show version")
NTP = "Clock is synchronized, stratum 3, reference is 10.0.0.1\n"
NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)


def _device(device_id: int, name: str, platform: str = "cisco_ios") -> DeviceRecord:
    return DeviceRecord(
        device_id, name, name, f"127.0.0.{device_id + 1}", 22, platform, None, "Cisco", None, None, None
    )


def _job(job_id: int, command: str = "show version", **validation: Any) -> dict[str, Any]:
    job: dict[str, Any] = {
        "job_id": job_id,
        "capture_type": "version",
        "commands": {"command": command, "output_directory": "version"},
    }
    if validation:
        job["validation"] = validation
    return job


def _plan(tmp_path: Path, data: dict[str, Any], devices: list[DeviceRecord]) -> JobPlan:
    job = parse_job(data)
    return JobPlan(Path(f"{job.id}.json"), job, devices, CaptureTarget(tmp_path / "c", job, "t"))


def _run(plan: JobPlan, outputs: dict[str, str | None], spec: RunSpec | None = None) -> JobResult:
    """What collect_jobs and the store make of each device's output (None: the device failed)."""
    work = build_work([plan], spec or RunSpec(db_path=Path("x")))
    store = CaptureStore(Cancellation())
    outcomes = []
    for item in work.items:
        (step,) = item.steps
        outcomes.append(store(_collected(item.device, step, outputs[item.device.name])))
    return JobResult(plan, outcomes, NOW, NOW)


def _collected(device: DeviceRecord, step: JobStep, output: str | None) -> DeviceOutcome:
    return DeviceOutcome(
        name=device.name, address=device.address, device_id=device.id, ok=output is not None,
        reason=None if output is not None else "connection refused",
        failure=None if output is not None else "connect", started=NOW, ended=NOW,
        plan_index=step.plan_index, output=output,
        spans=((step.commands[-1], 0, len(output)),) if output is not None else (),
        target=step.path, platform=device.platform, history=step.history, validation=step.validation,
    )  # fmt: skip


def test_the_job_files_validation_reaches_each_step(tmp_path: Path) -> None:
    devices = [_device(1, "r1")]
    asked = _plan(tmp_path, _job(1, use_tfsm=True, tfsm_filter="show_version", store_failures=True), devices)
    (step,) = build_work([asked], RunSpec(db_path=Path("x"), force_save=True)).items[0].steps
    assert step.validation == TfsmValidation("show_version", 1, store_failures=True, force_save=True)
    for data in (_job(2), _job(3, use_tfsm=False, tfsm_filter="show_version")):
        (step,) = build_work([_plan(tmp_path, data, devices)], RunSpec(db_path=Path("x"))).items[0].steps
        assert step.validation is None


def test_every_real_job_file_that_asks_for_tfsm_gets_it(tmp_path: Path) -> None:
    asking = 0
    for path in sorted(REAL_JOBS.glob("*.json")):
        job = load_job(path)
        plan = JobPlan(path, job, [_device(1, "r1")], CaptureTarget(tmp_path, job, "t"))
        (step,) = build_work([plan], RunSpec(db_path=Path("x"))).items[0].steps
        assert (step.validation is not None) == job.validation.use_tfsm, path.name
        if step.validation is not None:
            asking += 1
            assert step.validation.min_score == 1 and step.validation.store_failures
            assert step.validation.hint == job.validation.tfsm_filter
    assert asking == 59


def _three(tmp_path: Path, spec: RunSpec | None = None) -> JobResult:
    plan = _plan(
        tmp_path,
        _job(397, use_tfsm=True, tfsm_filter="show_version", min_score=1, store_failures=True),
        [_device(1, "r1"), _device(2, "r2"), _device(3, "r3")],
    )
    (tmp_path / "c" / "version").mkdir(parents=True, exist_ok=True)
    (tmp_path / "c" / "version" / "r2.txt").write_text("the last good capture\n")
    return _run(plan, {"r1": VERSION, "r2": NOT_A_VERSION, "r3": None}, spec)


def test_an_invalid_device_is_counted_apart_and_fails_the_job(tmp_path: Path) -> None:
    result = _three(tmp_path)
    assert [o.name for o in result.succeeded] == ["r1"]
    assert [o.name for o in result.invalid] == ["r2"]
    assert [o.name for o in result.failed] == ["r3"]
    assert [o.name for o in result.saved] == ["r1"]
    assert not result.ok  # the run exits 1
    only_valid = _run(_plan(tmp_path, _job(5, use_tfsm=True), [_device(1, "r1")]), {"r1": VERSION})
    assert only_valid.ok and not only_valid.invalid


def test_the_results_file_says_invalid_with_the_reason_and_the_records(tmp_path: Path) -> None:
    document = results_document("run_job", [_three(tmp_path)], NOW, NOW)
    (job,) = document["jobs"]
    devices = {device["name"]: device for device in job["devices"]}
    assert [devices[name]["status"] for name in ("r1", "r2", "r3")] == ["success", "invalid", "failed"]
    assert devices["r2"]["reason"] == "0 records from template cisco_ios_show_version (min_score 1)"
    assert devices["r2"]["failure"] is None and devices["r2"]["capture_path"] is None
    assert devices["r2"]["invalid_path"] == str(tmp_path / "c" / "version" / ".invalid" / "r2.txt")
    assert devices["r1"]["records"] == 1
    assert devices["r1"]["records_path"] == str(tmp_path / "c" / "version" / "r1.json")
    assert devices["r3"]["records"] is None and devices["r3"]["reason"] == "connection refused"
    assert (job["status"], job["devices_invalid"], job["devices_failed"], job["warnings"]) == (
        "failed",
        1,
        1,
        [],
    )
    assert document["totals"]["devices_invalid"] == 1 and document["totals"]["devices_succeeded"] == 1
    assert document["status"] == "failed"


def test_the_console_marks_invalid_devices_and_lists_them(tmp_path: Path) -> None:
    result = _three(tmp_path)
    stream = io.StringIO()
    reporter = Reporter(stream)
    for position, outcome in enumerate(result.outcomes, 1):
        reporter.device_done(result.plan, outcome, position, 3)
    reporter.job_results(result, saving=True)
    lines = stream.getvalue().splitlines()
    assert "  [1/3] ✓ 127.0.0.2 - 0ms" in lines
    assert (
        "  [2/3] ! 127.0.0.3 - 0ms - r2: invalid: 0 records from template cisco_ios_show_version "
        "(min_score 1); not saved, output kept in .invalid/r2.txt"
    ) in lines
    assert "Results: 1 success, 1 failed, 1 invalid" in lines
    assert f"  - r1: r1.txt ({len(VERSION.encode()):,} bytes), 1 record in r1.json" in lines
    assert lines[lines.index("Invalid 1 device:") + 1] == (
        "  - r2 (127.0.0.3): invalid: 0 records from template cisco_ios_show_version (min_score 1); "
        "not saved, output kept in .invalid/r2.txt"
    )
    quiet = io.StringIO()
    Reporter(quiet, quiet=True).job_results(result, saving=True)
    assert "Invalid 1 device:" in quiet.getvalue()  # like failures, also under --quiet


def test_force_save_is_said_on_the_device_line(tmp_path: Path) -> None:
    result = _three(tmp_path, RunSpec(db_path=Path("x"), force_save=True))
    assert [o.name for o in result.saved] == ["r1", "r2"] and [o.name for o in result.invalid] == ["r2"]
    assert (tmp_path / "c" / "version" / "r2.txt").read_text() == NOT_A_VERSION
    stream = io.StringIO()
    Reporter(stream).device_done(result.plan, result.invalid[0], 2, 3)
    assert stream.getvalue().endswith("(min_score 1); saved anyway (--force-save)\n")


def test_the_run_jobs_lines_and_summary_count_invalid_only_when_there_are(tmp_path: Path) -> None:
    result = _three(tmp_path)
    plain = _run(_plan(tmp_path, _job(7), [_device(1, "r1")]), {"r1": VERSION})
    stream = io.StringIO()
    reporter = Reporter(stream)
    reporter.job_finished(result)
    reporter.job_finished(plain)
    reporter.summary([result, plain], 1.0, saving=True)
    text = stream.getvalue()
    assert "[397] ✗ Complete: 1/3 success, 1 invalid in 0ms" in text
    assert "[397]   ! r2 (127.0.0.3): invalid: 0 records from template cisco_ios_show_version" in text
    assert "[7] ✓ Complete: 1/1 success in 0ms" in text
    assert "Devices: 2 success, 1 failed, 1 invalid" in text
    assert "Invalid devices (1):\n  - [397] r2 (127.0.0.3): invalid: 0 records" in text
    alone = io.StringIO()
    Reporter(alone).summary([plain], 1.0, saving=True)
    assert "Devices: 1 success, 0 failed\n" in alone.getvalue() and "nvalid" not in alone.getvalue()


def test_no_template_is_one_warning_per_job_whatever_the_devices(tmp_path: Path) -> None:
    devices = [_device(1, "r1"), _device(2, "r2"), _device(3, "nx1", "cisco_nxos")]
    plan = _plan(tmp_path, _job(365, "show ntp status", use_tfsm=True, tfsm_filter="status"), devices)
    result = _run(plan, {"r1": NTP, "r2": NTP, "nx1": NTP})
    assert result.ok and len(result.saved) == 3 and not result.invalid
    assert result.warnings == [
        "no TextFSM template for cisco_ios 'show ntp status' (2 devices), "
        "cisco_nxos 'show ntp status' (1 device): not validated"  # in a stable order
    ]
    stream = io.StringIO()
    reporter = Reporter(stream)
    reporter.job_results(result, saving=True)
    reporter.job_finished(result)
    reporter.summary([result], 1.0, saving=True)
    text = stream.getvalue()
    assert text.count("no TextFSM template") == 3  # run_job's block, run_jobs' line, the summary
    assert f"\nWarning: {result.warnings[0]}\n" in text
    assert f"[365]   Warning: {result.warnings[0]}\n" in text
    assert f"Warnings (1):\n  - [365] {result.warnings[0]}\n" in text
    (job,) = results_document("run_job", [result], NOW, NOW)["jobs"]
    assert job["warnings"] == result.warnings and job["status"] == "success"


def test_without_validation_the_output_is_what_it_was(tmp_path: Path) -> None:
    result = _run(_plan(tmp_path, _job(9), [_device(1, "r1"), _device(2, "r2")]), {"r1": VERSION, "r2": None})
    stream = io.StringIO()
    Reporter(stream).job_results(result, saving=True)
    assert stream.getvalue().splitlines()[1:5] == [
        "Results: 1 success, 1 failed",
        "",
        "Saved 1 capture:",
        f"  - r1: r1.txt ({len(VERSION.encode()):,} bytes)",
    ]
    assert not result.warnings and "Invalid" not in stream.getvalue()


def test_the_history_keeps_no_invalid_output_that_was_not_saved(tmp_path: Path) -> None:
    result = _three(tmp_path)
    assert record_history([result], "t1") == []
    entries = History(tmp_path / "c").index().entries
    assert sorted(entries) == ["version/r1.txt"]
    forced = _three(tmp_path, RunSpec(db_path=Path("x"), force_save=True))
    assert record_history([forced], "t2") == []
    entries = History(tmp_path / "c").index().entries
    assert sorted(entries) == ["version/r1.txt", "version/r2.txt"]
    (r2,) = forced.invalid
    assert r2.change == "new" and r2.revision
    history = History(tmp_path / "c")
    assert history.content("version/r2.txt") == NOT_A_VERSION.encode()
