"""The history repository: versions only for significant changes, never a lost version."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path

import pytest

from vcollector.errors import CaptureError
from vcollector.storage.history import HISTORY_DIR, Change, History
from vcollector.storage.history_index import INDEX_FILE, Entry, blob_id, fingerprint

CONFIG = "!\nhostname r1\n!\ninterface Gi1\n description uplink \n!\nend\n"


def _change(path: str, text: str, platform: str = "cisco_ios", name: str = "r1") -> Change:
    mark = fingerprint(text, platform)
    folder = path.rpartition("/")[0]
    entry = Entry(path, 1, name, name.lower(), folder, platform, mark.blob, mark.significant, "")
    return Change(entry, text.encode())


def test_blob_ids_are_gits(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"hello\n")
    expected = subprocess.run(
        ["git", "hash-object", str(tmp_path / "f")], capture_output=True, text=True
    ).stdout
    assert blob_id(b"hello\n") == expected.strip()


def test_new_then_unchanged_then_changed(tmp_path: Path) -> None:
    history = History(tmp_path)
    first = history.record([_change("configs/r1.txt", CONFIG)], "run 1")
    assert first["configs/r1.txt"].change == "new"
    assert first["configs/r1.txt"].lines_added == len(CONFIG.splitlines())
    volatile = "! Last configuration change at 10:00:00 UTC Mon Dec 1 2026\n" + CONFIG
    second = history.record([_change("configs/r1.txt", volatile)], "run 2")
    assert second["configs/r1.txt"].change == "unchanged"
    assert second["configs/r1.txt"].revision == first["configs/r1.txt"].revision
    edited = CONFIG.replace("uplink", "core uplink") + "ntp server 10.0.0.1\n"
    third = history.record([_change("configs/r1.txt", edited)], "run 3")["configs/r1.txt"]
    assert (third.change, third.lines_added, third.lines_removed) == ("changed", 2, 1)
    versions = history.versions("configs/r1.txt")
    assert [v.revision for v in versions] == [third.revision, first["configs/r1.txt"].revision]
    assert [v.run for v in versions] == ["run 3", "run 1"]
    assert (versions[0].lines_added, versions[0].lines_removed) == (2, 1)
    assert history.content("configs/r1.txt").decode() == edited
    assert history.content("configs/r1.txt", versions[1].revision[:8]).decode() == CONFIG


def test_a_run_with_nothing_changed_commits_nothing(tmp_path: Path) -> None:
    history = History(tmp_path)
    history.record([_change("configs/r1.txt", CONFIG)], "run 1")
    head = (tmp_path / HISTORY_DIR / "refs" / "heads" / "main").read_text()
    history.record([_change("configs/r1.txt", CONFIG)], "run 2")
    assert (tmp_path / HISTORY_DIR / "refs" / "heads" / "main").read_text() == head


def test_git_reads_it_and_files_are_private(tmp_path: Path) -> None:
    history = History(tmp_path)
    history.record([_change("configs/r1.txt", CONFIG), _change("a/b/deep.txt", "x\n", name="deep")], "run 1")
    history.record([_change("configs/r1.txt", CONFIG + "logging host 1.2.3.4\n")], "run 2")
    repo = tmp_path / HISTORY_DIR
    log = subprocess.run(["git", "-C", str(repo), "log", "-p", "main"], capture_output=True, text=True)
    assert log.returncode == 0, log.stderr
    assert "+logging host 1.2.3.4" in log.stdout and "Author: vcollector <vcollector@localhost>" in log.stdout
    shown = subprocess.run(
        ["git", "-C", str(repo), "show", "main:a/b/deep.txt"], capture_output=True, text=True
    )
    assert shown.stdout == "x\n"
    fsck = subprocess.run(["git", "-C", str(repo), "fsck", "--strict"], capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    assert stat.S_IMODE(repo.stat().st_mode) == 0o700
    for path in repo.rglob("*"):
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


def test_a_crash_after_the_commit_leaves_an_index_that_is_rebuilt(tmp_path: Path) -> None:
    history = History(tmp_path)
    history.record([_change("configs/r1.txt", CONFIG)], "run 1")
    index_file = tmp_path / HISTORY_DIR / INDEX_FILE
    stale = index_file.read_text()
    changed = history.record([_change("configs/r1.txt", CONFIG + "x\n")], "run 2")
    index_file.write_text(stale)  # as if the process died between the branch update and the index write
    (tmp_path / HISTORY_DIR / "refs" / "heads" / "main.lock").write_text(
        "dead"
    )  # dulwich's lock, left behind
    again = history.record([_change("configs/r1.txt", CONFIG + "x\n")], "run 3")
    assert again["configs/r1.txt"].change == "unchanged"
    assert again["configs/r1.txt"].revision == changed["configs/r1.txt"].revision
    assert len(history.versions("configs/r1.txt")) == 2


def test_a_lost_index_is_rebuilt_from_the_branch(tmp_path: Path) -> None:
    history = History(tmp_path)
    history.record([_change("configs/r1.txt", CONFIG)], "run 1")
    (tmp_path / HISTORY_DIR / INDEX_FILE).write_text("{damaged")
    assert (
        history.record([_change("configs/r1.txt", CONFIG)], "run 2")["configs/r1.txt"].change == "unchanged"
    )
    entries = json.loads((tmp_path / HISTORY_DIR / INDEX_FILE).read_text())["entries"]
    assert list(entries) == ["configs/r1.txt"]


def test_no_history_yet_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="no capture history"):
        History(tmp_path).versions("configs/r1.txt")


def test_runs_log_since(tmp_path: Path) -> None:
    history = History(tmp_path)
    history.record([_change("configs/r1.txt", CONFIG), _change("configs/r2.txt", CONFIG, name="r2")], "run 1")
    history.record([_change("configs/r2.txt", CONFIG + "y\n", name="r2")], "run 2")
    changes = history.log(since=0)
    assert [(kind, path, v.run) for v, kind, path in changes] == [
        ("changed", "configs/r2.txt", "run 2"),
        ("new", "configs/r1.txt", "run 1"),
        ("new", "configs/r2.txt", "run 1"),
    ]
    assert history.log(since=2**40) == []
