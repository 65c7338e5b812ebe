"""The ``--report`` page: one self-contained HTML file describing a run.

Summary, a table per job, every failure with its reason, the changed devices with their
diffs (when the capture history is on) and a timeline of the device sessions. Inline CSS
and inline SVG only, no script, and a Content-Security-Policy that forbids every fetch, so
the page works offline, from a mail attachment or a ticket, and any attempt to load
something shows as an error in the browser's console. Bounded for large runs: what is left
off is counted on the page and is in the ``--json`` file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vcollector.run.report import ReportData, gather_report, write_page
from vcollector.ui.markup import OUTCOME_COLOURS, duration, esc, number, outcome, plural, when
from vcollector.ui.report_changes import changes_section
from vcollector.ui.timeline import MAX_ROWS, build_timeline

if TYPE_CHECKING:
    from vcollector.run.results import JobResult

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
FAILURES_LISTED = 2_000
KINDS_LISTED = 30
_TOTALS = (
    ("jobs", "jobs"),
    ("jobs_succeeded", "jobs succeeded"),
    ("devices_succeeded", "devices succeeded"),
    ("devices_failed", "devices failed"),
    ("devices_invalid", "devices invalid"),
    ("captures_saved", "captures saved"),
    ("changed", "changed"),
    ("unchanged", "unchanged"),
    ("new", "new"),
)
_STYLE = """
:root{color-scheme:light;--line:#d0d7de;--muted:#57606a}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;padding:24px 32px;
color:#1f2328;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid var(--line);
padding-bottom:4px}
nav a{margin-right:14px;color:#0969da}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-weight:600;font-size:12px}
.b-not-run{background:var(--other)}
.banner{padding:8px 12px;border-radius:6px;margin:10px 0;border:1px solid}
.banner.error{background:#ffebe9;border-color:#ff8182}.banner.warn{background:#fff8c5;border-color:#d4a72c}
table{border-collapse:collapse;margin:6px 0 10px}
th,td{border:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
table.kv th{width:140px}
.tiles{display:flex;flex-wrap:wrap;gap:8px;margin:8px 0}
.tile{border:1px solid var(--line);border-radius:6px;padding:6px 12px;min-width:110px}
.tile b{display:block;font-size:20px}.tile span{color:var(--muted);font-size:12px}
.muted,.note{color:var(--muted)}.reason{max-width:60em;word-break:break-word}
.legend span{display:inline-block;margin-right:14px}
.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px;border-radius:2px}
.scroll{overflow:auto;max-height:640px;border:1px solid var(--line);width:fit-content;max-width:100%}
.scroll table{margin:0}
svg.timeline{display:block;font:11px system-ui,sans-serif}
svg .grid{stroke:#e6e8eb}svg .tick{fill:var(--muted);text-anchor:middle}
svg .job{font-weight:600;fill:#1f2328}svg .name{text-anchor:end;fill:#1f2328}
svg rect.bar:hover{stroke:#000;stroke-width:1}
details{margin:4px 0}summary{cursor:pointer}
pre.diff{margin:4px 0 10px;padding:8px;background:#f6f8fa;border:1px solid var(--line);overflow:auto;
font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre.diff .add{color:#116329;background:#dafbe1}pre.diff .del{color:#82071e;background:#ffebe9}
pre.diff .hunk{color:#8250df}pre.diff .file{font-weight:600}
""" + "".join(f".b-{key},.c-{key}{{background:{colour}}}" for key, colour in OUTCOME_COLOURS.items())
_STYLE += f":root{{--other:{OUTCOME_COLOURS['other']}}}"


def write_report(path: Path, document: Mapping[str, Any], results: Sequence[JobResult]) -> None:
    """Write the HTML report of ``document`` (the --json document) atomically, mode 0600;
    raises :class:`~vcollector.errors.ResultsFileError` when it cannot be written."""
    write_page(path, render_report(gather_report(document, results)))


def render_report(data: ReportData) -> str:
    """The whole page."""
    document = data.document
    status = str(document.get("status") or "unknown")
    title = f"vcollector report: {document.get('tool') or 'run'} {document.get('started') or ''} {status}"
    body = [
        "<header>",
        f"<h1>vcollector run report {_badge(status)}</h1>",
        f'<p class="muted">{esc(document.get("tool") or "?")} {esc(document.get("version") or "")}, '
        f"started {when(document.get('started'))}</p>",
        '<nav><a href="#summary">Summary</a><a href="#jobs">Jobs</a><a href="#timeline">Timeline</a>'
        '<a href="#failures">Failures</a><a href="#changes">Changes</a></nav>',
        "</header><main>",
        _summary(document),
        _jobs(document),
        _timeline(document, data.sites),
        _failures(document, data.sites),
        changes_section(data),
        "</main>",
        f'<footer><p class="muted">Written by vcollector {esc(document.get("version") or "")}; '
        "self-contained: nothing on this page is fetched from anywhere.</p></footer>",
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="referrer" content="no-referrer">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{_STYLE}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def _badge(status: str) -> str:
    known = {"success", "failed", "interrupted", "invalid", "not run"}
    css = status.replace(" ", "-") if status in known else "other"
    return f'<span class="badge b-{css}">{esc(status)}</span>'


def _jobs_of(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [job for job in document.get("jobs") or [] if isinstance(job, Mapping)]


def _summary(document: Mapping[str, Any]) -> str:
    interrupted = bool(document.get("interrupted"))
    rows = [
        ("Tool", esc(document.get("tool") or "-")),
        ("Version", esc(document.get("version") or "-")),
        ("Started", when(document.get("started"))),
        ("Ended", when(document.get("ended"))),
        ("Elapsed", duration(document.get("elapsed_ms"))),
        ("Status", _badge(str(document.get("status") or "unknown"))),
        ("Interrupted", "yes" if interrupted else "no"),
        ("Error", esc(document.get("error")) if document.get("error") else "none"),
    ]
    parts = ['<section id="summary"><h2>Summary</h2>']
    if interrupted:
        parts.append(
            '<p class="banner warn">The run was interrupted (Ctrl-C or SIGTERM): sessions were closed, '
            "and this page shows what completed.</p>"
        )
    if document.get("error"):
        early = "The run stopped before any job ran: " if not _jobs_of(document) else "Run-level error: "
        parts.append(f'<p class="banner error">{early}{esc(document["error"])}</p>')
    parts.append('<table class="kv">')
    parts.extend(f"<tr><th>{label}</th><td>{value}</td></tr>" for label, value in rows)
    parts.append("</table>")
    totals = document.get("totals")
    if isinstance(totals, Mapping):
        labels = dict(_TOTALS)
        ordered = [key for key, _ in _TOTALS if key in totals] + [key for key in totals if key not in labels]
        parts.append('<div class="tiles">')
        parts.extend(
            f'<div class="tile" data-total="{esc(key)}"><b>{number(totals[key])}</b>'
            f"<span>{esc(labels.get(key, key.replace('_', ' ')))}</span></div>"
            for key in ordered
        )
        parts.append("</div>")
    parts.append("</section>")
    return "\n".join(parts)


def _jobs(document: Mapping[str, Any]) -> str:
    jobs = _jobs_of(document)
    parts = ['<section id="jobs"><h2>Jobs</h2>']
    if not jobs:
        parts.append('<p class="note">No job ran.</p></section>')
        return "\n".join(parts)
    invalid = any("devices_invalid" in job for job in jobs)  # jobs that validate their output
    parts.append(
        '<table class="jobs"><thead><tr><th>Job</th><th>File</th><th>Type</th><th>Matched</th>'
        f"<th>Succeeded</th><th>Failed</th>{'<th>Invalid</th>' if invalid else ''}<th>Captures</th>"
        "<th>Elapsed</th><th>Status</th><th>Error</th></tr></thead><tbody>"
    )
    for job in jobs:
        notes = [esc(job["error"])] if job.get("error") else []
        warnings = job.get("warnings")
        if isinstance(warnings, list):
            notes.extend(f'<span class="muted">warning: {esc(line)}</span>' for line in warnings)
        count = f'<td class="n">{number(job.get("devices_invalid"))}</td>' if invalid else ""
        parts.append(
            f"<tr><td>{esc(job.get('job_id'))}</td><td>{esc(job.get('file'))}</td>"
            f"<td>{esc(job.get('capture_type') or '')}</td>"
            f'<td class="n">{number(job.get("devices_matched"))}</td>'
            f'<td class="n">{number(job.get("devices_succeeded"))}</td>'
            f'<td class="n">{number(job.get("devices_failed"))}</td>{count}'
            f'<td class="n">{number(job.get("captures_saved"))}</td>'
            f'<td class="n">{duration(job.get("elapsed_ms"))}</td>'
            f"<td>{_badge(str(job.get('status') or 'unknown'))}</td>"
            f'<td class="reason">{"<br>".join(notes)}</td></tr>'
        )
    parts.append("</tbody></table></section>")
    return "\n".join(parts)


def _failures(document: Mapping[str, Any], sites: Mapping[tuple[int, int], str]) -> str:
    failed = [
        (job_index, device_index, job, device)
        for job_index, job in enumerate(_jobs_of(document))
        for device_index, device in enumerate(job.get("devices") or [])
        if isinstance(device, Mapping) and outcome(device) != "success"
    ]
    parts = ['<section id="failures"><h2>Failures</h2>']
    if not failed:
        parts.append('<p class="note">No device failed.</p></section>')
        return "\n".join(parts)
    kinds = Counter(str(device.get("failure") or outcome(device)) for *_, device in failed)
    ranked = sorted(kinds.items(), key=lambda item: (-item[1], item[0]))[:KINDS_LISTED]
    listed = ", ".join(f"{esc(kind)} {count:,}" for kind, count in ranked)
    more_kinds = f", and {len(kinds) - KINDS_LISTED:,} more kinds" if len(kinds) > KINDS_LISTED else ""
    parts.append(
        f'<p class="kinds">{plural(len(failed), "device")} did not succeed: {listed}{more_kinds}.</p>'
    )
    parts.append(
        '<div class="scroll"><table class="failures"><thead><tr><th>Job</th><th>Device</th><th>Address</th>'
        "<th>Site</th><th>Outcome</th><th>Kind</th><th>Reason</th><th>Elapsed</th></tr></thead><tbody>"
    )
    for job_index, device_index, job, device in failed[:FAILURES_LISTED]:
        parts.append(
            f"<tr><td>{esc(job.get('job_id'))}</td><td>{esc(device.get('name'))}</td>"
            f"<td>{esc(device.get('address') or '')}</td>"
            f"<td>{esc(sites.get((job_index, device_index), ''))}</td>"
            f"<td>{_badge(outcome(device))}</td><td>{esc(device.get('failure') or '')}</td>"
            f'<td class="reason">{esc(device.get("reason") or "")}</td>'
            f'<td class="n">{duration(device.get("elapsed_ms"))}</td></tr>'
        )
    parts.append("</tbody></table></div>")
    if len(failed) > FAILURES_LISTED:
        parts.append(
            f'<p class="note">… {len(failed) - FAILURES_LISTED:,} more failures not listed here '
            "(every one is in the --json results file).</p>"
        )
    parts.append("</section>")
    return "\n".join(parts)


def _timeline(document: Mapping[str, Any], sites: Mapping[tuple[int, int], str]) -> str:
    timeline = build_timeline(document, sites)
    parts = ['<section id="timeline"><h2>Timeline of the device sessions</h2>']
    if not timeline.total:
        parts.append('<p class="note">No device session to show.</p></section>')
        return "\n".join(parts)
    legend = "".join(
        f'<span><i class="c-{key}"></i>{esc(key)} {count:,}</span>'
        for key, count in sorted(timeline.counts.items())
    )
    parts.append(f'<p class="legend">{legend}</p>')
    parts.append(
        '<p class="note">One row per device session, grouped per job and ordered by start; x is the time '
        "since the run started. Hover a bar for the device, address, site, worker, time and reason.</p>"
    )
    if timeline.shown < timeline.total:
        parts.append(
            f'<p class="banner warn">Showing {timeline.shown:,} of {timeline.total:,} sessions (at most '
            f"{MAX_ROWS:,}): every session that did not succeed, then the slowest successful ones. "
            "Every session is in the --json results file.</p>"
        )
    if timeline.untimed:
        parts.append(f'<p class="note">{plural(timeline.untimed, "session")} without times not drawn.</p>')
    parts.append(f'<div class="scroll">{timeline.svg}</div></section>')
    return "\n".join(parts)
