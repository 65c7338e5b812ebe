"""What a results file says to run again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vcollector.run.retry import load_retry


def _write(tmp_path: Path, jobs: list[dict[str, Any]], tool: str = "run_jobs_concurrent") -> Path:
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"schema": 1, "tool": tool, "jobs": jobs}))
    return path


def _device(device_id: int, status: str) -> dict[str, Any]:
    return {"device_id": device_id, "name": f"d{device_id}", "status": status}


def test_finished_jobs_retry_their_failed_devices_and_drop_when_none_failed(tmp_path: Path) -> None:
    retry = load_retry(_write(tmp_path, [
        {"job_id": "a", "file": "a.json", "status": "failed", "error": None,
         "devices": [_device(1, "success"), _device(2, "failed"), _device(3, "invalid")]},
        {"job_id": "b", "file": "b.json", "status": "success", "error": None, "devices": [_device(1, "success")]},
    ]))  # fmt: skip
    assert [job.label for job in retry.jobs] == ["a"]
    only = retry.jobs[0]
    assert (only.wanted(1), only.wanted(2), only.wanted(3), only.wanted(4)) == (False, True, True, False)
    assert retry.knows(Path("b.json")) and retry.find(Path("b.json")) is None


def test_jobs_that_stopped_short_or_never_ran_retry_everything_but_what_succeeded(tmp_path: Path) -> None:
    retry = load_retry(_write(tmp_path, [
        {"job_id": "a", "file": "a.json", "status": "failed", "error": "interrupted", "devices": [_device(1, "success")]},
        {"job_id": "b", "file": "b.json", "status": "not run"},
        {"job_id": "c", "file": "c.json", "status": "failed", "error": "commands.command: field required", "devices": []},
    ]))  # fmt: skip
    a, b, c = retry.jobs
    assert (a.wanted(1), a.wanted(2)) == (False, True)
    assert b.wanted(1) and c.wanted(7)
    assert a.describe == "all devices but the 1 that succeeded" and b.describe == "all devices"


def test_the_absolute_job_file_wins_over_the_one_given(tmp_path: Path) -> None:
    job = tmp_path / "jobs" / "a.json"
    retry = load_retry(_write(tmp_path, [{"job_id": "a", "file": "jobs/a.json", "job_file": str(job),
                                          "status": "not run"}]))  # fmt: skip
    assert retry.jobs[0].file == job and retry.find(job) is retry.jobs[0]
