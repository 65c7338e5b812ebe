from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from vcollector.errors import CaptureError
from vcollector.jobs.model import parse_job
from vcollector.storage.captures import CaptureTarget, capture_base, safe_part, write_capture


def job(**storage: object) -> object:
    return parse_job(
        {"job_id": 7, "capture_type": "configs", "commands": {"command": "x"}, "storage": storage}
    )


def test_every_variable_renders(tmp_path: Path) -> None:
    target = CaptureTarget(
        tmp_path,
        job(filename_pattern="{job_id}/{capture_type}-{device_name}-{device_id}-{timestamp}.txt"),  # type: ignore[arg-type]
        "20261129_101500",
    )
    assert target.path_for("r1", 42) == tmp_path / "configs" / "7" / "configs-r1-42-20261129_101500.txt"


@pytest.mark.parametrize("name", ["../../etc/passwd", "a/b", "..", "x\\y", "bad\x00name"])
def test_device_names_cannot_escape_or_nest(tmp_path: Path, name: str) -> None:
    path = CaptureTarget(tmp_path, job(), "t").path_for(name, 1)  # type: ignore[arg-type]
    assert path.parent == tmp_path / "configs"
    assert "/" not in path.name and "\x00" not in path.name


def test_safe_part() -> None:
    assert safe_part("tor412.iad2") == "tor412.iad2"
    assert safe_part("..") == "_"
    assert safe_part("a/b:c") == "a_b_c"


def test_base_priority(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    the_job = job(base_path=str(tmp_path / "from-job"))
    assert capture_base(the_job, tmp_path / "cli") == tmp_path / "cli"  # type: ignore[arg-type]
    monkeypatch.setenv("VCOLLECTOR_CAPTURE_DIR", str(tmp_path / "env"))
    assert capture_base(the_job) == tmp_path / "env"  # type: ignore[arg-type]
    monkeypatch.delenv("VCOLLECTOR_CAPTURE_DIR")
    assert capture_base(the_job) == tmp_path / "from-job"  # type: ignore[arg-type]
    assert capture_base(job()) == Path("~/.vcollector/collections").expanduser()  # type: ignore[arg-type]


def test_write_is_0600_and_replaces(tmp_path: Path) -> None:
    path = tmp_path / "configs" / "r1.txt"
    assert write_capture(path, "one\n") == 4
    assert write_capture(path, "two ✓\n") == len("two ✓\n".encode())
    assert path.read_text() == "two ✓\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert os.listdir(path.parent) == ["r1.txt"]


def test_failed_write_keeps_the_previous_capture_and_leaves_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "captures" / "r1.txt"
    write_capture(path, "good\n")

    def disk_full(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(CaptureError, match="No space left on device"):
        write_capture(path, "new\n")
    assert path.read_text() == "good\n"
    assert os.listdir(path.parent) == ["r1.txt"]


def test_unwritable_base_is_a_capture_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(CaptureError, match="cannot write capture"):
        write_capture(blocker / "sub" / "r1.txt", "x")
