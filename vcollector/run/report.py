"""What the ``--report`` page shows, gathered: the ``--json`` document, each device's site,
and the diff of every changed capture against its previous version in the history.

The page itself is drawn by :mod:`vcollector.ui.report_html`. Diffs are bounded (lines per
device, lines, devices and seconds per report, characters per line), so a report of a
5,000-device run stays a page a browser opens and is written in seconds; what was left off
is counted, never silently dropped.
A report only ever shows what the capture files already hold.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vcollector.errors import CaptureError, ResultsFileError
from vcollector.storage.atomic import write_atomic

if TYPE_CHECKING:  # kept light: a run that fails while loading still writes its report
    from vcollector.collection.outcome import DeviceOutcome
    from vcollector.run.results import JobResult
    from vcollector.storage.history import History

DIFF_LINES_PER_DEVICE = 200
DIFF_LINES_TOTAL = 5_000
DIFF_DEVICES = 100  # devices whose diff is read from the history, at most
DIFF_LINE_CHARS = 300
DIFF_INPUT_CHARS = 4_000_000  # a capture larger than this is not diffed here (difflib is slow on it)
DIFF_SECONDS = 10.0  # reading versions from a long history is slow: no more diffs after this

Key = tuple[int, int]  # (job index, device index) in the document


@dataclass(frozen=True)
class DeviceDiff:
    """The diff of one changed capture, as the report shows it."""

    path: str  # in the history: <output directory>/<file>
    lines: tuple[str, ...] = ()  # unified diff lines, without line ends, each bounded
    left_off: int = 0  # lines of this diff not shown
    note: str | None = None  # why no diff is shown


@dataclass
class ReportData:
    """The run's document and what the page adds to it."""

    document: Mapping[str, Any]
    sites: dict[Key, str] = field(default_factory=dict)
    diffs: dict[Key, DeviceDiff] = field(default_factory=dict)
    diffs_not_shown: int = 0  # changed devices beyond the report's diff budget


def gather_report(document: Mapping[str, Any], results: Sequence[JobResult]) -> ReportData:
    """The document with each device's site and, when history is on, its diff."""
    data = ReportData(document)
    changed: list[tuple[Key, DeviceOutcome, str, Path]] = []
    jobs = document.get("jobs") or []
    for job_index, result in enumerate(results):
        if job_index >= len(jobs):
            break
        sites = {device.id: device.site for device in result.plan.devices}
        target = result.plan.target
        for device_index, outcome in enumerate(result.outcomes):
            key = (job_index, device_index)
            site = sites.get(outcome.device_id)
            if site:
                data.sites[key] = site
            if outcome.change == "changed" and outcome.revision and target and outcome.capture_path:
                changed.append((key, outcome, outcome.revision, target.base))
    if changed:
        _gather_diffs(data, changed)
    return data


def _gather_diffs(data: ReportData, changed: Sequence[tuple[Key, DeviceOutcome, str, Path]]) -> None:
    from vcollector.storage.history import History  # dulwich: only when something changed

    budget = DIFF_LINES_TOTAL
    deadline = time.monotonic() + DIFF_SECONDS
    histories: dict[Path, tuple[History, dict[str, list[str]] | str]] = {}
    for count, (key, outcome, revision, base) in enumerate(changed):
        path = _history_path(outcome, base)
        if path is None:
            continue
        if count >= DIFF_DEVICES or budget <= 0 or time.monotonic() > deadline:
            data.diffs_not_shown += 1
            data.diffs[key] = DeviceDiff(path, note="not shown: the report's diff budget is spent")
            continue
        if base not in histories:
            history = History(base)
            histories[base] = (history, _revisions(history))
        history, revisions = histories[base]
        if isinstance(revisions, str):
            data.diffs[key] = DeviceDiff(path, note=f"no diff: {revisions}")
            continue
        shown = _device_diff(history, outcome, path, revision, revisions.get(path, []), budget)
        budget -= len(shown.lines)
        data.diffs[key] = shown


def _history_path(outcome: DeviceOutcome, base: Path) -> str | None:
    if outcome.capture_path is None:
        return None
    try:
        return outcome.capture_path.relative_to(base).as_posix()
    except ValueError:
        return None


def _revisions(history: History) -> dict[str, list[str]] | str:
    """Per capture path, the revisions that stored a version of it, newest first (the
    history's log, read once for the whole report); a one-line reason when unreadable."""
    try:
        found: dict[str, list[str]] = {}
        for version, _kind, path in history.log(0):
            found.setdefault(path, []).append(version.revision)
        return found
    except (CaptureError, OSError, ValueError) as exc:
        return f"cannot read the capture history in {history.directory}: {exc}"


def _device_diff(
    history: History, outcome: DeviceOutcome, path: str, revision: str, revisions: list[str], budget: int
) -> DeviceDiff:
    if revision not in revisions:
        return DeviceDiff(path, note=f"no diff: version {revision[:10]} is not in the history's log")
    position = revisions.index(revision)
    if position + 1 >= len(revisions):
        return DeviceDiff(path, note="no diff: no earlier version in the history")
    previous = revisions[position + 1]
    try:
        old = history.content(path, previous).decode("utf-8", "replace")
        new = _current(outcome) or history.content(path, revision)
    except (CaptureError, OSError, ValueError) as exc:
        return DeviceDiff(path, note=f"no diff: {exc}")
    if len(old) > DIFF_INPUT_CHARS or len(new) > DIFF_INPUT_CHARS:
        return DeviceDiff(path, note=f"no diff here: a version is over {DIFF_INPUT_CHARS:,} characters")
    lines = capture_diff(old, new.decode("utf-8", "replace"), path, previous, revision)
    room = max(0, min(DIFF_LINES_PER_DEVICE, budget))
    return DeviceDiff(path, tuple(_bounded(line) for line in lines[:room]), max(0, len(lines) - room))


def _current(outcome: DeviceOutcome) -> bytes | None:
    """This run's version from its capture file, when the file still holds what the run
    stored (its blob id): each read of the history opens the repository anew."""
    from vcollector.storage.history_index import blob_id

    if outcome.capture_path is None or not outcome.blob:
        return None
    try:
        data = outcome.capture_path.read_bytes()
    except OSError:
        return None
    return data if blob_id(data) == outcome.blob else None


def capture_diff(old: str, new: str, path: str, older: str, newer: str) -> list[str]:
    """The unified diff of two versions of a capture, as ``vcollector diff`` prints it (the
    same headers, ``path@revision``), one item per line without its line end."""
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"{path}@{older[:10]}",
        tofile=f"{path}@{newer[:10]}",
    )
    return [line.rstrip("\r\n") for line in lines]


def _bounded(line: str) -> str:
    if len(line) <= DIFF_LINE_CHARS:
        return line
    return f"{line[:DIFF_LINE_CHARS]}… ({len(line) - DIFF_LINE_CHARS:,} more characters)"


def write_page(path: Path, page: str) -> None:
    """Write the report atomically (mode 0600); :class:`ResultsFileError` on failure."""
    try:
        write_atomic(path.expanduser(), page)
    except OSError as exc:
        raise ResultsFileError(f"cannot write report {path}: {exc.strerror or exc}") from exc
