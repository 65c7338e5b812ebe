"""A job's TextFSM validation (``"validation": {"use_tfsm": true, ...}``) applied to one output.

Each data command's output (the spans :func:`~vcollector.collection.commands.collect_outputs`
records: ``enable``, ``disable`` and paging commands have none) is parsed with the template the
device's platform and that command select (:func:`~vcollector.parsing.templates.parse_output`,
the job's ``tfsm_filter`` as its hint). The output is *valid* when every command that has a template
parsed to at least ``min_score`` records; a command without a template is not validated at all
(the caller warns once per job). The records of a job with one data command are a list, as
``ntc_templates.parse`` returns them; of several, an object keyed by command, in job order, whose
value is ``null`` for a command without a template.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from vcollector.parsing.templates import parse_output

# One data command's output in a step's output: the command, and [start, end) in the text.
Span = tuple[str, int, int]


@dataclass(frozen=True)
class TfsmValidation:
    """What a step's validation asks (the job's ``validation`` section, when ``use_tfsm``)."""

    hint: str | None = None  # the job's tfsm_filter
    min_score: int | float = 1  # records each templated command must parse to, at least
    store_failures: bool = False  # keep an invalid output under .invalid/ beside the captures
    force_save: bool = False  # --force-save: an invalid output is saved as the capture anyway


@dataclass(frozen=True)
class CommandCheck:
    """One data command's parse: its template (None: there is none) and the records it gave."""

    command: str
    template: str | None
    records: list[dict[str, Any]] | None  # None without a template

    @property
    def template_name(self) -> str:
        """The template as people name it (``cisco_ios_show_version``), several joined with ``+``."""
        names = (self.template or "").split(":")
        return "+".join(name.removesuffix(".textfsm") for name in names)


@dataclass(frozen=True)
class Verdict:
    """The validation of one output."""

    checks: tuple[CommandCheck, ...]
    min_score: int | float

    @property
    def failing(self) -> list[CommandCheck]:
        """Commands whose template gave fewer than ``min_score`` records."""
        return [c for c in self.checks if c.records is not None and len(c.records) < self.min_score]

    @property
    def valid(self) -> bool:
        """True unless a templated command parsed to too few records."""
        return not self.failing

    @property
    def untemplated(self) -> tuple[str, ...]:
        """The data commands no template fits (not validated)."""
        return tuple(c.command for c in self.checks if c.template is None)

    @property
    def record_count(self) -> int:
        """Records of every templated command together."""
        return sum(len(c.records) for c in self.checks if c.records is not None)

    @property
    def document(self) -> list[dict[str, Any]] | dict[str, list[dict[str, Any]] | None] | None:
        """The records as they are saved (see the module docstring); None: no template at all."""
        if all(c.template is None for c in self.checks):
            return None
        if len(self.checks) == 1:
            return self.checks[0].records
        keyed: dict[str, list[dict[str, Any]] | None] = {}
        for check in self.checks:
            key, number = check.command, 2
            while key in keyed:  # the same command twice: "show clock (2)"
                key, number = f"{check.command} ({number})", number + 1
            keyed[key] = check.records
        return keyed

    @property
    def reason(self) -> str:
        """Why the output is invalid, one line: ``0 records from template cisco_ios_show_version
        (min_score 1)``, naming the command when the job has several."""
        several = len(self.checks) > 1
        parts = []
        for check in self.failing:
            count = len(check.records or ())
            where = f"'{check.command}': " if several else ""
            parts.append(
                f"{where}{count} record{'' if count == 1 else 's'} from template {check.template_name}"
            )
        return f"{'; '.join(parts)} (min_score {self.min_score})"


def _bounded(spans: Sequence[Span], length: int) -> list[Span]:
    # Spans may have crossed a broker: never slice outside the text, whatever they say.
    bounded = []
    for command, start, end in spans:
        low = max(0, min(int(start), length))
        bounded.append((command, low, max(low, min(int(end), length))))
    return bounded


def validate(platform: str | None, output: str, spans: Sequence[Span], validation: TfsmValidation) -> Verdict:
    """Parse each span of ``output`` with its template; an output without spans (no data
    command) has nothing to check and is valid."""
    checks = []
    for command, start, end in _bounded(spans, len(output)):
        # The whole output of a one-command job is used as it is: no copy of a large output.
        text = output if (start, end) == (0, len(output)) else output[start:end]
        parsed = parse_output(platform or "", command, text, validation.hint)
        if parsed is None:
            checks.append(CommandCheck(command, None, None))
        else:
            checks.append(CommandCheck(command, parsed.template, parsed.records))
    return Verdict(tuple(checks), validation.min_score)
