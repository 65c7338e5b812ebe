from __future__ import annotations

import json
from pathlib import Path

import pytest

from vcollector.errors import VCollectorError
from vcollector.jobs.sets import expand_job_paths


def _job_file(directory: Path, name: str) -> Path:
    path = directory / name
    path.write_text(json.dumps({"job_id": name, "commands": {"command": "x"}}))
    return path


def test_globs_are_expanded_sorted_and_deduplicated(tmp_path: Path) -> None:
    b = _job_file(tmp_path, "b.json")
    a = _job_file(tmp_path, "a.json")
    found = expand_job_paths([str(tmp_path / "*.json"), str(a)], None)
    assert found == [a, b]


def test_jobs_dir_takes_json_files_sorted(tmp_path: Path) -> None:
    _job_file(tmp_path, "z.json")
    _job_file(tmp_path, "m.json")
    (tmp_path / "notes.txt").write_text("x")
    assert [p.name for p in expand_job_paths([], tmp_path)] == ["m.json", "z.json"]


def test_unmatched_glob_and_missing_dir_are_errors(tmp_path: Path) -> None:
    with pytest.raises(VCollectorError, match="no job file matches"):
        expand_job_paths([str(tmp_path / "*.json")], None)
    with pytest.raises(VCollectorError, match="jobs directory not found"):
        expand_job_paths([], tmp_path / "missing")
