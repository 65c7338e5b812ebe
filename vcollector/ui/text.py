"""Text that is safe to print: what devices and inventories hold never drives the terminal.

Device names, reasons and outputs come from assets.db rows and device replies. An escape
sequence among them would recolour, move or retitle the operator's terminal, or garble cron
mail; control characters are shown as ``\\xNN`` instead.
"""

from __future__ import annotations

import re

# C0 controls but TAB, DEL, and the C1 controls (U+0080-U+009F: a terminal may act on them too).
_CONTROLS = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with every control character but TAB written as ``\\xNN``; one line stays one."""
    if not _CONTROLS.search(text):
        return text
    return _CONTROLS.sub(lambda match: f"\\x{ord(match.group(0)):02x}", text)
