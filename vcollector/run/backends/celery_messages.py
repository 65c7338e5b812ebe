"""What crosses the broker: device tasks and workers' replies, JSON only, no secret in either.

A task holds the device, its jobs' commands and the *names* of the credential sets (the
worker's own vault resolves them); a reply holds what each step became and the cleaned
output. A worker validates every task against :class:`TaskMessage` and refuses what does
not fit; the version is in the task name, so mismatched versions fail loudly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from vcollector.run.spec import RunSpec
from vcollector.run.work import WorkItem

REPLY_TO_PATTERN = r"^[\w.-]{1,200}\.reply\.[0-9a-f]{32}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class DeviceMessage(_Strict):
    """The device of a task (what a worker needs to reach it)."""

    id: int
    name: str
    normalized_name: str
    address: str | None
    port: int = Field(ge=1, le=65535)
    platform: str | None
    site: str | None
    vendor: str | None
    vendor_short_name: str | None
    role: str | None
    model: str | None
    requires_enable: bool
    invalid: str | None


class StepMessage(_Strict):
    """One job's commands for the device (no path: the coordinator writes the files)."""

    plan_index: int = Field(ge=0)
    commands: list[Annotated[str, Field(min_length=1, max_length=4096)]] = Field(min_length=1, max_length=500)
    timeout: float = Field(gt=0, le=86400)
    inter_command_time: float = Field(ge=0, le=86400)
    max_output_bytes: int = Field(gt=0)
    scrub: bool
    allow_changes: bool


class JumpMessage(_Strict):
    """The bastion to go through."""

    host: str
    port: int = Field(ge=1, le=65535)
    user: str | None
    credential: str | None


class TaskMessage(_Strict):
    """One device task; a worker refuses anything that does not fit this."""

    v: Literal[1]
    run_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    reply_to: str = Field(pattern=REPLY_TO_PATTERN)
    host: str = Field(min_length=1, max_length=300)
    device: DeviceMessage
    credentials: list[str] = Field(min_length=1, max_length=20)
    jump: JumpMessage | None
    steps: list[StepMessage] = Field(min_length=1)
    retries: int = Field(ge=0, le=10)
    strict_host_keys: bool
    check_host_keys: bool
    max_auth_attempts: int = Field(ge=1, le=10)

    @model_validator(mode="after")
    def _replies_to_its_run(self) -> TaskMessage:
        if not self.reply_to.endswith("." + self.run_id):
            raise ValueError("reply_to is not the reply queue of run_id")
        return self


class SpanMessage(_Strict):
    """Where one data command's output is in a step's output (offsets, not a copy)."""

    command: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class StepResult(_Strict):
    """What one step became on the worker."""

    plan_index: int
    ok: bool
    reason: str | None
    failure: str | None
    started: str
    ended: str
    output: str | None
    platform: str | None
    credential: str | None
    credentials_tried: list[str]
    spans: list[SpanMessage] = []  # each data command's output in ``output``, for TextFSM validation


class Reply(_Strict):
    """A worker's message to the coordinator: ``started``, then ``done`` with the results."""

    kind: Literal["started", "done", "refused"]
    task_id: str
    worker: str
    results: list[StepResult] = []
    reason: str | None = None


def task_payload(
    item: WorkItem, spec: RunSpec, allow_changes: Mapping[int, bool], run_id: str, reply_to: str
) -> dict[str, Any]:
    """The task of ``item``: the device, its commands, credential *names*; no secret."""
    device = item.device
    jump = item.jump
    return {
        "v": 1,
        "run_id": run_id,
        "reply_to": reply_to,
        "host": item.host,
        "device": {
            "id": device.id, "name": device.name, "normalized_name": device.normalized_name,
            "address": device.address, "port": device.port, "platform": device.platform,
            "site": device.site, "vendor": device.vendor, "vendor_short_name": device.vendor_short_name,
            "role": device.role, "model": device.model, "requires_enable": device.requires_enable,
            "invalid": device.invalid,
        },
        "credentials": list(item.credentials),
        "jump": None if jump is None else {
            "host": jump.host, "port": jump.port, "user": jump.user, "credential": jump.credential,
        },
        "steps": [
            {
                "plan_index": step.plan_index, "commands": list(step.commands), "timeout": step.timeout,
                "inter_command_time": step.inter_command_time, "max_output_bytes": step.max_output_bytes,
                "scrub": step.scrub, "allow_changes": allow_changes.get(step.plan_index, False),
            }
            for step in item.steps
        ],
        "retries": spec.retries,
        "strict_host_keys": spec.strict_host_keys,
        "check_host_keys": spec.check_host_keys,
        "max_auth_attempts": spec.max_auth_attempts,
    }  # fmt: skip
