"""A job's command list on one open session: privilege, paging, rejections, the output.

``enable`` and ``disable`` change privilege (not sent as text); paging commands are skipped
where Netmiko's session preparation already disabled paging, and their output is never
kept. Each command's output is checked: a command the device rejects (``% Invalid input``,
Junos ``syntax error`` ...) fails the list, where Netmiko alone would call it success.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from vcollector.collection.output import clean_output, rejection
from vcollector.errors import CommandRejected
from vcollector.jobs.commands import is_enable_command, is_paging_command
from vcollector.transport import dialects, privilege
from vcollector.transport.session import DEFAULT_MAX_OUTPUT_BYTES, Session

_UNPRIVILEGED_HINT = (
    " (the session is not in privileged mode and enable failed: check the credential's enable secret)"
)

# ``disable`` / ``disable 1`` leave privileged mode; "disable clipaging" (EXOS paging) and
# the like are ordinary commands.
_DISABLE = re.compile(r"disable(\s+\d+)?", re.IGNORECASE)


def is_disable_command(command: str) -> bool:
    """Tell whether ``command`` leaves privileged mode."""
    return _DISABLE.fullmatch(command.strip()) is not None


@dataclass(frozen=True)
class CommandOutputs:
    """A command list's output: the text of every data command, and where each one's is in it.

    ``spans`` hold ``(command, start, end)`` for each command whose output was kept (not
    ``enable``, ``disable`` or paging commands), in order; ``text[start:end]`` is that command's
    output. Offsets rather than copies: an output may be tens of megabytes.
    """

    text: str
    spans: tuple[tuple[str, int, int], ...]


def run_commands(
    session: Session,
    commands: Sequence[str],
    timeout: float,
    inter_command_time: float,
    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES,
) -> str:
    """Send ``commands`` on an open session; returns the collected, cleaned output.

    A command the device rejects fails the whole list. When it was rejected because the
    session is unprivileged, privileged mode is tried once (with the enable secret, else
    the password) and the command repeated. ``max_output_bytes`` caps each command.
    """
    return collect_outputs(session, commands, timeout, inter_command_time, max_output_bytes).text


def collect_outputs(
    session: Session,
    commands: Sequence[str],
    timeout: float,
    inter_command_time: float,
    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES,
    finish: Callable[[str], str] | None = None,
) -> CommandOutputs:
    """:func:`run_commands`, with each data command's place in the output.

    ``finish`` is applied to each command's output once it is accepted (secrets removed), so
    that the offsets describe the text as it is stored.
    """
    paging_done = dialects.paging_disabled_by_netmiko(session.platform)
    outputs: list[str] = []
    spans: list[tuple[str, int, int]] = []
    position = 0
    sent = 0
    escalated = False
    for command in commands:
        if paging_done and is_paging_command(command):
            continue
        if sent and inter_command_time:
            time.sleep(inter_command_time)
        sent += 1
        if is_enable_command(command):
            privilege.enable(session)
            continue
        if is_disable_command(command):
            privilege.disable(session, command, timeout)
            continue
        output = clean_output(session.run(command, timeout, max_output_bytes))
        if is_paging_command(command):
            continue  # Netmiko has disabled paging already; some platforms reject the job's way
        refused = rejection(output)
        if refused and not escalated and privilege.unprivileged(session):
            escalated = True
            if privilege.escalate(session, timeout):
                output = clean_output(session.run(command, timeout, max_output_bytes))
                refused = rejection(output)
        if refused:
            hint = _UNPRIVILEGED_HINT if privilege.unprivileged(session) else ""
            raise CommandRejected(f"device rejected {command!r}: {refused}{hint}")
        if finish is not None:
            output = finish(output)
        if outputs and outputs[-1] and not outputs[-1].endswith("\n"):
            outputs.append("\n")  # the next command's output starts on a line of its own
            position += 1
        outputs.append(output)
        spans.append((command, position, position + len(output)))
        position += len(output)
    return CommandOutputs("".join(outputs), tuple(spans))
