"""``--report``: real runs against a simulated fleet, the page rendered by headless Chromium.

What is on the page is read from the DOM the browser built; the console (exceptions,
console errors and warnings, CSP violations) and every URL the page asked for are collected
over the DevTools protocol (tests/support/browser.py). The checker's own tests show that it
reports a script error and a blocked fetch, so a clean result means something.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, CliResult, run_cli
from tests.integration.conftest import lean_env, write_job, write_lean_vault
from tests.support.browser import Chromium, decode_png, find_chromium, require_chromium
from tests.unit.ui.documents import Page
from vcollector.ui.markup import OUTCOME_COLOURS
from vcollector.ui.report_html import CSP
from vcollector_sim.assets import AssetRow, build_assets_db
from vcollector_sim.lean_fleet import LeanDevice, LeanFleet, device_address

AUTH_REASON = "authentication failed"
CHANGE = ["ntp server 10.9.9.9", "logging host <b>10.8.8.8</b> & 'x'"]


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    return write_lean_vault(tmp_path / "vault.db", enable_secret="lean-enable")


def _job(tmp_path: Path, **fields: object) -> Path:
    return write_job(
        tmp_path / "report-job.json",
        commands={"command": "enable,show running-config", "output_directory": "configs"},
        **fields,  # type: ignore[arg-type]
    )


def _run(*args: str, env: dict[str, str]) -> CliResult:
    return run_cli("vcollector.run_job", *args, env=env)


def _check_self_contained(html: str) -> Page:
    """The file as written: a CSP that blocks every fetch, and nothing it could fetch."""
    page = Page(html)
    assert not page.problems, page.problems
    assert {"http-equiv": "Content-Security-Policy", "content": CSP} in page.elements("meta")
    for tag, attrs in page.tags:
        for name in ("src", "href", "xlink:href", "action", "poster", "data", "srcset"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("http:", "https:", "//")), (tag, attrs)
    assert not page.elements("script") and not page.elements("link") and "url(" not in html
    assert not re.search(r"(src|href)\s*=\s*[\"']?\s*(https?:)?//", html, re.IGNORECASE)
    return page


def _render(executable: str, report: Path, screenshot: Path | None = None) -> tuple[Page, Chromium]:
    with Chromium(executable) as browser:
        browser.load(report.as_uri())
        dom = browser.outer_html()
        if screenshot is not None:
            screenshot.write_bytes(browser.screenshot())
            box = browser.box("svg.timeline")
            assert box is not None and box[2] > 500 and box[3] > 40, box
            (screenshot.parent / "timeline.png").write_bytes(browser.screenshot(clip=box))
    page = Page(dom, doctype=False)
    assert not page.problems, page.problems
    assert browser.errors == [], browser.errors
    assert browser.warnings == [], browser.warnings
    assert browser.requests == [report.as_uri()], browser.requests  # the page itself, nothing else
    return page, browser


def test_a_real_run_renders_in_a_browser_with_failures_changes_and_a_timeline(
    vault: Path, tmp_path: Path
) -> None:
    executable = require_chromium()
    devices = [LeanDevice(f"rb-{i}", device_address(4100 + i)) for i in range(3)]
    devices.append(LeanDevice("rb-locked", device_address(4103), password="other"))
    captures, report, results = tmp_path / "captures", tmp_path / "out" / "report.html", tmp_path / "r.json"
    with LeanFleet(devices) as fleet:
        rows = [
            AssetRow(d.name, "cisco_ios", d.address, site="FRA1" if i % 2 else "IAD2")
            for i, d in enumerate(devices)
        ]
        rows.append(AssetRow("rb-refused", "cisco_ios", device_address(4104), site="FRA1"))  # nothing listens
        env = lean_env(build_assets_db(tmp_path / "a.db", rows, port=fleet.port), vault, captures)
        args = ("--job", str(_job(tmp_path)), "-y", "--report", str(report), "--json", str(results))
        first = _run(*args, env=env)
        assert first.returncode == 1, first.output
        fleet.restart("rb-1", extra_config=CHANGE)
        second = _run(*args, env=env)
    assert second.returncode == 1, second.output
    assert "Changes: 1 changed, 2 unchanged, 0 new" in second.stdout, second.stdout
    document = json.loads(results.read_text())
    sessions = [d for job in document["jobs"] for d in job["devices"]]
    assert len(sessions) == 5
    html = report.read_text(encoding="utf-8")
    _check_self_contained(html)
    assert oct(report.stat().st_mode & 0o777) == "0o600"

    shot = tmp_path / "shots" / "report.png"
    shot.parent.mkdir()
    page, _ = _render(executable, report, shot)
    text = page.text
    # The summary and the job table.
    assert "run_job" in text
    assert "report-job" in text and str(tmp_path / "report-job.json") in text
    jobs = page.elements("table", "jobs")
    assert len(jobs) == 1
    # Every failure with its reason.
    locked = next(d for d in sessions if d["name"] == "rb-locked")
    refused = next(d for d in sessions if d["name"] == "rb-refused")
    assert locked["reason"].startswith(AUTH_REASON) and locked["reason"] in text
    assert refused["reason"] == "connection refused" and "connection refused" in text
    assert "2 devices did not succeed: auth 1, connect 1." in text
    # The changed device and its diff, the device's text shown as text.
    assert "rb-1: configs/rb-1.txt +2 −0" in text
    assert "+ntp server 10.9.9.9" in text and "+logging host <b>10.8.8.8</b> & 'x'" in text
    assert "&lt;b&gt;10.8.8.8&lt;/b&gt; &amp; &#x27;x&#x27;" in html
    assert page.elements("details", "diff")
    # The timeline: one bar per session, coloured by outcome, with its tooltip.
    bars = page.elements("rect", "bar")
    assert len(bars) == 5
    assert sorted(b["class"] or "" for b in bars) == ["bar o-failed"] * 2 + ["bar o-success"] * 3
    assert f"rb-locked ({device_address(4103)})\nsite FRA1, worker local" in text
    # The screenshot is a rendered page, with the bars' colours in it.
    image = decode_png(shot.read_bytes())
    assert (image.width, image.height) == (1400, 2000)
    assert image.most_common_share() < 0.97  # not blank: text, tables, bars
    timeline = decode_png((shot.parent / "timeline.png").read_bytes())
    assert (
        timeline.count(OUTCOME_COLOURS["success"]) > 300 and timeline.count(OUTCOME_COLOURS["failed"]) > 100
    )


def test_an_interrupted_run_still_writes_its_report(vault: Path, tmp_path: Path) -> None:
    devices = [
        LeanDevice("ri-fast", device_address(4110)),
        LeanDevice("ri-slow", device_address(4111), delay=20.0),
    ]
    captures, report = tmp_path / "captures", tmp_path / "report.html"
    report.write_text("an old report")
    with LeanFleet(devices) as fleet:
        rows = [AssetRow(d.name, "cisco_ios", d.address) for d in devices]
        env = {
            **os.environ,
            **lean_env(build_assets_db(tmp_path / "a.db", rows, port=fleet.port), vault, captures),
        }
        job = _job(tmp_path, execution={"timeout": 60, "max_workers": 4})
        process = subprocess.Popen(
            [sys.executable, "-m", "vcollector.run_job", "--job", str(job), "-y", "--report", str(report)],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (captures / "configs" / "ri-fast.txt").exists():
            time.sleep(0.1)
        time.sleep(0.3)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stdout + stderr
    html = report.read_text(encoding="utf-8")
    page = _check_self_contained(html)
    assert "The run was interrupted" in page.text and re.search(r"Interrupted\s*yes", page.text)
    assert "ri-fast" in page.text and "ri-slow" in page.text
    classes = sorted(b["class"] or "" for b in page.elements("rect", "bar"))
    assert classes == ["bar o-interrupted", "bar o-success"], classes
    executable = find_chromium()
    if executable:  # rendered cleanly too (required, and checked, by the test above)
        _render(executable, report)


def test_a_run_that_fails_early_still_writes_its_report(vault: Path, tmp_path: Path) -> None:
    report, results = tmp_path / "report.html", tmp_path / "r.json"
    report.write_text("an old report")
    db = build_assets_db(tmp_path / "a.db", [AssetRow("rf-1", "cisco_ios", device_address(4120))], port=22)
    env = {**lean_env(db, vault, tmp_path / "captures"), "VELOCITYCMDB_VAULT_PASS": "not-the-vault-password"}
    result = _run(
        "--job", str(_job(tmp_path)), "-y", "--report", str(report), "--json", str(results), env=env
    )
    assert result.returncode == 1, result.output
    error = json.loads(results.read_text())["error"]
    assert error
    page = _check_self_contained(report.read_text(encoding="utf-8"))
    assert f"The run stopped before any job ran: {error}" in page.text
    assert "No job ran." in page.text and "No device session to show." in page.text
    executable = find_chromium()
    if executable:
        _render(executable, report)


# --- the checker itself: it must see what it is there to see -------------------------


def test_the_checker_reports_a_script_error_and_a_console_error(tmp_path: Path) -> None:
    executable = require_chromium()
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>t</title></head><body><p>x</p>"
        "<script>console.error('deliberate'); notAFunction();</script></body></html>"
    )
    with Chromium(executable) as browser:
        browser.load(page.as_uri())
    assert "console.error: deliberate" in browser.errors
    assert any(e.startswith("uncaught: ReferenceError: notAFunction is not defined") for e in browser.errors)


def test_the_checker_reports_a_fetch_the_policy_blocked(tmp_path: Path) -> None:
    executable = require_chromium()
    page = tmp_path / "fetching.html"
    page.write_text(
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" '
        f'content="{CSP}"><title>t</title></head><body><img alt="" src="https://example.invalid/x.png">'
        "</body></html>"
    )
    with Chromium(executable) as browser:
        browser.load(page.as_uri())
    assert "https://example.invalid/x.png" in browser.requests
    assert any("Content Security Policy" in e and "example.invalid" in e for e in browser.errors), (
        browser.errors
    )


def test_the_checker_passes_a_clean_page(tmp_path: Path) -> None:
    executable = require_chromium()
    page = tmp_path / "clean.html"
    page.write_text(
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="{CSP}"><title>t</title></head><body><p>fine</p></body></html>'
    )
    with Chromium(executable) as browser:
        browser.load(page.as_uri())
        dom = browser.outer_html()
    assert (browser.errors, browser.warnings, browser.requests) == ([], [], [page.as_uri()])
    assert "<p>fine</p>" in dom
