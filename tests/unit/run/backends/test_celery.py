"""The Celery pieces that need no broker: URLs shown safely, TLS checks on, message schemas,
and the coordinator's verdicts on tasks that went quiet."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from vcollector.collection.tasks import JobStep
from vcollector.credentials.store import CredentialSource
from vcollector.inventory.records import DeviceRecord
from vcollector.run.backends import celery_coordinator
from vcollector.run.backends.celery_app import make_app, safe_url, site_queue, tls_options
from vcollector.run.backends.celery_coordinator import GRACE_SECONDS, Coordinator, _Task
from vcollector.run.backends.celery_messages import Reply, TaskMessage, task_payload
from vcollector.run.backends.celery_worker import vcollector_cancel_run
from vcollector.run.context import RunContext
from vcollector.run.spec import RunSpec
from vcollector.run.work import WorkItem


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:s3cret@127.0.0.1:6379/0", "redis://:**@127.0.0.1:6379/0"),
        ("amqp://guest:p%40ss%2Fw@127.0.0.1:5672/vh", "amqp://guest:**@127.0.0.1:5672/vh"),
        ("rediss://u:s3cret@h:6380/0?ssl_cert_reqs=required", "rediss://u:**@h:6380/0"),
        ("redis://h:6379/0?password=s3cret", "redis://h:6379/0"),
        ("sentinel://:s3cret@h1:26379;sentinel://:s3cret@h2:26379", "sentinel://:**@h1:26379/;sentinel://:**@h2:26379/"),
        ("not a url //u:s3cret@h", "not a url //u:**@h"),
        ("redis://127.0.0.1:6379/15", "redis://127.0.0.1:6379/15"),
    ],
)  # fmt: skip
def test_a_broker_url_is_never_shown_with_its_password(url: str, shown: str) -> None:
    assert safe_url(url) == shown
    assert "s3cret" not in safe_url(url)


def test_tls_urls_verify_the_broker_certificate() -> None:
    assert tls_options("rediss://h:6380/0") == {"ssl_cert_reqs": ssl.CERT_REQUIRED}
    assert tls_options("rediss://h:6380/0?ssl_cert_reqs=none") is None  # the URL decides
    amqps = tls_options("amqps://u:p@broker.example:5671//")
    assert amqps is not None and amqps["context"].verify_mode == ssl.CERT_REQUIRED
    assert amqps["context"].check_hostname and amqps["server_hostname"] == "broker.example"
    assert tls_options("redis://h:6379/0") is None


def test_the_app_accepts_json_only_and_acknowledges_late() -> None:
    conf = make_app("redis://127.0.0.1:6379/0").conf
    assert conf.accept_content == ["json"] and conf.task_serializer == "json"
    assert conf.task_acks_late and conf.worker_prefetch_multiplier == 1
    assert conf.broker_transport_options["visibility_timeout"] == 1800


def _item(commands: tuple[str, ...] = ("show version",)) -> WorkItem:
    device = DeviceRecord(1, "r1", "r1", "127.0.0.2", 22, "cisco_ios", "FRA1", "Cisco", "cisco", None, None)
    return WorkItem("r1", device, ("tacacs", "local"), (JobStep(0, commands, 30.0, 1.0, Path("/c/r1.txt")),))


def _payload(**changes: Any) -> dict[str, Any]:
    run_id = "a" * 32
    payload = task_payload(
        _item(), RunSpec(db_path=Path("x")), {0: False}, run_id, f"vcollector.reply.{run_id}"
    )
    return {**payload, **changes}


def test_a_task_carries_names_and_commands_but_no_path_and_no_secret() -> None:
    message = TaskMessage.model_validate(_payload())
    assert message.credentials == ["tacacs", "local"]
    assert message.steps[0].commands == ["show version"]
    assert "path" not in _payload()["steps"][0] and "/c/r1.txt" not in str(_payload())


@pytest.mark.parametrize(
    "changes",
    [
        {"password": "x"},  # nothing the schema does not name
        {"v": 2},
        {"run_id": "../../etc"},
        {"reply_to": "vcollector.reply." + "b" * 32},  # another run's replies
        {"credentials": []},
        {"retries": "1"},  # strict: no coercion
        {"steps": []},
    ],
)
def test_a_task_that_does_not_fit_is_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        TaskMessage.model_validate(_payload(**changes))


def test_replies_are_strict_too() -> None:
    with pytest.raises(ValidationError):
        Reply.model_validate({"kind": "done", "task_id": "t", "worker": "w", "extra": 1})


def test_site_queues_are_named_by_code() -> None:
    assert site_queue("fra1") == "vcollector.site.FRA1"


def test_the_cancel_command_has_the_name_coordinators_send() -> None:
    assert vcollector_cancel_run.__name__ == celery_coordinator.CANCEL_COMMAND


@pytest.fixture
def coordinator() -> Coordinator:
    spec = RunSpec(db_path=Path("x"), broker="amqp://127.0.0.1:9//")
    return Coordinator([_item()], RunContext(spec, CredentialSource()), lambda outcome: None, {})


def _task(**fields: Any) -> _Task:
    return _Task("t1", _item(), "vcollector.site.FRA1", "site FRA1", expires=1e9, **fields)


def test_a_queued_device_fails_once_its_queue_lost_every_worker(coordinator: Coordinator) -> None:
    task = _task()
    assert coordinator._overdue(task, 100.0, None, {}) is None
    assert coordinator._overdue(task, 100.0, 100.0 - GRACE_SECONDS + 1, {}) is None
    assert coordinator._overdue(task, 100.0, 100.0 - GRACE_SECONDS - 1, {}) == (
        "no vcollector worker serves site FRA1 any more"
    )


def test_a_silent_worker_hands_its_device_back_to_the_broker_then_fails_it(coordinator: Coordinator) -> None:
    task = _task(started=0.0, worker="w1@h", allowed=600.0)
    assert coordinator._overdue(task, 10.0, None, {"w1@h": 9.0}) is None and task.lost is None
    assert coordinator._overdue(task, 30.0, None, {"w1@h": 9.0}) is None and task.lost == 30.0
    assert coordinator._overdue(task, 40.0, None, {"w1@h": 35.0}) is None and task.lost is None  # back
    coordinator._overdue(task, 60.0, None, {"w1@h": 35.0})
    assert coordinator._overdue(task, 60.0 + 46, None, {"w1@h": 35.0}) == (
        "worker w1@h was lost and no other worker took the device"
    )


def test_a_device_that_outlives_its_commands_fails(coordinator: Coordinator) -> None:
    task = _task(started=0.0, worker="w1@h", allowed=90.0)
    assert coordinator._overdue(task, 91.0, None, {"w1@h": 90.0}) == "no result from worker w1@h in 90 s"


def test_a_task_nobody_started_in_time_fails(coordinator: Coordinator) -> None:
    task = _Task("t1", _item(), "q", "the default queue", expires=10.0)
    assert (
        coordinator._overdue(task, 11.0, None, {})
        == "no worker of the default queue started the device in 12 h"
    )
