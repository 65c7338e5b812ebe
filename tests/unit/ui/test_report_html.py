"""The --report page: escaping, structure, runs that failed early or were interrupted, bounds."""

from __future__ import annotations

import re
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.unit.ui.documents import Page, device, document, job
from vcollector.errors import ResultsFileError
from vcollector.run.report import DIFF_LINE_CHARS, DeviceDiff, ReportData
from vcollector.run.results_json import results_document
from vcollector.ui import report_html, timeline
from vcollector.ui.report_html import CSP, render_report, write_report

HOSTILE = "<script>alert('x')</script>\"onmouseover=\"alert(1)"


def _page(data: ReportData) -> tuple[str, Page]:
    text = render_report(data)
    page = Page(text)
    assert not page.problems, page.problems
    return text, page


def _structure(page: Page, text: str) -> None:
    assert page.doctype == "DOCTYPE html"
    tags = [tag for tag, _ in page.tags]
    assert tags[:2] == ["html", "head"]
    assert tags.count("html") == tags.count("head") == tags.count("body") == 1
    assert tags.count("title") == 1 + len(page.elements("rect"))  # the page's, then one per bar
    assert {"charset": "utf-8"} in page.elements("meta")
    assert {"http-equiv": "Content-Security-Policy", "content": CSP} in page.elements("meta")
    assert "default-src 'none'" in CSP and "script-src" not in CSP  # scripts fall back to 'none'
    assert not page.elements("script") and not page.elements("link") and not page.elements("iframe")
    for _tag, attrs in page.tags:
        assert not [name for name in attrs if name.startswith("on")], attrs
        for name in ("src", "href"):
            assert not (attrs.get(name) or "").lower().startswith(("http:", "https:", "//")), attrs
    ids = [attrs["id"] for _, attrs in page.tags if attrs.get("id")]
    assert len(ids) == len(set(ids))
    assert not re.search(r"https?://", text)  # nothing that could be fetched, not even a namespace


def test_hostile_names_reasons_and_diffs_are_escaped() -> None:
    doc = document(
        [
            job(
                f"j<b>{HOSTILE}",
                [
                    device(HOSTILE, 0, 2, address='10.0.0.1"><img src=x onerror=alert(1)>'),
                    device(
                        "r2'\"&",
                        1,
                        3,
                        status="failed",
                        failure="auth",
                        reason=f"authentication failed {HOSTILE}\x1b[31m\x00",
                        device_id=2,
                        change=None,
                    ),
                ],
            )
        ],
        error=f"</title><script>evil()</script>{HOSTILE}",
    )
    doc["jobs"][0]["devices"][0].update(change="changed", lines_added=1, lines_removed=1, revision="a" * 40)
    diff = DeviceDiff(
        "configs/x.txt", ("--- a", "+++ b", "@@ -1 +1 @@", f"-{HOSTILE}", "+</pre><script>x()</script>")
    )
    text, page = _page(ReportData(doc, sites={(0, 1): f"<i>{HOSTILE}"}, diffs={(0, 0): diff}))
    _structure(page, text)
    assert "<script" not in text.lower() and "<img" not in text.lower() and "<i>" not in text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&quot;onmouseover=&quot;alert(1)" in text
    assert "\x1b" not in text and "\x00" not in text and "\\x1b[31m\\x00" in text
    # What a reader sees is the text as the device sent it.
    assert f"authentication failed {HOSTILE}" in page.text
    assert "+</pre><script>x()</script>" in page.text
    assert f"<i>{HOSTILE}" in page.text  # the site, in the failures table
    assert "r2&#x27;&quot;&amp; (10.0.0.1)&#10;" in text  # the bar's tooltip


def test_a_run_that_failed_before_any_job_ran(tmp_path: Path) -> None:
    started = datetime(2026, 11, 30, 2, 0, tzinfo=timezone.utc)
    doc = results_document(
        "run_jobs_concurrent", [], started, started + timedelta(seconds=1), error="wrong vault password"
    )
    target = tmp_path / "out" / "report.html"
    write_report(target, doc, [])
    text = target.read_text(encoding="utf-8")
    page = Page(text)
    assert not page.problems, page.problems
    _structure(page, text)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert "The run stopped before any job ran: wrong vault password" in page.text
    assert "No job ran." in page.text and "No device session to show." in page.text
    assert "No device failed." in page.text and "No capture history for this run" in page.text
    assert page.elements("span", "b-failed")
    assert not list(target.parent.glob(".*partial"))


def test_an_interrupted_run_says_so() -> None:
    devices = [
        device("done", 0, 1),
        device("cut", 0, 5, status="failed", failure="interrupted", reason="interrupted", device_id=2),
    ]
    doc = document([job("7", devices)], interrupted=True)
    text, page = _page(ReportData(doc))
    _structure(page, text)
    assert "The run was interrupted" in page.text
    assert re.search(r"Interrupted\s*yes", page.text)
    bars = page.elements("rect", "bar")
    assert [b["class"] for b in bars] == ["bar o-success", "bar o-interrupted"]
    assert "interrupted 1" in page.text  # the legend


def test_the_page_holds_summary_jobs_failures_changes_and_a_bar_per_session() -> None:
    devices = [
        device("a", 0, 2, device_id=1, change="changed", lines_added=2, lines_removed=1, revision="b" * 40),
        device(
            "b", 1, 9, status="failed", failure="timeout", reason="timed out connecting after 8s", device_id=2
        ),
        device("c", 2, 3, status="invalid", reason="TextFSM: no rows", device_id=3),
        device("d", 2, 4, status="mystery", device_id=4, worker="fra1-a@box"),
        device("e", 3, 4, device_id=5, change="new", lines_added=40, lines_removed=0, revision="c" * 40),
    ]
    not_run = {"job_id": "late", "file": "/jobs/late.json", "status": "not run"}
    warning = "no TextFSM template for cisco_ios 'show <x>' (2 devices)"
    doc = document([job("329", devices, devices_invalid=1, warnings=[warning]), not_run])
    diff = DeviceDiff(
        "configs/a.txt", ("--- x", "+++ y", "@@ -1,2 +1,3 @@", " hostname a", "+ntp 1", "-ntp 0")
    )
    text, page = _page(ReportData(doc, sites={(0, 1): "FRA1"}, diffs={(0, 0): diff}))
    _structure(page, text)
    for heading in ("Summary", "Jobs", "Failures", "Timeline of the device sessions", "Changes"):
        assert f"<h2>{heading}</h2>" in text
    assert "timed out connecting after 8s" in page.text and "TextFSM: no rows" in page.text
    assert "3 devices did not succeed: invalid 1, other 1, timeout 1." in page.text
    assert "not run" in page.text and "/jobs/late.json" in page.text
    assert "<th>Invalid</th>" in text and f"warning: {warning}" in page.text
    classes = [b["class"] for b in page.elements("rect", "bar")]
    assert classes == ["bar o-success", "bar o-failed", "bar o-invalid", "bar o-other", "bar o-success"]
    other = page.elements("rect", "o-other")[0]
    assert other["fill"] == "#78909c"  # an unknown status, shown neutrally
    assert "+ntp 1" in page.text and "first version" in page.text
    assert page.elements("details", "diff") and page.elements("a") and '<a href="#diff-0-0">' in text
    assert "b (10.0.0.1)&#10;site FRA1, worker local&#10;8.0 s, failed&#10;timed out connecting" in text
    assert "worker fra1-a@box" in text


def test_five_thousand_devices_stay_bounded() -> None:
    devices = []
    for index in range(5_000):
        failed = index % 7 == 0
        devices.append(
            device(
                f"device-{index:05d}.site-{index % 40}.example.net",
                index * 0.01,
                index * 0.01 + 1 + index % 13,
                device_id=index,
                status="failed" if failed else "success",
                failure="connect" if failed else None,
                reason=f"connection refused by 10.{index % 250}.0.1" if failed else None,
                change="changed" if not failed else None,
                lines_added=3,
                lines_removed=1,
                revision=f"{index:040x}",
            )
        )
    doc = document([job("big-1", devices[:2_500]), job("big-2", devices[2_500:])])
    # The diff budget at its limits: 100 diffs, 5,000 lines of the longest kept length.
    line = "+" + "x" * DIFF_LINE_CHARS
    diffs = {(0, i): DeviceDiff(f"configs/{i}.txt", (line,) * 50, left_off=150) for i in range(1, 101)}
    text, page = _page(ReportData(doc, diffs=diffs, diffs_not_shown=4_185))
    assert len(page.elements("rect", "bar")) == timeline.MAX_ROWS
    assert "Showing 500 of 5,000 sessions" in page.text
    assert len(page.elements("tr")) <= 1 + 2 + 1 + report_html.FAILURES_LISTED + 1 + 1_000 + 10
    assert "4,185 more changed devices: diff not shown" in page.text
    changed = sum(1 for d in devices if d["change"] == "changed")
    assert f"… {changed - 1_000:,} more changed or new devices not listed" in page.text
    assert len(text.encode()) < 3_000_000, len(text.encode())


def test_the_timeline_keeps_failures_then_the_slowest() -> None:
    sessions = [
        timeline.Session(0, i, f"d{i}", float(i), float(i) + (10 if i == 3 else 1), "success", ())
        for i in range(10)
    ]
    sessions[7] = timeline.Session(0, 7, "d7", 7.0, 7.5, "failed", ())
    chosen = timeline.select(sessions, 2)
    assert [s.name for s in chosen] == ["d3", "d7"]  # job order and start order again


def test_a_report_that_cannot_be_written_raises_one_line(tmp_path: Path) -> None:
    (tmp_path / "dir.html").mkdir()
    with pytest.raises(ResultsFileError, match=r"cannot write report .*dir\.html"):
        write_report(tmp_path / "dir.html", document([]), [])
