"""The report's changes: devices whose captures changed or were new, and the diffs.

Diff text is what the capture files hold (escaped, control characters shown as ``\\xNN``);
its bounds are set where the diffs are gathered (:mod:`vcollector.run.report`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vcollector.run.report import DIFF_DEVICES, DIFF_LINES_TOTAL, DIFF_SECONDS, DeviceDiff, ReportData
from vcollector.ui.markup import esc, number, plural

CHANGES_LISTED = 1_000
DIFFS_OPEN = 5  # the first diffs are shown expanded


def changes_section(data: ReportData) -> str:
    """The "Changes" section: counts, a table of changed and new devices, then the diffs."""
    document = data.document
    rows = [
        (job_index, device_index, job, device)
        for job_index, job in enumerate(document.get("jobs") or [])
        if isinstance(job, Mapping)
        for device_index, device in enumerate(job.get("devices") or [])
        if isinstance(device, Mapping) and device.get("change") in {"changed", "new"}
    ]
    recorded = any(
        isinstance(device, Mapping) and device.get("change")
        for job in document.get("jobs") or []
        if isinstance(job, Mapping)
        for device in job.get("devices") or []
    )
    parts = ['<section id="changes"><h2>Changes</h2>']
    if not recorded:
        parts.append(
            '<p class="note">No capture history for this run (history is off for its jobs, --no-save, '
            "or no capture was saved).</p></section>"
        )
        return "\n".join(parts)
    found = document.get("totals")
    totals: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    parts.append(
        f"<p>{number(totals.get('changed', 0))} changed, {number(totals.get('unchanged', 0))} unchanged, "
        f"{number(totals.get('new', 0))} new (significant content: volatile lines such as timestamps "
        "do not count).</p>"
    )
    if not rows:
        parts.append('<p class="note">No capture changed.</p></section>')
        return "\n".join(parts)
    parts.append(
        '<div class="scroll"><table class="changes"><thead><tr><th>Job</th><th>Device</th><th>Change</th>'
        "<th>Lines +</th><th>Lines −</th><th>Revision</th><th>Diff</th></tr></thead><tbody>"
    )
    for job_index, device_index, job, device in rows[:CHANGES_LISTED]:
        found = data.diffs.get((job_index, device_index))
        parts.append(
            f"<tr><td>{esc(job.get('job_id'))}</td><td>{esc(device.get('name'))}</td>"
            f"<td>{esc(device.get('change'))}</td>"
            f'<td class="n">{number(device.get("lines_added"))}</td>'
            f'<td class="n">{number(device.get("lines_removed"))}</td>'
            f"<td><code>{esc(str(device.get('revision') or '')[:10])}</code></td>"
            f"<td>{_diff_cell(job_index, device_index, device, found)}</td></tr>"
        )
    parts.append("</tbody></table></div>")
    if len(rows) > CHANGES_LISTED:
        parts.append(
            f'<p class="note">… {len(rows) - CHANGES_LISTED:,} more changed or new devices not listed '
            "(see the --json results file, or: vcollector changes).</p>"
        )
    parts.extend(_diffs(data, rows))
    parts.append("</section>")
    return "\n".join(parts)


def _diff_cell(job_index: int, device_index: int, device: Mapping[str, Any], found: DeviceDiff | None) -> str:
    if device.get("change") == "new":
        return '<span class="muted">first version</span>'
    if found is None:
        return '<span class="muted">-</span>'
    if found.lines:
        return f'<a href="#diff-{job_index}-{device_index}">diff</a>'
    return f'<span class="muted">{esc(found.note or "")}</span>'


def _diffs(data: ReportData, rows: list[tuple[int, int, Mapping[str, Any], Mapping[str, Any]]]) -> list[str]:
    parts = ["<h3>Diffs against the previous version</h3>"]
    shown = 0
    for job_index, device_index, _job, device in rows:
        found = data.diffs.get((job_index, device_index))
        if found is None or not found.lines:
            continue
        name = device.get("name")
        summary = (
            f"{esc(name)}: {esc(found.path)} +{number(device.get('lines_added'))} "
            f"−{number(device.get('lines_removed'))}"
        )
        more = (
            f'<p class="note">… {found.left_off:,} more lines (vcollector diff {esc(name)})</p>'
            if found.left_off
            else ""
        )
        opened = " open" if shown < DIFFS_OPEN else ""
        parts.append(
            f'<details id="diff-{job_index}-{device_index}" class="diff"{opened}><summary>{summary}</summary>'
            f'<pre class="diff">{_diff_lines(found.lines)}</pre>{more}</details>'
        )
        shown += 1
    if shown == 0:
        parts.append('<p class="note">No diff to show.</p>')
    if data.diffs_not_shown:
        parts.append(
            f'<p class="note">{plural(data.diffs_not_shown, "more changed device")}: diff not shown '
            f"(a report shows at most {DIFF_DEVICES:,} diffs and {DIFF_LINES_TOTAL:,} diff lines, read in "
            f"{DIFF_SECONDS:g} s at most); see: vcollector diff DEVICE.</p>"
        )
    return parts


def _diff_lines(lines: tuple[str, ...]) -> str:
    marked = []
    for line in lines:
        if line.startswith(("+++", "---")):
            css = "file"
        elif line.startswith("@@"):
            css = "hunk"
        elif line.startswith("+"):
            css = "add"
        elif line.startswith("-"):
            css = "del"
        else:
            css = ""
        text = esc(line)
        marked.append(f'<span class="{css}">{text}</span>' if css else text)
    return "\n".join(marked)
