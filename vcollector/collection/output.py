"""What a device printed: cleaned for a capture file, and checked for rejected commands.

Nornir and Netmiko report ``% Invalid input`` as a successful command; a collector that
saved it would overwrite a good config with an error message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from vcollector.storage.scrub import SCRUBBED

# CSI / OSC / two-character escape sequences, then every control character but TAB and LF.
_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][A-Za-z0-9]|\x1b[@-Z\\-_]"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_LINE_END = re.compile(r"\r+\n")

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
    r"""Capture text: what the device printed, with ``
    `` line endings and no escape codes.

        CRLF (and CR CR LF) become LF; ANSI escape sequences and control characters other than
        TAB and LF (NUL, BEL, backspace, a lone CR) go. Nothing else changes: trailing spaces,
        blank lines and the final newline (or its absence) are the device's, because config
        backups are compared and restored.
    """
    # Each step copies the text only when it has something to change (a 100 MB capture
    # should not exist many times over): str.replace is one pass, the regexes run only
    # on what is left.
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            text = _LINE_END.sub("\n", text)
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    if _CONTROL.search(text):
        text = _CONTROL.sub("", text)
    return text


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


# Shorter secrets are not looked for in text: they would blank ordinary words.
MIN_SECRET_LENGTH = 3


def without_secrets(text: str, secrets: Sequence[str]) -> str:
    """``text`` with each of the run's own secrets (a password the device echoed in an error
    line, a config that holds the login password in clear) replaced by ``<removed>``."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= MIN_SECRET_LENGTH and secret in text:
            text = text.replace(secret, SCRUBBED)
    return text
