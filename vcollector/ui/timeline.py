"""The report's timeline: one bar per device session, from its start to its end, drawn as
inline SVG (no script, nothing fetched).

Rows are grouped per job and ordered by start; x is the time since the run started; a bar's
colour is its outcome and its ``<title>`` (the browser's tooltip) names the device, address,
site, worker, elapsed time and reason. A run of more sessions than :data:`MAX_ROWS` shows
every session that did not succeed and then the slowest successful ones, up to that many,
and says so: the page stays small while slow sites and stalls still stand out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from vcollector.ui.markup import OUTCOME_COLOURS, OUTCOME_LABELS, duration, esc, outcome, parse_time

MAX_ROWS = 500
LABEL_WIDTH = 240
PLOT_WIDTH = 880
RIGHT = 24
AXIS = 30
JOB_ROW = 20
NAME_CHARS = 34
_STEPS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800)


@dataclass(frozen=True)
class Session:
    """One device session of the run, placed on the timeline."""

    job: int
    order: int  # the device's position in its job
    name: str
    start: float  # seconds since the run started
    end: float
    outcome: str
    tooltip: tuple[str, ...]  # lines of the bar's <title>


@dataclass
class Timeline:
    """The drawn timeline and what it left out."""

    svg: str
    total: int  # sessions with a start and an end
    shown: int
    untimed: int = 0  # sessions without usable times (not drawn)
    counts: dict[str, int] = field(default_factory=dict)  # outcome -> sessions (all, not only shown)


def build_timeline(document: Mapping[str, Any], sites: Mapping[tuple[int, int], str]) -> Timeline:
    """The timeline of ``document`` (the --json document); ``sites`` by (job, device) index."""
    jobs = [job for job in document.get("jobs") or [] if isinstance(job, Mapping)]
    timed: list[tuple[int, int, Mapping[str, Any], datetime, datetime]] = []
    untimed = 0
    for job_index, job in enumerate(jobs):
        for device_index, device in enumerate(job.get("devices") or []):
            start, end = parse_time(device.get("started")), parse_time(device.get("ended"))
            if start is None or end is None:
                untimed += 1
                continue
            timed.append((job_index, device_index, device, start, max(start, end)))
    counts: dict[str, int] = {}
    for *_, device, _start, _end in timed:
        counts[outcome(device)] = counts.get(outcome(device), 0) + 1
    if not timed:
        return Timeline("", 0, 0, untimed, counts)
    origin = min([parse_time(document.get("started")) or timed[0][3], *(row[3] for row in timed)])
    sessions = [
        Session(
            job_index,
            device_index,
            str(device.get("name") or "?"),
            (start - origin).total_seconds(),
            (end - origin).total_seconds(),
            outcome(device),
            _tooltip(device, sites.get((job_index, device_index))),
        )
        for job_index, device_index, device, start, end in timed
    ]
    ended = parse_time(document.get("ended"))
    span = max([0.001, *(s.end for s in sessions), (ended - origin).total_seconds() if ended else 0.0])
    chosen = select(sessions, MAX_ROWS)
    labels = [_job_label(job, sum(1 for s in sessions if s.job == index)) for index, job in enumerate(jobs)]
    return Timeline(_svg(chosen, labels, span), len(sessions), len(chosen), untimed, counts)


def select(sessions: Sequence[Session], limit: int) -> list[Session]:
    """At most ``limit`` sessions: every one that did not succeed first, then the slowest
    successful ones; returned grouped per job and ordered by start."""
    if len(sessions) > limit:
        ranked = sorted(sessions, key=lambda s: (s.outcome == "success", -(s.end - s.start), s.start))
        sessions = ranked[:limit]
    return sorted(sessions, key=lambda s: (s.job, s.start, s.order))


def _job_label(job: Mapping[str, Any], sessions: int) -> str:
    kind = f" ({job['capture_type']})" if job.get("capture_type") else ""
    return f"job {job.get('job_id', '?')}{kind}: {sessions:,} session{'' if sessions == 1 else 's'}"


def _tooltip(device: Mapping[str, Any], site: str | None) -> tuple[str, ...]:
    parts = [f"{device.get('name') or '?'} ({device.get('address') or 'no address'})"]
    parts.append(f"site {site or '-'}, worker {device.get('worker') or 'local'}")
    parts.append(f"{duration(device.get('elapsed_ms'))}, {OUTCOME_LABELS[outcome(device)]}")
    if device.get("reason"):
        kind = f" [{device['failure']}]" if device.get("failure") else ""
        parts.append(f"{device['reason']}{kind}")
    return tuple(parts)


def _step(span: float) -> float:
    return next((step for step in _STEPS if span / step <= 10), 3600.0 * math.ceil(span / 36000))


def _offset(seconds: float, step: float) -> str:
    if step < 1:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min" + (f" {rest:02d} s" if rest else "")
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h" + (f" {minutes:02d} min" if minutes else "")


def _svg(sessions: Sequence[Session], labels: Sequence[str], span: float) -> str:
    row = 14 if len(sessions) <= 150 else 10
    bar = row - 4
    jobs_shown = list(dict.fromkeys(s.job for s in sessions))
    height = AXIS + len(jobs_shown) * JOB_ROW + len(sessions) * row + 8
    width = LABEL_WIDTH + PLOT_WIDTH + RIGHT
    scale = PLOT_WIDTH / span
    step = _step(span)
    parts = [
        f'<svg class="timeline" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="Timeline of {len(sessions):,} device sessions">'
    ]
    for count in range(int(span / step + 1e-9) + 1):
        x = LABEL_WIDTH + count * step * scale
        parts.append(
            f'<line class="grid" x1="{x:.1f}" y1="{AXIS - 6}" x2="{x:.1f}" y2="{height - 4}"/>'
            f'<text class="tick" x="{x:.1f}" y="{AXIS - 10}">{esc(_offset(count * step, step))}</text>'
        )
    y = AXIS
    current = -1
    for session in sessions:
        if session.job != current:
            current = session.job
            parts.append(f'<text class="job" x="4" y="{y + JOB_ROW - 6}">{esc(labels[current])}</text>')
            y += JOB_ROW
        name = session.name if len(session.name) <= NAME_CHARS else session.name[: NAME_CHARS - 1] + "…"
        x = LABEL_WIDTH + session.start * scale
        length = max(1.0, (session.end - session.start) * scale)
        parts.append(
            f'<text class="name" x="{LABEL_WIDTH - 6}" y="{y + bar}">{esc(name)}</text>'
            f'<rect class="bar o-{session.outcome}" x="{x:.1f}" y="{y + 2}" width="{length:.1f}" '
            f'height="{bar}" fill="{OUTCOME_COLOURS[session.outcome]}">'
            f"<title>{'&#10;'.join(esc(line) for line in session.tooltip)}</title></rect>"
        )
        y += row
    parts.append("</svg>")
    return "".join(parts)
