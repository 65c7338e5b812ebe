"""What a device printed: cleaned for a capture file, and checked for rejected commands.

Nornir and Netmiko report ``% Invalid input`` as a successful command; a collector that
saved it would overwrite a good config with an error message.
"""

from __future__ import annotations

import re

# CSI / OSC / two-character escape sequences, then every control character but TAB and LF.
_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][A-Za-z0-9]|\x1b[@-Z\\-_]"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

_REJECTIONS = re.compile(
    r"^\s*(?:"
    r"%\s*(?:Invalid input|Incomplete command|Unknown command|Ambiguous command|Invalid command|"
    r"Unrecognized command|Error: (?:Invalid|Unknown|Incomplete))"
    r"|syntax error(?:, expecting .*)?\.?"
    r"|unknown command\.?"
    r"|error: (?:unknown command|syntax error|invalid command)"
    r"|Invalid command(?: at '\^' marker)?\.?"
    r"|Unrecognized command found at '\^' position\.?"
    r"|Error: Unrecognized command.*"
    r")",
    re.IGNORECASE,
)
# Rejections come first; a long output is only checked at its top (its first lines, within
# its first characters: a 50 MB output is not split into lines for this).
_LINES_CHECKED = 6
_HEAD_CHARS = 16_384




def clean_output(text: str) -> str:
    r"""Capture text: ``\n`` line endings, no escape codes or control characters, one final newline."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ANSI.sub("", text)
    text = _CONTROL.sub("", text)
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n" if lines else ""


def rejection(output: str) -> str | None:
    """The device's error line when ``output`` says the command was rejected, else None."""
    checked = 0
    for line in output[:_HEAD_CHARS].splitlines():
        if not line.strip() or set(line.strip()) <= {"^"}:
            continue
        if _REJECTIONS.match(line):
            return line.strip()
        checked += 1
        if checked >= _LINES_CHECKED:
            break
    return None
