"""The v2.0 job file: a typed model that loads every real job file in the field.

Real files carry more than the seed documents (``version``, ``vendor``, ``credentials``,
``protocol``, ``validation``, ``legacy_v1`` ...); those are accepted and kept, and any
other unknown key is tolerated and listed by :meth:`Job.unknown_keys`. ``validation`` asks for
TextFSM validation of each output (``use_tfsm``; see :mod:`vcollector.parsing.validation`).
"""

from __future__ import annotations

import json
import string
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
)

from vcollector.errors import JobFileError
from vcollector.inventory.filters import FILTER_KEYS, DeviceFilterSpec
from vcollector.jobs.commands import changing_reason
from vcollector.jobs.convert import is_v1

FILENAME_VARIABLES = frozenset({"device_name", "device_id", "timestamp", "capture_type", "job_id"})
# Bounds that keep values usable (a timeout of 1e12 or Infinity overflows the socket layer).
MAX_TIMEOUT_SECONDS = 86_400
MAX_WORKERS = 1_000
DEFAULT_MAX_OUTPUT_MB = 64
MAX_OUTPUT_MB = 4_096


class _Section(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class DeviceFilter(_Section):
    """Which assets.db devices a job runs against; every given filter must match."""

    vendor: StrictStr | None = None
    site: StrictStr | None = None
    role: StrictStr | None = None
    name_pattern: StrictStr | None = None
    platform: StrictStr | list[StrictStr] | None = None

    def spec(self) -> DeviceFilterSpec:
        """The filters, normalised once, as the inventory applies them."""
        return DeviceFilterSpec.from_mapping(self.model_dump(include=set(FILTER_KEYS)))


class Commands(_Section):
    """What to send: an optional paging command and the comma-separated commands."""

    paging_disable: StrictStr | None = None
    command: StrictStr | list[StrictStr]
    output_directory: StrictStr | None = None


class Execution(_Section):
    """Timing and per-job concurrency."""

    timeout: StrictInt | StrictFloat = Field(default=60, gt=0, le=MAX_TIMEOUT_SECONDS)
    inter_command_time: StrictInt | StrictFloat = Field(default=1, ge=0, le=MAX_TIMEOUT_SECONDS)
    max_workers: StrictInt = Field(default=12, ge=1, le=MAX_WORKERS)
    max_output_mb: StrictInt | StrictFloat = Field(default=DEFAULT_MAX_OUTPUT_MB, gt=0, le=MAX_OUTPUT_MB)
    allow_changes: StrictBool = False  # run commands that change the device (refused otherwise)


class Storage(_Section):
    """Where captures go, whether versions are kept, whether secrets are scrubbed first."""

    base_path: StrictStr | None = None
    filename_pattern: StrictStr = "{device_name}.txt"
    history: StrictBool = True
    scrub_secrets: StrictBool = False


class Validation(_Section):
    """TextFSM validation of each output (ntc-templates), and what becomes of output that fails it."""

    use_tfsm: StrictBool = False
    tfsm_filter: StrictStr | None = None  # a hint for the template, used when the index finds none
    min_score: StrictInt | StrictFloat = Field(default=1, ge=0, allow_inf_nan=False)  # records, at least
    store_failures: StrictBool = False  # keep an invalid output under <capture dir>/.invalid/


class CredentialHint(_Section):
    """The job's credential hint (``credential_set: "default"`` means the vault default)."""

    source: StrictStr | None = None
    credential_set: StrictStr | list[StrictStr] | None = None  # a list: tried in order
    fallback_env: StrictStr | None = None


class Job(BaseModel):
    """One collection job, loaded from a v2.0 JSON file with :func:`load_job`."""

    model_config = ConfigDict(extra="allow", frozen=True)

    job_id: StrictStr | StrictInt
    capture_type: StrictStr = "unknown"
    device_filter: DeviceFilter = DeviceFilter()
    commands: Commands
    execution: Execution = Execution()
    storage: Storage = Storage()
    credentials: CredentialHint = CredentialHint()
    validation: Validation = Validation()
    # Carried by real files; accepted, not used for collection.
    version: StrictStr | None = None
    vendor: StrictStr | None = None
    protocol: StrictStr | None = None
    legacy_v1: dict[str, Any] | None = None

    source_path: Path = Field(default=Path("<memory>"), exclude=True)

    @field_validator("validation", mode="before")
    @classmethod
    def _no_validation(cls, value: Any) -> Any:
        # "validation": null says what a missing section says: no TextFSM validation.
        return Validation() if value is None else value

    @property
    def id(self) -> str:
        """The job id as text (files carry it as an integer or a string)."""
        return str(self.job_id)

    @property
    def output_directory(self) -> str:
        """The sub-directory under the capture base (``capture_type`` when unset)."""
        return self.commands.output_directory or self.capture_type

    @property
    def max_output_bytes(self) -> int:
        """The cap on one command's output, in bytes."""
        return int(self.execution.max_output_mb * 1024 * 1024)

    @property
    def command_text(self) -> str:
        """The commands as the job states them, comma-joined, for display."""
        return ",".join(self.command_list)

    @property
    def command_list(self) -> tuple[str, ...]:
        """``paging_disable`` first, then each comma-separated command, stripped, empties dropped."""
        raw = self.commands.command
        entries = raw if isinstance(raw, list) else raw.split(",")
        if self.commands.paging_disable:
            entries = [self.commands.paging_disable, *entries]
        return tuple(stripped for entry in entries if (stripped := entry.strip()))

    def unknown_keys(self) -> list[str]:
        """Dotted names of keys this model does not know (tolerated, shown under ``--debug``)."""
        found = [key for key in (self.model_extra or {})]
        for name in ("device_filter", "commands", "execution", "storage", "credentials", "validation"):
            section = getattr(self, name)
            found.extend(f"{name}.{key}" for key in (section.model_extra or {}) if key != "source")
        return sorted(found)


def load_job(path: str | Path) -> Job:
    """Read and validate one job file; every problem becomes one :class:`JobFileError`."""
    job_path = Path(path)
    shown = str(job_path)
    try:
        text = job_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise JobFileError(shown, None, "file not found") from None
    except IsADirectoryError:
        raise JobFileError(shown, None, "is a directory, not a job file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise JobFileError(shown, None, f"cannot read: {exc}") from exc
    if not text.strip():
        raise JobFileError(shown, None, "file is empty")
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise JobFileError(shown, None, f"not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    except ValueError as exc:
        raise JobFileError(shown, None, f"not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise JobFileError(shown, None, "must hold a JSON object")
    if is_v1(data):
        raise JobFileError(
            shown, None, f"is a VelocityCMDB v1.0 job file; convert it with: vcollector jobs convert {shown}"
        )
    job = parse_job(data, shown)
    return job.model_copy(update={"source_path": job_path})


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def parse_job(data: dict[str, Any], shown: str = "<job>") -> Job:
    """Validate a job given as a mapping (``shown`` names it in errors)."""
    try:
        job = Job.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        parts = [str(part) for part in first["loc"] if not isinstance(part, int)]
        # Union members add their type to the location (``commands.command.str``).
        field = ".".join(part for part in parts if part not in _UNION_TAGS and "[" not in part) or None
        raise JobFileError(shown, field, _describe(first)) from None
    _check_paths(job, shown)
    if not job.command_list:
        raise JobFileError(shown, "commands.command", "no command to run")
    if not job.execution.allow_changes:
        for command in job.command_list:
            reason = changing_reason(command)
            if reason:
                raise JobFileError(
                    shown,
                    "commands.command",
                    f"{command!r} would change the device ({reason}); vcollector is read-only unless "
                    'the job says "execution": {"allow_changes": true}',
                )
    return job


_UNION_TAGS = frozenset({"str", "int", "float", "bool", "list", "dict"})


def _describe(error: Any) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "is required"
    if kind == "greater_than_equal":
        return f"must be ≥ {ctx.get('ge')}"
    if kind == "greater_than":
        return f"must be > {ctx.get('gt')}"
    if kind == "less_than_equal":
        return f"must be ≤ {ctx.get('le')}"
    if kind == "finite_number":
        return "must be a finite number"
    if kind in {"string_type", "int_type", "float_type", "list_type", "dict_type", "model_type"}:
        return f"wrong type ({type(error.get('input')).__name__}); {error['msg'].lower()}"
    return str(error["msg"]).lower()


def _check_paths(job: Job, shown: str) -> None:
    for field, value in (
        ("commands.output_directory", job.output_directory),
        ("storage.filename_pattern", job.storage.filename_pattern),
    ):
        if any(ord(char) < 32 or ord(char) == 127 for char in value):
            raise JobFileError(shown, field, "contains a control character (NUL, newline ...)")
        if _escapes(value):
            raise JobFileError(shown, field, f"{value!r} would leave the capture directory")
    try:
        parsed = list(string.Formatter().parse(job.storage.filename_pattern))
    except ValueError as exc:
        raise JobFileError(shown, "storage.filename_pattern", f"malformed braces ({exc})") from None
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in FILENAME_VARIABLES or spec or conversion:
            known = ", ".join("{" + var + "}" for var in sorted(FILENAME_VARIABLES))
            raise JobFileError(
                shown, "storage.filename_pattern", f"unknown variable {{{name}}} (known: {known})"
            )
    if not job.storage.filename_pattern.strip() or job.storage.filename_pattern.endswith(("/", "\\")):
        raise JobFileError(shown, "storage.filename_pattern", "must name a file")


def _escapes(relative: str) -> bool:
    """True when a job-given relative path is absolute or climbs with ``..``."""
    for flavour in (PurePosixPath, PureWindowsPath):
        candidate = flavour(relative)
        if candidate.is_absolute() or candidate.drive or candidate.root or ".." in candidate.parts:
            return True
    return False
