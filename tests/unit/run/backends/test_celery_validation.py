"""A distributed run validates where it writes: each command's place in the output crosses the
broker (JSON, strict) with the output, and the coordinator's store parses it (no broker needed)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.unit.parsing.test_validation import NOT_A_VERSION, joined, recorded
from vcollector.collection.outcome import DeviceOutcome
from vcollector.collection.tasks import JobStep
from vcollector.credentials.store import CredentialSource
from vcollector.inventory.records import DeviceRecord
from vcollector.parsing import TfsmValidation
from vcollector.run.backends.celery_coordinator import Coordinator, _Task
from vcollector.run.backends.celery_messages import Reply, StepResult
from vcollector.run.backends.celery_worker import _result
from vcollector.run.context import RunContext
from vcollector.run.spec import RunSpec
from vcollector.run.work import WorkItem

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)


def _item(path: Path, validation: TfsmValidation | None) -> WorkItem:
    device = DeviceRecord(1, "sw1", "sw1", "127.0.0.2", 22, "cisco_xe", "FRA1", "Cisco", "cisco", None, None)
    step = JobStep(0, ("show version", "show inventory"), 30.0, 0.0, path, validation=validation)
    return WorkItem("sw1", device, ("lab",), (step,))


def _across_the_broker(output: str, spans: list[tuple[str, int, int]]) -> list[StepResult]:
    """What a worker's outcome becomes on the coordinator's side: JSON out, strict models in."""
    worker_side = DeviceOutcome(
        name="sw1", address="127.0.0.2", device_id=1, ok=True, reason=None, started=NOW, ended=NOW,
        output=output, spans=tuple(spans), platform="cisco_xe",
    )  # fmt: skip
    reply = Reply(kind="done", task_id="t1", worker="fra1@h", results=[_result(worker_side)])
    body = json.loads(json.dumps(reply.model_dump(mode="json")))
    return Reply.model_validate(body).results


def _coordinate(item: WorkItem, results: list[StepResult]) -> DeviceOutcome:
    reported: list[DeviceOutcome] = []
    spec = RunSpec(db_path=Path("x"), broker="amqp://127.0.0.1:9//")
    coordinator = Coordinator([item], RunContext(spec, CredentialSource()), reported.append, {})
    coordinator._done(_Task("t1", item, "vcollector.site.FRA1", "site FRA1", expires=1e9), "fra1@h", results)
    (outcome,) = reported
    return outcome


def test_the_coordinator_validates_each_command_with_the_spans_the_worker_sent(tmp_path: Path) -> None:
    text, spans = joined(
        ("show version", recorded("show version")), ("show inventory", recorded("show inventory"))
    )
    results = _across_the_broker(text, spans)
    assert [(span.command, span.start, span.end) for span in results[0].spans] == spans
    target = tmp_path / "facts" / "sw1.txt"
    outcome = _coordinate(_item(target, TfsmValidation()), results)
    assert outcome.ok and outcome.invalid is None and outcome.worker == "fra1@h"
    assert target.read_text() == text and outcome.records == 4
    assert outcome.records_path is not None
    records = json.loads(outcome.records_path.read_text())
    assert records["show version"][0]["hostname"] == "LAB-SW123_9200L"
    assert len(records["show inventory"]) == 3


def test_an_invalid_output_from_a_worker_is_not_saved_here_either(tmp_path: Path) -> None:
    text, spans = joined(("show version", NOT_A_VERSION), ("show inventory", recorded("show inventory")))
    target = tmp_path / "facts" / "sw1.txt"
    outcome = _coordinate(_item(target, TfsmValidation(store_failures=True)), _across_the_broker(text, spans))
    assert (
        outcome.ok and outcome.invalid is not None and outcome.invalid.startswith("'show version': 0 records")
    )
    assert not target.exists() and (tmp_path / "facts" / ".invalid" / "sw1.txt").read_text() == text


def test_spans_are_checked_like_the_rest_of_a_reply() -> None:
    result = _across_the_broker("x\n", [("show version", 0, 2)])[0].model_dump(mode="json")
    for bad in ({"command": "show version", "start": -1, "end": 2}, {"command": 1, "start": 0, "end": 2},
                {"command": "show version", "start": 0, "end": 2, "extra": 1}):  # fmt: skip
        with pytest.raises(ValidationError):
            StepResult.model_validate({**result, "spans": [bad]})
    assert StepResult.model_validate({k: v for k, v in result.items() if k != "spans"}).spans == []
