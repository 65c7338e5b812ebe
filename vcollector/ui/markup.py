"""Small pieces of the HTML report: escaping, times, durations, outcomes and their colours.

Everything a device or an inventory provides (names, addresses, reasons, diffs) is
untrusted: it goes through :func:`esc`, which shows control characters as ``\\xNN`` (an
HTML parser would choke on some) and escapes ``& < > " '``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from vcollector.ui.text import printable

# Outcome -> colour, shared by the page's CSS and the timeline's bars.
OUTCOME_COLOURS = {
    "success": "#2e7d32",
    "failed": "#c62828",
    "interrupted": "#ef6c00",
    "invalid": "#8e24aa",
    "other": "#78909c",  # a status this version does not know: shown neutrally
}
OUTCOME_LABELS = {
    "success": "succeeded",
    "failed": "failed",
    "interrupted": "interrupted",
    "invalid": "invalid output",
    "other": "other",
}


def esc(value: object) -> str:
    """``value`` as text safe inside HTML elements and quoted attributes."""
    return html.escape(printable("" if value is None else str(value)), quote=True)


def outcome(device: Mapping[str, Any]) -> str:
    """The outcome of one device of the document: a key of :data:`OUTCOME_COLOURS`."""
    status, failure = device.get("status"), device.get("failure")
    if status == "success":
        return "success"
    if failure == "interrupted":
        return "interrupted"
    if status == "invalid" or failure == "invalid":
        return "invalid"
    if status == "failed":
        return "failed"
    return "other"


def parse_time(value: object) -> datetime | None:
    """An ISO time of the document, or None when it is missing or not a time."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def when(value: object) -> str:
    """An ISO time as ``2026-11-30 12:00:01.123 UTC`` (escaped); ``-`` when missing."""
    moment = parse_time(value)
    if moment is None:
        return esc(value) if value else "-"
    offset = moment.utcoffset()
    zone = "UTC" if not offset else moment.strftime("%z")
    return esc(f"{moment.strftime('%Y-%m-%d %H:%M:%S')}.{moment.microsecond // 1000:03d} {zone}")


def duration(milliseconds: object) -> str:
    """``850 ms``, ``12.4 s``, ``3 min 05 s``, ``2 h 01 min``; ``-`` when not a number."""
    if not isinstance(milliseconds, (int, float)) or isinstance(milliseconds, bool):
        return "-"
    if milliseconds < 1000:
        return f"{milliseconds:.0f} ms"
    seconds = milliseconds / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def number(value: object) -> str:
    """An integer with thousands separators; ``-`` when not a number."""
    if isinstance(value, bool) or not isinstance(value, int):
        return "-" if value is None else esc(value)
    return f"{value:,}"


def plural(count: int, word: str) -> str:
    """``1 device``, ``2 devices``."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"
