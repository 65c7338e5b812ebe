"""The report's diffs: read from a real capture history (dulwich, in tmp_path), bounded."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.unit.ui.documents import Page
from vcollector.collection.outcome import DeviceOutcome
from vcollector.inventory.records import DeviceRecord
from vcollector.jobs.model import parse_job
from vcollector.run import report
from vcollector.run.plan import JobPlan
from vcollector.run.report import capture_diff, gather_report
from vcollector.run.results import JobResult
from vcollector.run.results_json import results_document
from vcollector.storage.captures import CaptureTarget
from vcollector.storage.history import Change, History
from vcollector.storage.history_index import Entry, blob_id, fingerprint
from vcollector.ui.report_html import write_report

START = datetime(2026, 11, 30, 2, 0, tzinfo=timezone.utc)
NAMES = ("r0", "r1", "r2")


def _config(name: str, extra: list[str]) -> str:
    body = [
        f"hostname {name}",
        "!",
        *(f"interface Gi0/{i}\n description port {i}" for i in range(30)),
        *extra,
    ]
    return "\n".join(body) + "\nend\n"


def _record(history: History, configs: dict[str, str], message: str) -> str:
    changes = []
    for index, (name, text) in enumerate(configs.items()):
        found = fingerprint(text, "cisco_ios")
        entry = Entry(
            f"configs/{name}.txt",
            index,
            name,
            name,
            "configs",
            "cisco_ios",
            found.blob,
            found.significant,
            "",
        )
        changes.append(Change(entry, text.encode()))
    recorded = history.record(changes, message)
    return next(iter(recorded.values())).revision or ""


def _run(base: Path, configs: dict[str, str], revision: str) -> tuple[dict[str, object], list[JobResult]]:
    """The document and results of a run that changed ``configs`` (written as their captures)."""
    job = parse_job({"job_id": 5, "commands": {"command": "show run", "output_directory": "configs"}})
    devices = [
        DeviceRecord(i, name, name, f"10.0.0.{i}", 22, "cisco_ios", f"SITE{i}", "Cisco", None, None, None)
        for i, name in enumerate(NAMES)
    ]
    plan = JobPlan(Path("/jobs/5.json"), job, devices, CaptureTarget(base, job, "t"))
    outcomes = []
    for i, name in enumerate(NAMES):
        path = base / "configs" / f"{name}.txt"
        outcomes.append(
            DeviceOutcome(
                name,
                f"10.0.0.{i}",
                i,
                True,
                None,
                START + timedelta(seconds=i),
                START + timedelta(seconds=i + 1),
                capture_path=path,
                capture_bytes=len(configs[name]) if name in configs else 10,
                change="changed" if name in configs else "unchanged",
                lines_added=1,
                lines_removed=0,
                revision=revision,
            )
        )
    result = JobResult(plan, outcomes, START, START + timedelta(seconds=5))
    return results_document("run_job", [result], START, START + timedelta(seconds=5)), [result]


@pytest.fixture
def changed(tmp_path: Path) -> tuple[Path, str, str, dict[str, str]]:
    base = tmp_path / "captures"
    history = History(base)
    first = _record(history, {name: _config(name, []) for name in NAMES}, "run 1")
    configs = {
        "r0": _config("r0", ["ntp server 10.9.9.9", "banner motd ^C<script>alert(1)</script>^C"]),
        "r2": _config("r2", [f"description {'x' * 1000}", *(f"logging host 10.8.8.{i}" for i in range(40))]),
    }
    second = _record(history, configs, "run 2")
    return base, first, second, configs


def test_each_changed_device_gets_the_diff_vcollector_diff_prints(
    changed: tuple[Path, str, str, dict[str, str]],
) -> None:
    base, first, second, configs = changed
    document, results = _run(base, configs, second)
    data = gather_report(document, results)
    assert data.sites == {(0, 0): "SITE0", (0, 1): "SITE1", (0, 2): "SITE2"}
    assert set(data.diffs) == {(0, 0), (0, 2)}  # r1 is unchanged: no diff
    lines = data.diffs[(0, 0)].lines
    assert lines[:2] == (f"--- configs/r0.txt@{first[:10]}", f"+++ configs/r0.txt@{second[:10]}")
    assert "+ntp server 10.9.9.9" in lines and "+banner motd ^C<script>alert(1)</script>^C" in lines
    old = _config("r0", [])
    assert list(lines) == capture_diff(old, configs["r0"], "configs/r0.txt", first, second)
    long = next(line for line in data.diffs[(0, 2)].lines if line.startswith("+description"))
    assert long.endswith(f"… ({1013 - report.DIFF_LINE_CHARS:,} more characters)")
    assert len(long) < report.DIFF_LINE_CHARS + 40


def test_diffs_are_bounded_per_device_and_per_report(
    changed: tuple[Path, str, str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, _first, second, configs = changed
    document, results = _run(base, configs, second)
    monkeypatch.setattr(report, "DIFF_LINES_PER_DEVICE", 4)
    data = gather_report(document, results)
    full = len(capture_diff(_config("r2", []), configs["r2"], "p", "a", "b"))
    assert len(data.diffs[(0, 2)].lines) == 4 and data.diffs[(0, 2)].left_off == full - 4
    monkeypatch.setattr(report, "DIFF_LINES_TOTAL", 4)  # r0 spends the whole budget
    data = gather_report(document, results)
    assert data.diffs[(0, 2)].note == "not shown: the report's diff budget is spent"
    assert data.diffs_not_shown == 1
    monkeypatch.setattr(report, "DIFF_LINES_TOTAL", 5_000)
    monkeypatch.setattr(report, "DIFF_DEVICES", 1)
    data = gather_report(document, results)
    assert data.diffs[(0, 0)].lines and not data.diffs[(0, 2)].lines and data.diffs_not_shown == 1


def test_no_history_is_a_note_not_a_failure(tmp_path: Path) -> None:
    document, results = _run(tmp_path / "nothing", {"r0": "x\n"}, "f" * 40)
    data = gather_report(document, results)
    assert data.diffs[(0, 0)].note is not None
    assert data.diffs[(0, 0)].note.startswith("no diff: cannot read the capture history")


def test_the_page_shows_the_escaped_diff(
    changed: tuple[Path, str, str, dict[str, str]], tmp_path: Path
) -> None:
    base, _first, second, configs = changed
    document, results = _run(base, configs, second)
    target = tmp_path / "report.html"
    write_report(target, document, results)
    text = target.read_text(encoding="utf-8")
    page = Page(text)
    assert not page.problems, page.problems
    assert "<script" not in text
    assert '<span class="add">+banner motd ^C&lt;script&gt;alert(1)&lt;/script&gt;^C</span>' in text
    assert "+ntp server 10.9.9.9" in page.text
    assert len(page.elements("details", "diff")) == 2
    assert "SITE1" in text  # in r1's tooltip


def test_this_runs_version_comes_from_the_capture_file_and_time_is_bounded(
    changed: tuple[Path, str, str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, _first, second, configs = changed
    document, results = _run(base, configs, second)
    for outcome in results[0].outcomes:
        if outcome.name in configs:
            data, path = configs[outcome.name].encode(), outcome.capture_path
            assert path is not None
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            outcome.blob = blob_id(data)
    reads: list[str] = []
    original = History.content

    def counted(self: History, path: str, revision: str | None = None) -> bytes:
        reads.append(path)
        return original(self, path, revision)

    monkeypatch.setattr(History, "content", counted)
    data = gather_report(document, results)
    assert sorted(reads) == ["configs/r0.txt", "configs/r2.txt"]  # the previous versions only
    assert "+ntp server 10.9.9.9" in data.diffs[(0, 0)].lines
    monkeypatch.setattr(report, "DIFF_SECONDS", -1.0)
    data = gather_report(document, results)
    assert data.diffs_not_shown == 2 and not any(d.lines for d in data.diffs.values())
