"""The capture store with TextFSM validation: what is written, what is kept, what is left alone.

Real device outputs (ntc-templates' test data; Oxidized's recording of a Catalyst 9200L) go
through the real store, the real templates and real files in ``tmp_path``.
"""

from __future__ import annotations

import json
import stat
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.unit.parsing.test_validation import NOT_A_VERSION, joined, raw, recorded
from vcollector.cancellation import Cancellation
from vcollector.collection.outcome import DeviceOutcome
from vcollector.parsing import TfsmValidation
from vcollector.parsing import templates as templates_module
from vcollector.run.store import CaptureStore, invalid_path, records_path

VERSION = raw("cisco_ios", "show version")
PREVIOUS = "the last good capture\n"


def _outcome(
    target: Path | None,
    output: str,
    validation: TfsmValidation | None,
    *,
    command: str = "show version",
    spans: list[tuple[str, int, int]] | None = None,
    platform: str = "cisco_ios",
    history: bool = True,
) -> DeviceOutcome:
    now = datetime.now(timezone.utc)
    return DeviceOutcome(
        name=target.stem if target else "r1", address="127.0.0.2", device_id=1, ok=True, reason=None,
        started=now, ended=now, output=output,
        spans=tuple(spans if spans is not None else [(command, 0, len(output))]),
        target=target, platform=platform, history=history, validation=validation,
    )  # fmt: skip


def _store(outcome: DeviceOutcome) -> DeviceOutcome:
    return CaptureStore(Cancellation())(outcome)


def _private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == 0o600


def test_valid_output_is_saved_with_its_records_beside_it(tmp_path: Path) -> None:
    target = tmp_path / "version" / "r1.txt"
    done = _store(_outcome(target, VERSION, TfsmValidation(hint="show_version")))
    assert done.ok and done.invalid is None and done.output is None and done.spans == ()
    assert target.read_text() == VERSION and done.capture_path == target
    assert done.records_path == tmp_path / "version" / "r1.json" and done.records == 1
    records = json.loads(done.records_path.read_text())
    assert isinstance(records, list) and records[0]["hostname"] == "router1"
    assert records[0]["serial"] == ["CAT1451S15C"]  # ntc-templates' field names, List values as lists
    assert _private(target) and _private(done.records_path)
    assert done.blob and done.significant  # fingerprinted for the history, as any capture


def test_invalid_output_writes_nothing_and_leaves_the_previous_capture(tmp_path: Path) -> None:
    target = tmp_path / "version" / "r1.txt"
    target.parent.mkdir()
    target.write_text(PREVIOUS)
    (tmp_path / "version" / "r1.json").write_text("[]\n")
    done = _store(_outcome(target, NOT_A_VERSION, TfsmValidation()))
    assert done.ok and done.failure is None  # collected: invalid, not failed
    assert done.invalid == "0 records from template cisco_ios_show_version (min_score 1)"
    assert done.capture_path is None and done.records_path is None and done.records == 0
    assert done.blob is None and done.significant is None  # nothing for the history to record
    assert target.read_text() == PREVIOUS
    assert (tmp_path / "version" / "r1.json").read_text() == "[]\n"
    assert sorted(path.name for path in (tmp_path / "version").iterdir()) == ["r1.json", "r1.txt"]


def test_store_failures_keeps_the_invalid_output_where_the_loader_does_not_look(tmp_path: Path) -> None:
    target = tmp_path / "version" / "r1.txt"
    target.parent.mkdir()
    target.write_text(PREVIOUS)
    done = _store(_outcome(target, NOT_A_VERSION, TfsmValidation(store_failures=True)))
    kept = tmp_path / "version" / ".invalid" / "r1.txt"
    assert done.invalid_path == kept == invalid_path(target)
    assert kept.read_text() == NOT_A_VERSION and _private(kept)
    assert target.read_text() == PREVIOUS
    # VelocityCMDB's loader reads <base>/<type>/*.txt: the invalid output is not among them.
    assert [path.name for path in (tmp_path / "version").glob("*.txt")] == ["r1.txt"]


def test_force_save_saves_an_invalid_output_but_it_stays_invalid(tmp_path: Path) -> None:
    target = tmp_path / "version" / "r1.txt"
    target.parent.mkdir()
    target.write_text(PREVIOUS)
    done = _store(_outcome(target, NOT_A_VERSION, TfsmValidation(store_failures=True, force_save=True)))
    assert done.ok and done.invalid is not None
    assert target.read_text() == NOT_A_VERSION and done.capture_path == target
    assert done.blob and done.significant  # saved, so versioned like any capture
    # The records always describe the capture beside them: none, here.
    assert done.records_path is not None and json.loads(done.records_path.read_text()) == []
    assert done.invalid_path is not None and done.invalid_path.read_text() == NOT_A_VERSION


def test_no_template_saves_as_usual_and_says_which_command(tmp_path: Path) -> None:
    target = tmp_path / "ntp" / "r1.txt"
    text = "Clock is synchronized, stratum 3, reference is 10.0.0.1\n"
    done = _store(_outcome(target, text, TfsmValidation(hint="status"), command="show ntp status"))
    assert done.ok and done.invalid is None and done.untemplated == ("show ntp status",)
    assert target.read_text() == text and done.records_path is None and done.records is None
    assert not (tmp_path / "ntp" / "r1.json").exists()


def test_without_validation_nothing_changes(tmp_path: Path) -> None:
    target = tmp_path / "configs" / "r1.txt"
    done = _store(_outcome(target, NOT_A_VERSION, None))
    assert done.ok and done.invalid is None and target.read_text() == NOT_A_VERSION
    assert done.records_path is None and done.untemplated == ()
    assert sorted(path.name for path in target.parent.iterdir()) == ["r1.txt"]


def test_several_data_commands_each_parsed_with_its_own_template(tmp_path: Path) -> None:
    text, spans = joined(
        ("show version", recorded("show version")), ("show inventory", recorded("show inventory"))
    )
    target = tmp_path / "facts" / "sw1.txt"
    done = _store(_outcome(target, text, TfsmValidation(), spans=spans, platform="cisco_xe"))
    assert done.ok and done.invalid is None and done.records == 4
    assert target.read_text() == text
    assert done.records_path is not None
    records = json.loads(done.records_path.read_text())
    assert list(records) == ["show version", "show inventory"]
    assert records["show version"][0]["version"] == "17.9.4a"
    assert [item["pid"] for item in records["show inventory"]] == ["C9200L-24P-4G"] * 2 + ["PWR-C5-600WAC"]


def test_no_save_validates_but_writes_nothing(tmp_path: Path) -> None:
    before = sorted(tmp_path.rglob("*"))
    done = _store(_outcome(None, NOT_A_VERSION, TfsmValidation(store_failures=True)))
    assert done.invalid is not None and done.invalid_path is None and done.capture_path is None
    assert sorted(tmp_path.rglob("*")) == before


def test_a_failed_step_is_not_validated(tmp_path: Path) -> None:
    outcome = _outcome(tmp_path / "out" / "r1.txt", NOT_A_VERSION, TfsmValidation(store_failures=True))
    outcome.ok, outcome.reason, outcome.failure = False, "timed out", "timeout"
    done = _store(outcome)
    assert done.invalid is None and done.output is None and not (tmp_path / "out").exists()


def test_records_follow_the_capture_name(tmp_path: Path) -> None:
    assert records_path(tmp_path / "r1.txt") == tmp_path / "r1.json"
    assert records_path(tmp_path / "R1.TXT") == tmp_path / "R1.json"
    assert records_path(tmp_path / "r1.example.com") == tmp_path / "r1.example.com.json"
    assert records_path(tmp_path / "r1.json") == tmp_path / "r1.json.json"  # never the capture itself
    assert invalid_path(tmp_path / "configs" / "r1.txt") == tmp_path / "configs" / ".invalid" / "r1.txt"


def test_templates_that_do_not_load_fail_the_device_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # NTC_TEMPLATES_DIR is ntc-templates' own switch; here it names a folder with no index.
    monkeypatch.setenv("NTC_TEMPLATES_DIR", str(tmp_path / "no-templates"))
    monkeypatch.setattr(templates_module, "_index", None)
    templates_module.find_template.cache_clear()
    try:
        target = tmp_path / "r1.txt"
        target.write_text(PREVIOUS)
        done = _store(_outcome(target, VERSION, TfsmValidation()))
    finally:
        monkeypatch.undo()
        templates_module.find_template.cache_clear()
    assert not done.ok and done.failure == "validation"
    assert done.reason is not None and done.reason.startswith("cannot validate the output with TextFSM:")
    assert target.read_text() == PREVIOUS
