"""A lean session preparation for the platforms we simulate: one round trip instead of three to six.

Netmiko prepares a session one command at a time, each waited for — terminal width,
paging, then a prompt probe (Junos: five steps) — and its ``enable()`` checks the mode,
enters it and checks again: at 100 ms from the device that is most of a second before the
first real command. For IOS, IOS-XE, NX-OS, EOS and Junos this does what Netmiko's
``session_preparation`` does, with the same commands in the same order, in one write:

1. nothing is written before the device's first prompt has arrived (it comes with the
   shell, so waiting for it costs nothing);
2. the preparation commands go in one write — with ``enable`` as its last line when the
   session needs privileged mode and the prompt ends with ``>`` (never anything after
   ``enable``: a ``Password:`` prompt would take it as the secret);
3. the preparation is over when the device has printed a prompt after each line (or
   ``Password:``, answered once with the secret);
4. Netmiko's state is set as its own preparation sets it (``base_prompt``, escape codes).

No prompt within a short bound (a slow AAA exec authorisation, a device that waits for a
key), a prompt we do not expect (a Junos login in the shell), or a device that waits at
its prompt with lines unanswered (it discards what is typed ahead) leaves the session to
Netmiko's own preparation, which sends each line again; every other platform always gets
Netmiko's.

The shell itself is opened one round trip sooner: the pty request is sent without waiting
for its reply, as OpenSSH does, right before the shell request (a refused pty still closes
the channel, so the login fails loudly).
"""

from __future__ import annotations

import contextlib
import functools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from paramiko.common import cMSG_CHANNEL_REQUEST
from paramiko.message import Message

from vcollector.errors import ConnectionLost, PromptNotFound
from vcollector.transport.channel import visible

FIRST_PROMPT_SECONDS = 3.0  # how long the device may take to show its first prompt
MAX_SECRET_TRIES = 1
SETTLE_SECONDS = 0.3  # quiet after the last prompt: the refusal is over
QUIET_SECONDS = 1.0  # at a prompt, lines still unanswered, silent this long: they were dropped
QUIET_FACTOR = 4.0


@dataclass(frozen=True)
class Dialect:
    """What Netmiko's preparation sends on one platform, and what its prompts look like."""

    setup: tuple[str, ...]
    has_enable: bool = False
    escape_codes: bool = False
    base_chars: int | None = None  # Netmiko keeps this much of the hostname as base_prompt
    terminators: str = ">#"  # a prompt this platform's preparation accepts


DIALECTS = {
    "cisco_ios": Dialect(("terminal width 511", "terminal length 0"), has_enable=True, base_chars=16),
    "cisco_xe": Dialect(("terminal width 511", "terminal length 0"), has_enable=True, base_chars=16),
    "cisco_nxos": Dialect(("terminal width 511", "terminal length 0"), escape_codes=True),
    "arista_eos": Dialect(("terminal width 511", "terminal length 0"), has_enable=True, escape_codes=True),
    "juniper_junos": Dialect(
        ("set cli screen-width 511", "set cli complete-on-space off", "set cli screen-length 0"),
        terminators=">",
    ),
}
# A prompt line: a name without spaces, an optional (mode), a terminator, a space at most.
_PROMPT = re.compile(r"^(?P<base>[^\s>#$%()]{1,80})(?P<mode>\([^)\s]{0,40}\))?(?P<end>[>#$%]) ?$")
_PASSWORD = re.compile(r"(?i)pass(?:word|code)?:\s*$")


@dataclass(frozen=True)
class Prepared:
    """The session after preparation: its prompt and whether it is privileged."""

    base: str
    privileged: bool
    enable_refused: bool = False  # the enable secret was refused: a job's enable fails at once


class _NoPrompt(Exception):
    """The first prompt did not come in time: Netmiko's own preparation takes over."""


def lean_platform(platform: str) -> bool:
    """Whether ``platform`` gets the lean preparation (and the pipelined shell)."""
    return platform in DIALECTS


def _shown(line: str) -> str:
    """A line as a terminal shows it: after its last carriage return, without escapes."""
    line = line.rstrip("\r")
    return visible(line[line.rfind("\r") + 1 :])


def _last_line(text: str) -> str:
    return _shown(text.rsplit("\n", 1)[-1])


class _Reader:
    """Reads the channel into one text, waking on data, bounded by a deadline."""

    def __init__(self, connection: Any, wait: Callable[[float], object]) -> None:
        self.connection = connection
        self.wait = wait
        self.text = ""

    def until(
        self,
        done: Callable[[str], bool],
        seconds: float,
        what: str,
        settled: Callable[[str], bool] | None = None,
    ) -> bool:
        """Read until ``done``; False when ``settled`` held without a byte more for
        :data:`QUIET_SECONDS`, or :data:`QUIET_FACTOR` times as long as the first answer took
        (a slow device is slow at every line): the device waits at its prompt, nothing comes."""
        started = last_data = time.monotonic()
        deadline = started + seconds
        quiet: float | None = None
        while not done(self.text):
            data = self.connection.read_channel()
            if data:
                self.text += data
                last_data = time.monotonic()
                if quiet is None:
                    quiet = max(QUIET_SECONDS, QUIET_FACTOR * (last_data - started))
                continue
            channel = getattr(self.connection, "remote_conn", None)
            if getattr(channel, "closed", False) or getattr(channel, "eof_received", False):
                raise ConnectionLost(f"connection closed by the device while {what}")
            now = time.monotonic()
            if settled is not None and quiet is not None and now - last_data >= quiet and settled(self.text):
                return False
            remaining = deadline - now
            if remaining <= 0:
                raise _NoPrompt(what)
            self.wait(min(remaining, QUIET_SECONDS / 4 if settled else 0.5))
        return True


def _prompt_lines(text: str, base: str) -> int:
    """How many lines begin with this device's prompt (the prompt, then maybe an echo)."""
    start = re.compile(rf"^{re.escape(base)}(?:\([^)\s]{{0,40}}\))?[>#$%]")
    return sum(1 for line in text.split("\n") if start.match(_shown(line)))


def prepare(
    connection: Any, platform: str, *, want_enable: bool, timeout: float, wait: Any
) -> Prepared | None:
    """Prepare ``connection`` the lean way; None when Netmiko's own preparation must run.

    Raises :class:`PromptNotFound` when the device stops answering mid-way. A refused
    enable secret is not an error here (a job without ``enable`` can still run): the result
    says so, and the job's ``enable`` fails without asking again.
    """
    dialect = DIALECTS.get(platform)
    if dialect is None:
        return None
    if dialect.escape_codes:
        connection.ansi_escape_codes = True
    reader = _Reader(connection, wait)
    first = _first_prompt(reader, min(timeout, FIRST_PROMPT_SECONDS))
    if first is None or first.group("end") not in dialect.terminators or first.group("mode"):
        # Not in time, or a shell or a configuration mode: Netmiko's preparation knows what to do.
        _give_back(connection, reader.text)
        return None
    base = first.group("base")
    lines = list(dialect.setup)
    enabling = want_enable and dialect.has_enable and first.group("end") == ">"
    if enabling:
        lines.append("enable")
    seen = reader.text[: len(reader.text) - len(reader.text.rsplit("\n", 1)[-1])]
    reader.text = reader.text[len(seen) :]  # from the first prompt's line on
    connection.write_channel("".join(line + connection.RETURN for line in lines))
    end = _ended(base, len(lines) + 1, enabling)
    at_prompt = functools.partial(_at_prompt, base)
    try:
        if not reader.until(end, timeout, "preparing the session", settled=at_prompt):
            # Fewer prompts than lines, and quiet: the device dropped what was typed ahead.
            # Netmiko's preparation sends each line again, one at a time.
            _give_back(connection, _last_line(reader.text))
            return None
        tries = 0
        while _PASSWORD.search(_last_line(reader.text)):
            if tries >= MAX_SECRET_TRIES:
                connection.write_channel(connection.RETURN * 3)  # leave the Password: prompts
                _settle(reader, base, timeout)
                break
            tries += 1
            connection.write_channel(str(connection.secret or "") + connection.RETURN)
            reader.text = reader.text.rstrip() + "\n"
            reader.until(
                _ended(base, _prompt_lines(reader.text, base) + 1, enabling), timeout, "entering enable mode"
            )
    except _NoPrompt as stalled:
        raise PromptNotFound(f"no prompt from the device within {timeout:g}s while {stalled}") from None
    final = _PROMPT.match(_last_line(reader.text))
    privileged = final is not None and final.group("end") == "#"
    connection.base_prompt = base[: dialect.base_chars] if dialect.base_chars else base
    return Prepared(base, privileged, enable_refused=enabling and not privileged)


def _settle(reader: _Reader, base: str, timeout: float) -> None:
    """After a refused secret: read until the device shows its prompt and says nothing more
    for a moment, so that nothing of the refusal is taken for a command's output."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = len(reader.text)
        with contextlib.suppress(_NoPrompt):
            reader.until(functools.partial(_longer, before), SETTLE_SECONDS, "leaving enable")
        if len(reader.text) == before and _prompt_lines(_last_line(reader.text), base):
            return
    raise _NoPrompt("leaving the enable prompt")


def _at_prompt(base: str, text: str) -> bool:
    match = _PROMPT.match(_last_line(text))
    return match is not None and match.group("base") == base


def _longer(length: int, text: str) -> bool:
    return len(text) > length


def _first_prompt(reader: _Reader, seconds: float) -> re.Match[str] | None:
    """The device's first prompt line, as soon as it has come (None: not in time)."""
    try:
        reader.until(
            lambda text: _PROMPT.match(_last_line(text)) is not None, seconds, "waiting for the first prompt"
        )
    except _NoPrompt:
        return None
    return _PROMPT.match(_last_line(reader.text))


def _ended(base: str, prompts: int, enabling: bool) -> Callable[[str], bool]:
    """The preparation's answer is complete: a prompt after every line, the last one ending
    the data (or the enable password prompt)."""

    def done(text: str) -> bool:
        last = _last_line(text)
        if enabling and _PASSWORD.search(last):
            return True
        match = _PROMPT.match(last)
        return match is not None and match.group("base") == base and _prompt_lines(text, base) >= prompts

    return done


def _give_back(connection: Any, text: str) -> None:
    """Leave what was read for Netmiko's reads (it prepends ``_read_buffer``)."""
    if text:
        connection._read_buffer = text + str(getattr(connection, "_read_buffer", "") or "")


def _pipelined_invoke_shell(
    client: Any,
    term: str = "vt100",
    width: int = 80,
    height: int = 24,
    width_pixels: int = 0,
    height_pixels: int = 0,
    environment: Any = None,
) -> Any:
    """paramiko's ``invoke_shell``, without waiting for the pty request's reply on its own."""
    channel = client.get_transport().open_session()
    if environment:
        channel.update_environment(environment)
    message = Message()
    message.add_byte(cMSG_CHANNEL_REQUEST)
    message.add_int(channel.remote_chanid)
    message.add_string("pty-req")
    message.add_boolean(True)  # a refusal closes the channel: the login fails, as it should
    message.add_string(term)
    message.add_int(width)
    message.add_int(height)
    message.add_int(width_pixels)
    message.add_int(height_pixels)
    message.add_string(b"")
    channel.transport._send_user_message(message)
    channel.invoke_shell()
    return channel


def pipeline_shell(client: Any) -> Any:
    """``client`` (a paramiko ``SSHClient``) opening its shell one round trip sooner."""
    client.invoke_shell = functools.partial(_pipelined_invoke_shell, client)
    return client
