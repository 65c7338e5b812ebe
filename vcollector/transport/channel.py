"""One command on an open Netmiko session, and exactly where its output ends.

Netmiko's ``send_command`` ends a read at the first text that matches the prompt anywhere
in the output: a config line ``description core1#uplink``, a banner or log line that looks
like the prompt, followed by a pause, ends the read early and a fragment is returned as
success. Here a read ends only when the data ends with the prompt printed *twice*: when a
prompt line ends the data, one RETURN is sent, and only the device's answer to it — a
second prompt, on a line of its own or right after the first — ends the output. Text that
merely looks like a prompt inside the output is followed by more output, not by a second
prompt; the RETURN then waits as type-ahead and is answered after the real end. A prompt
line that stays alone longer than a grace period gets one more RETURN (bounded), so a
device that discarded the type-ahead still completes.

The confirming RETURN costs one round trip per command. It is not sent together with the
command because CLIs differ in *when* they echo type-ahead: some (and the simulated
fleet) echo it the moment it arrives, which would put a blank line into the middle of
the output.

The output is capped (:class:`~vcollector.errors.OutputTooLarge`), read as it arrives
(the paramiko channel wakes us, no polling) and kept as a list of chunks joined once.
"""

from __future__ import annotations

import re
import time
from functools import lru_cache
from typing import Any

from vcollector.errors import CommandTimedOut, ConnectionLost, OutputTooLarge

# What is searched for the end of the output: the last characters received.
TAIL_CHARS = 8192
# How long a lone prompt may end the data before one more RETURN is sent.
CONFIRM_GRACE_SECONDS = 1.0
MAX_EXTRA_RETURNS = 3
# Junos and others print context lines ({master:0}, [edit]) right above a prompt.
_CONTEXT_LINE = re.compile(r"^[ \t]*(?:\{[^\n{}]*\}|\[edit[^\n\]]*\])[ \t]*$")
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]|[\x00-\x08\x0b-\x1f\x7f]")


def visible(text: str) -> str:
    """``text`` without escape sequences and control characters (what a terminal shows)."""
    return _ESCAPES.sub("", text)


@lru_cache(maxsize=256)
def prompt_regex(base_prompt: str, truncated: bool = False) -> re.Pattern[str]:
    """One or more prompts of this session ending a line: ``base``, an optional ``(mode)``,
    then ``>``, ``#``, ``$`` or ``%``, then spaces (``r1>``, ``r1#``, ``admin@mx1> ``);
    repeated when the device printed the next prompt right after it (``r1#r1#``).

    ``truncated``: ``base`` is only the start of the hostname (Netmiko keeps 16 characters
    of an IOS hostname), so the rest of the name may follow it.
    """
    rest = r"[^\s>#$%()]{0,80}" if truncated else ""
    one = re.escape(base_prompt) + rest + r"(?:\([^)\r\n]{0,64}\))?[>#$%][ \t]*"
    return re.compile(f"(?:{one})+$")


def _prompts_in(match: re.Match[str], base_prompt_regex: re.Pattern[str]) -> int:
    return max(1, len(_single(base_prompt_regex.pattern).findall(match.group(0))))


@lru_cache(maxsize=256)
def _single(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern.removeprefix("(?:").removesuffix(")+$"))


def _lines_with_offsets(text: str) -> list[tuple[int, str]]:
    """Each line as a terminal shows it, with where that starts: a carriage return inside a
    line returns to its start (NX-OS prints ``\rswitch# ``), so what follows it is the line."""
    lines: list[tuple[int, str]] = []
    start = 0
    for piece in text.split("\n"):
        visible = piece.rstrip("\r")
        cut = visible.rfind("\r") + 1
        lines.append((start + cut, visible[cut:]))
        start += len(piece) + 1
    return lines


def prompt_block_start(tail: str, prompt: re.Pattern[str], count: int) -> int | None:
    """Where the output ends in ``tail``, if it ends with ``count`` prompts, else None.

    The last line holds the prompt the device waits at; prompt lines may be separated by
    blank and context lines, a line may hold several prompts (``r1#r1#``), and the first
    prompt may follow output that did not end its last line. Context lines right above the
    first prompt belong to it.
    """
    lines = _lines_with_offsets(tail)
    index = len(lines) - 1
    found = 0
    position = 0
    while index >= 0 and found < count:
        offset, line = lines[index]
        if found and (not line.strip() or _CONTEXT_LINE.match(line)):
            index -= 1  # between two prompts
            continue
        match = prompt.match(line) or prompt.search(line)
        if match is None:
            return None
        prompts = _prompts_in(match, prompt)
        if match.start() and not found and prompts < 2:
            return None  # a lone prompt-like text after output is not the end
        found += prompts
        if found > count:
            # More prompts on this line than needed: the output ends after the extra ones.
            extra = found - count
            singles = list(_single(prompt.pattern).finditer(match.group(0)))
            return offset + match.start() + singles[extra].start()
        position = offset + match.start()
        if match.start():
            # The first prompt came right after unterminated output.
            return position if found >= count else None
        index -= 1
    if found < count:
        return None
    while index >= 0 and position == lines[index + 1][0] and _CONTEXT_LINE.match(lines[index][1]):
        position = lines[index][0]
        index -= 1
    return position


def _ends_with_prompt(tail: str, prompt: re.Pattern[str]) -> bool:
    last = tail.rsplit("\n", 1)[-1].rstrip("\r")
    return prompt.match(last[last.rfind("\r") + 1 :]) is not None


def _channel_closed(connection: Any) -> bool:
    channel = getattr(connection, "remote_conn", None)
    transport = getattr(channel, "transport", None)
    return bool(getattr(channel, "closed", False) or getattr(channel, "eof_received", False)) or (
        transport is not None and not transport.is_active()
    )


# Lines that may come before the echo: blank ones, a late prompt, a context line.
MAX_LINES_BEFORE_ECHO = 4
# Room for what may come before the echo's line end: a prompt, escape codes, line wrapping.
ECHO_SLACK_CHARS = 1024


def _strip_echo(text: str, command: str, prompt: re.Pattern[str] | None = None) -> str:
    """Drop the echoed command line when it is the command we sent, and what came before it
    that is not this command's output: blank lines and the previous prompt arriving late
    (a busy device prints ``\r\nmx1> `` again before the echo)."""
    wanted = command.strip()
    start = 0
    for _ in range(MAX_LINES_BEFORE_ECHO + 1):
        newline = text.find("\n", start)
        if newline < 0 or not wanted:
            return text
        line = _ESCAPES.sub("", text[start:newline]).strip()
        if line == wanted or line.endswith(wanted):
            return text[newline + 1 :]
        lead_in = not line or _CONTEXT_LINE.match(line) or (prompt is not None and prompt.match(line))
        if not lead_in:
            return text
        start = newline + 1
    return text


def run_command(
    connection: Any,
    command: str,
    *,
    base_prompt: str,
    timeout: float,
    max_chars: int,
    wait: Any,
    truncated: bool = False,
) -> str:
    """Send ``command`` and return what the device printed for it: the echo and the prompts
    removed, nothing else changed (line endings and escape codes are cleaned later).

    ``wait(seconds)`` blocks until the channel has data or the time is up (a
    ``threading.Event.wait``). Raises :class:`CommandTimedOut`, :class:`OutputTooLarge` or
    :class:`ConnectionLost`.
    """
    prompt = prompt_regex(base_prompt, truncated)
    connection.read_channel()  # a late log line must not prefix our output
    connection.write_channel(command + connection.RETURN)
    chunks: list[str] = []
    size = 0
    tail = ""
    returns = 0
    deadline = time.monotonic() + timeout
    quiet_since = time.monotonic()
    while True:
        data = connection.read_channel()
        now = time.monotonic()
        if data:
            chunks.append(data)
            size += len(data)
            if size > max_chars:
                raise OutputTooLarge(
                    f"output of {command!r} exceeded {max_chars / 1_048_576:g} MB; nothing saved "
                    "(raise execution.max_output_mb or --max-output-mb)"
                )
            tail = (tail + data)[-TAIL_CHARS:]
            quiet_since = now
            if returns and prompt_block_start(tail, prompt, returns + 1) is not None:
                break
            if not returns and _ends_with_prompt(tail, prompt):
                connection.write_channel(connection.RETURN)  # confirm: is this the end?
                returns = 1
            continue
        if _channel_closed(connection):
            raise ConnectionLost(f"connection lost while running {command!r} (closed by the device)")
        if now >= deadline:
            raise CommandTimedOut(f"command timed out after {timeout:g}s: {command}")
        if (
            returns
            and returns < MAX_EXTRA_RETURNS
            and now - quiet_since >= CONFIRM_GRACE_SECONDS
            and _ends_with_prompt(tail, prompt)
        ):
            # A prompt line ends the data but the count is short: the device dropped our
            # RETURN, or a prompt-like line paused the output. One more settles it.
            connection.write_channel(connection.RETURN)
            returns += 1
            quiet_since = now
            continue
        wait(min(deadline - now, CONFIRM_GRACE_SECONDS))
    return _assemble(chunks, tail, prompt_block_start(tail, prompt, returns + 1) or 0, command, prompt)


def _head(chunks: list[str], limit: int) -> str:
    """The first ``limit`` characters or so of the output (where the echo is), however many
    reads they took: a device may echo the command one character per read."""
    taken: list[str] = []
    size = 0
    for chunk in chunks:
        if size >= limit:
            break
        taken.append(chunk)
        size += len(chunk)
    return "".join(taken)


def _assemble(
    chunks: list[str], tail: str, end_in_tail: int, command: str, prompt: re.Pattern[str] | None = None
) -> str:
    """The output from its chunks, joined once: the prompts cut off the last chunks and the
    echo off the first before the join, so a large output exists once more at most."""
    drop = len(tail) - end_in_tail  # characters of prompts (and our RETURNs' echoes) at the end
    while drop and chunks:
        last = chunks[-1]
        if len(last) <= drop:
            drop -= len(last)
            chunks.pop()
        else:
            chunks[-1] = last[: len(last) - drop]
            drop = 0
    head = _head(chunks, len(command) + ECHO_SLACK_CHARS)
    stripped = _strip_echo(head, command, prompt)
    removed = len(head) - len(stripped)
    while removed and chunks:
        first = chunks[0]
        if len(first) <= removed:
            removed -= len(first)
            chunks.pop(0)
        else:
            chunks[0] = first[removed:]
            removed = 0
    text = "".join(chunks)
    chunks.clear()
    return text
