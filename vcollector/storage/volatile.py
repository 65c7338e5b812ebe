"""What counts as a change: drop the lines that change on their own, then count changed lines.

Sources of the rules: the lines Oxidized's models drop as dynamic (github.com/ytti/oxidized,
``lib/oxidized/model/{ios,nxos,eos,junos,iosxr}.rb`` ``cfg.gsub!``/``reject``/``take_while``,
up to commit 687ed42, and its ``significant_changes`` test data), plus the uptime, clock and
exec-timestamp lines of ``show`` output on the same platforms. :func:`significant_text` is used
only to compare two versions; the stored capture is never modified. An unknown platform gets the
union of all rule sets, so a dynamic line is never reported as a configuration change.

:func:`count_changes` counts lines added and removed like a line diff (a moved line is one of each)
without ``difflib``'s worst case: common head and tail are cut off, lines unique to both sides
anchor the rest (patience diff), and only the small gaps between anchors go to ``difflib``.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections import Counter
from collections.abc import Sequence
from difflib import SequenceMatcher

from vcollector.storage.scrub import lines_containing, platform_family

_DAYS = ("Mon ", "Tue ", "Wed ", "Thu ", "Fri ", "Sat ", "Sun ")
_DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_HMS = r"\d{1,2}:\d{2}:\d{2}(?:\.\d+)?"

# fmt: off
# Each row: words one of which the line contains (found with str.find, so most lines cost no regex)
# and a pattern matched at the start of the line after any blanks; the whole line goes.
# "[ \t]" and never "\s" in patterns, which would run on into the next line.
_COMMON = (
    (("uptime is",), r"\S.*? uptime is \d"),  # IOS/XE/XR "<host> uptime is 4 weeks", NX-OS "Kernel uptime is"
    (("Uptime ",), r"Uptime (?:for this control processor )?is "),  # IOS-XE route processor, "Uptime is"
    # IOS show version: "returned to ROM" names the last reload and its time.
    (("System returned to ROM by ",), r"System returned to ROM by "),
    (("System restarted at ",), r"System restarted at "),
    # The header IOS puts on every output with 'exec prompt timestamp' (also in show clock detail).
    (("Load for five secs:",), r"Load for five secs:"),
    (("Time source is ", "No time source, "), r"(?:Time source is |No time source, )"),
    # show clock (IOS, NX-OS "*10:12:13.456 UTC Mon Mar 4 2024"); XR's stamp before each output, EOS clock.
    (_DAYS, r"[*.]?" + _HMS + r" [A-Za-z][\w+-]* " + _DAY + " " + _MONTH + r" +\d{1,2} \d{4}[ \t\r]*$"),
    (_DAYS, _DAY + " " + _MONTH + r" +\d{1,2} " + _HMS + r"(?: [A-Za-z][\w+-]*)?(?: \d{4})?[ \t\r]*$"),
)
_IOS = (
    (("! Last configuration change", "! No configuration change"),
     r"! (?:Last|No) configuration change (?:at|since)"),  # Oxidized ios: changes with every 'write'
    (("! NVRAM config last updated",), r"! NVRAM config last updated"),
    (("ntp clock-period ",), r"ntp clock-period "),  # Oxidized ios: the clock discipline rewrites it
    (("Current configuration : ",), r"Current configuration : \d+ bytes"),
    # Oxidized ios drops it from show vtp status.
    (("Configuration last modified by ",), r"Configuration last modified by "),
)
_IOSXR = ((("!! Last configuration change at ",), r"!! Last configuration change at "),)
_NXOS = (
    (("!Time: ",), r"!Time: "),  # Oxidized nxos: the time the command ran
    (("!Running configuration last done at: ",), r"!Running configuration last done at: "),
    (("!No configuration change since last restart",), r"!No configuration change since last restart"),
)
_EOS = (
    (("! Time: ",), r"! Time: "),  # Oxidized eos excludes it in the command itself
    (("! Startup-config last modified at ",), r"! Startup-config last modified at "),
    (("Uptime: ",), r"Uptime: "),
    (("Free memory: ",), r"Free memory: "),
)
_JUNOS = (
    (("## Last commit: ", "## Last changed: "), r"## Last (?:commit|changed): "),
    (("System booted: ",), r"System booted: "),
    (("Current time: ",), r"Current time: "),
    ((" ago)",), r"[^\n]*\([^()\n]* ago\)"),  # show system uptime: "Protocols started: … (1w2d 03:04 ago)"
    (("scale-subscriber", "fib-scale", "rib-scale", "VMX-BANDWIDTH"),
     r"(?:scale-subscriber|fib-scale|rib-scale|VMX-BANDWIDTH)[ \t]+\d"),  # Oxidized junos: license use
)
# fmt: on
_FAMILIES = {
    "ios": _COMMON + _IOS,
    "iosxr": _COMMON + _IOSXR,
    "nxos": _COMMON + _NXOS,
    "eos": _COMMON + _EOS,
    "junos": _COMMON + _JUNOS,
}
# Oxidized ios: with auto-bandwidth the device rewrites the bandwidth line of that interface.
_AUTO_BW = re.compile(
    r"^ tunnel mpls traffic-eng bandwidth[^\n]*\n"
    r"(?=(?:[ \t][^\n]*\n)*?[ \t]+tunnel mpls traffic-eng auto-bw)",  # later in the same interface
    re.MULTILINE,
)


@functools.cache
def _volatile(family: str | None) -> tuple[tuple[str, ...], re.Pattern[str]]:
    """The words that make a line a candidate, and the regex that drops it (with its newline)."""
    if family is None:
        rows = tuple(dict.fromkeys(row for family_rows in _FAMILIES.values() for row in family_rows))
    else:
        rows = _FAMILIES[family]
    words = tuple(dict.fromkeys(word for row_words, _ in rows for word in row_words))
    alternation = "|".join(f"(?:{pattern})" for _, pattern in rows)
    return words, re.compile(rf"[ \t]*(?:{alternation})[^\n]*(?:\n|\Z)", re.MULTILINE)


def significant_text(text: str, platform: str | None) -> str:
    """``text`` without the lines that change without a configuration change (for comparing only).

    ``platform`` is a Netmiko device type; unknown or ``None`` drops every family's volatile lines.
    """
    family = platform_family(platform)
    words, volatile = _volatile(family)
    pieces: list[str] = []
    copied = 0
    for start in lines_containing(text, words):
        match = volatile.match(text, start)
        if match is not None:  # a match ends after its own newline, never inside the next line
            pieces.append(text[copied:start])
            copied = match.end()
    if pieces:
        pieces.append(text[copied:])
        text = "".join(pieces)
    if family in ("ios", None) and "auto-bw" in text:
        text = _AUTO_BW.sub("", text)
    return text


# Gaps up to this many line pairs go to difflib without its junk heuristic: exact and still fast.
_SMALL_GAP = 250_000


def count_changes(old: str, new: str) -> tuple[int, int]:
    """Lines ``(added, removed)`` going from ``old`` to ``new``, as a line diff counts them.

    Pass the :func:`significant_text` of both versions. A moved line counts as one added and one
    removed. Linear for identical texts and fast for large ones with few changes.
    """
    if old == new:
        return 0, 0
    a, b = old.splitlines(), new.splitlines()
    common = _common_lines(a, b)
    return len(b) - common, len(a) - common


def _common_lines(a: Sequence[str], b: Sequence[str]) -> int:
    """How many lines a line diff of ``a`` and ``b`` keeps."""
    kept = 0
    pending = [(0, len(a), 0, len(b))]
    while pending:
        alo, ahi, blo, bhi = pending.pop()
        while alo < ahi and blo < bhi and a[alo] == b[blo]:
            alo, blo, kept = alo + 1, blo + 1, kept + 1
        while alo < ahi and blo < bhi and a[ahi - 1] == b[bhi - 1]:
            ahi, bhi, kept = ahi - 1, bhi - 1, kept + 1
        if alo == ahi or blo == bhi:
            continue
        if (ahi - alo) * (bhi - blo) <= _SMALL_GAP:
            matcher = SequenceMatcher(None, a[alo:ahi], b[blo:bhi], autojunk=False)
            kept += sum(block.size for block in matcher.get_matching_blocks())
            continue
        anchors = _unique_anchors(a, alo, ahi, b, blo, bhi)
        if not anchors:
            # Nothing to anchor on (only repeated lines): difflib's junk heuristic keeps it bounded.
            matcher = SequenceMatcher(None, a[alo:ahi], b[blo:bhi])
            kept += sum(block.size for block in matcher.get_matching_blocks())
            continue
        kept += len(anchors)
        prev_i, prev_j = alo, blo
        for i, j in anchors:
            pending.append((prev_i, i, prev_j, j))
            prev_i, prev_j = i + 1, j + 1
        pending.append((prev_i, ahi, prev_j, bhi))
    return kept


def _unique_anchors(
    a: Sequence[str], alo: int, ahi: int, b: Sequence[str], blo: int, bhi: int
) -> list[tuple[int, int]]:
    """The longest run, in order on both sides, of lines that occur once in each range."""
    count_a = Counter(a[alo:ahi])
    count_b = Counter(b[blo:bhi])
    where_b = {line: j for j, line in enumerate(b[blo:bhi], blo) if count_b[line] == 1}
    pairs = [
        (i, where_b[line]) for i, line in enumerate(a[alo:ahi], alo) if count_a[line] == 1 and line in where_b
    ]
    # Longest increasing subsequence of the b positions (patience sorting), then walk it back.
    tails: list[int] = []  # tails[k]: smallest b position ending an increasing run of length k+1
    tail_index: list[int] = []  # index into pairs of that tail
    parent: list[int] = []
    for index, (_, j) in enumerate(pairs):
        k = bisect.bisect_left(tails, j)
        if k == len(tails):
            tails.append(j)
            tail_index.append(index)
        else:
            tails[k] = j
            tail_index[k] = index
        parent.append(tail_index[k - 1] if k else -1)
    run: list[tuple[int, int]] = []
    index = tail_index[-1] if tail_index else -1
    while index >= 0:
        run.append(pairs[index])
        index = parent[index]
    run.reverse()
    return run
