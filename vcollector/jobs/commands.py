"""What a job's commands mean: paging, privilege, and (later) whether they change a device."""

from __future__ import annotations

import re

# Commands that only switch paging off. Netmiko already disables paging when it
# prepares a session, so their output (e.g. Junos "Screen length set to 0") is never
# part of a capture.
_PAGING_COMMAND = re.compile(
    r"^(?:term(?:inal)?\s+len(?:gth)?\s+0"
    r"|set\s+cli\s+screen-length\s+0"
    r"|term(?:inal)?\s+pager\s+0"
    r"|screen-length\s+0(?:\s+temporary)?"
    r"|no\s+page"
    r"|terminal\s+datadump)$",
    re.IGNORECASE,
)


def is_paging_command(command: str) -> bool:
    """Tell whether ``command`` only disables paging (its output is never captured)."""
    return bool(_PAGING_COMMAND.match(command.strip()))


def is_enable_command(command: str) -> bool:
    """Tell whether ``command`` asks for privileged mode (run as Netmiko's ``enable()``)."""
    return command.strip().lower() == "enable"


# vcollector collects; a job that would change a device is refused unless it says
# "execution": {"allow_changes": true}. A command's first word may be abbreviated, as the
# CLIs accept it ("conf t", "wr", "rel"), but a prefix of a read-only word stays read-only
# ("sh" is show, not shutdown).
_READ_ONLY_WORDS = (
    "show", "ping", "traceroute", "terminal", "enable", "disable", "exit", "quit", "dir", "more",
    "who", "where", "display", "monitor", "screen-length", "help",
)  # fmt: skip
_CHANGING_WORDS = (
    "configure", "config", "write", "copy", "delete", "erase", "reload", "clear", "debug", "undebug",
    "format", "squeeze", "commit", "rollback", "request", "restart", "edit", "load", "install",
    "upgrade", "boot", "archive", "tclsh", "bash", "send", "crypto", "license", "shutdown", "reset",
    "rename", "mkdir", "rmdir", "test", "start", "system",
)  # fmt: skip
_EXACT_CHANGING = frozenset({"no", "wr", "set"})
_WRITING_PIPES = re.compile(r"\|\s*(?:redirect|tee|append|save)\b", re.IGNORECASE)
_FILE_CHANGES = frozenset({"delete", "copy", "rename", "archive", "compare"})


def changing_reason(command: str) -> str | None:
    """What in ``command`` would change the device (``"conf = configure"``); None: it only reads."""
    words = command.strip().lower().split()
    if not words:
        return None
    pipe = _WRITING_PIPES.search(command)
    if pipe:
        return f"{' '.join(pipe.group(0).split())} writes a file"
    first = words[0]
    if first == "set":
        return None if len(words) > 1 and words[1] == "cli" else "set"
    if first == "file" and len(words) > 1 and words[1] in _FILE_CHANGES:
        return f"file {words[1]}"
    if first in _EXACT_CHANGING:
        return "wr = write" if first == "wr" else first
    if any(word.startswith(first) for word in _READ_ONLY_WORDS):
        return None
    if len(first) >= 2:
        for word in _CHANGING_WORDS:
            if word.startswith(first):
                return word if word == first else f"{first} = {word}"
    return None
