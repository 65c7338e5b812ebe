"""Atomic writes: long names, stale temporary files of ours, and nobody else's files."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from vcollector.storage.atomic import remove_stale_partials, write_atomic


@pytest.mark.parametrize("length", [200, 238, 250, 255])
def test_names_up_to_the_file_system_limit_are_written(tmp_path: Path, length: int) -> None:
    tmp_path = tmp_path / "captures"
    name = "d" * (length - 4) + ".txt"
    assert write_atomic(tmp_path / name, "config\n") == 7
    assert (tmp_path / name).read_text() == "config\n"
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_multibyte_names_are_shortened_on_a_character_boundary(tmp_path: Path) -> None:
    name = "é" * 125 + ".txt"  # 254 bytes
    write_atomic(tmp_path / name, b"x")
    assert (tmp_path / name).read_bytes() == b"x"


def test_text_is_written_as_utf8_in_slices(tmp_path: Path) -> None:
    text = "café ✓\n" * 500_000  # more than one slice
    size = write_atomic(tmp_path / "big.txt", text)
    assert (tmp_path / "big.txt").read_bytes() == text.encode()
    assert size == len(text.encode())


def test_only_our_old_temporary_files_are_removed(tmp_path: Path) -> None:
    tmp_path = tmp_path / "captures"
    tmp_path.mkdir()
    old = tmp_path / ".r1.txt.ab12cd_9.partial"
    fresh = tmp_path / ".r2.txt.zz99yy00.partial"
    foreign = tmp_path / "notes.partial"
    capture = tmp_path / "r1.txt"
    for path in (old, fresh, foreign, capture):
        path.write_text("x")
    past = time.time() - 7200
    for path in (old, foreign, capture):
        os.utime(path, (past, past))
    assert remove_stale_partials([tmp_path, tmp_path / "missing"]) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([fresh.name, foreign.name, capture.name])
