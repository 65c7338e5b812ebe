"""``vcollector history / diff / changes / show``: what changed, where, and when."""

from __future__ import annotations

import difflib
import json
import re
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated

import typer

from vcollector.cli import common
from vcollector.errors import VCollectorError
from vcollector.storage.captures import default_base
from vcollector.storage.history import History, Version
from vcollector.storage.history_index import Entry

DeviceArgument = Annotated[str, typer.Argument(help="Device name or normalized name.", show_default=False)]
TypeOption = Annotated[
    str | None,
    typer.Option(
        "--type",
        "-t",
        help="Capture type: the output directory (e.g. configs); needed when a device has several.",
    ),
]
HistoryDirOption = Annotated[
    Path | None,
    typer.Option(
        "--output-dir",
        help="Capture base directory (default: $VCOLLECTOR_CAPTURE_DIR, else ~/.vcollector/collections).",
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]
_SPAN = re.compile(r"^(\d+)\s*([mhdw])$")
_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}


def _history(output_dir: Path | None) -> History:
    return History(default_base(output_dir))


def _entry(history: History, device: str, capture_type: str | None) -> Entry:
    if not history.exists():
        common.fail(f"no capture history in {history.directory.parent} (nothing recorded yet)")
    index = history.index()
    found = index.find(device, capture_type)
    if not found:
        what = f" of type {capture_type!r}" if capture_type else ""
        common.fail(f"no history for device {device!r}{what} in {history.directory.parent}")
    if len(found) > 1:
        types = ", ".join(sorted({entry.capture_type for entry in found}))
        common.fail(f"device {device!r} has captures of several types ({types}): give --type")
    return found[0]


def _when(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _version_json(version: Version) -> dict[str, object]:
    return {
        "revision": version.revision,
        "time": datetime.fromtimestamp(version.time, timezone.utc).isoformat(),
        "run": version.run,
        "lines_added": version.lines_added,
        "lines_removed": version.lines_removed,
    }


def history(
    device: DeviceArgument,
    capture_type: TypeOption = None,
    as_json: JsonFlag = False,
    output_dir: HistoryDirOption = None,
) -> None:
    """List the stored versions of a device's capture, newest first."""
    store = _history(output_dir)
    entry = _entry(store, device, capture_type)
    try:
        versions = store.versions(entry.path)
    except VCollectorError as exc:
        common.fail(str(exc))
    if as_json:
        document = {"device": entry.name, "type": entry.capture_type, "path": entry.path}
        common.echo(
            json.dumps({**document, "versions": [_version_json(v) for v in versions]}, indent=2), lines=True
        )
        return
    common.echo(f"{entry.name} ({entry.path}): {len(versions)} version{'s' if len(versions) != 1 else ''}")
    common.echo(f"{'REVISION':12} {'TIME (UTC)':20} {'CHANGE':>12}  RUN")
    for version in versions:
        delta = f"+{version.lines_added} -{version.lines_removed}"
        common.echo(f"{version.revision[:10]:12} {_when(version.time):20} {delta:>12}  {version.run}")


def diff(
    device: DeviceArgument,
    capture_type: TypeOption = None,
    from_revision: Annotated[
        str | None, typer.Option("--from", help="Older version (default: the one before --to).")
    ] = None,
    to_revision: Annotated[
        str | None, typer.Option("--to", help="Newer version (default: the last).")
    ] = None,
    output_dir: HistoryDirOption = None,
) -> None:
    """Show a unified diff between two versions of a device's capture (default: the last two)."""
    store = _history(output_dir)
    entry = _entry(store, device, capture_type)
    try:
        versions = store.versions(entry.path)
        newer = _pick(versions, to_revision) if to_revision else (versions[0] if versions else None)
        if newer is None:
            common.fail(f"{entry.name}: no version to compare")
        older = _pick(versions, from_revision) if from_revision else _before(versions, newer)
        if older is None:
            common.fail(f"{entry.name} has only one version ({newer.revision[:10]}): nothing to compare")
        old_text = store.content(entry.path, older.revision).decode("utf-8", "replace")
        new_text = store.content(entry.path, newer.revision).decode("utf-8", "replace")
    except VCollectorError as exc:
        common.fail(str(exc))
    lines = difflib.unified_diff(
        old_text.splitlines(keepends=True),
        new_text.splitlines(keepends=True),
        fromfile=f"{entry.path}@{older.revision[:10]}",
        tofile=f"{entry.path}@{newer.revision[:10]}",
    )
    shown = "".join(lines)
    common.echo(shown.rstrip("\n") if shown else "(the two versions are identical)", lines=True)


def _pick(versions: list[Version], revision: str) -> Version:
    for version in versions:
        if version.revision.startswith(revision.lower()):
            return version
    common.fail(f"no version {revision!r} of this capture (see: vcollector history)")


def _before(versions: list[Version], newer: Version) -> Version | None:
    position = versions.index(newer)
    return versions[position + 1] if position + 1 < len(versions) else None


def show(
    device: DeviceArgument,
    capture_type: TypeOption = None,
    at: Annotated[str | None, typer.Option("--at", help="Version (default: the last stored).")] = None,
    output_dir: HistoryDirOption = None,
) -> None:
    """Print a device's capture as it was at a version."""
    store = _history(output_dir)
    entry = _entry(store, device, capture_type)
    try:
        text = store.content(entry.path, at).decode("utf-8", "replace")
    except VCollectorError as exc:
        common.fail(str(exc))
    common.echo(text.removesuffix("\n"), lines=True)


def changes(
    since: Annotated[
        str, typer.Option("--since", help="24h, 7d, 2w, 30m or a date (2026-11-30[T12:00]).")
    ] = "24h",
    as_json: JsonFlag = False,
    output_dir: HistoryDirOption = None,
) -> None:
    """List the devices whose captures changed (or were first stored) since a time."""
    store = _history(output_dir)
    start = _since(since)
    if not store.exists():
        common.fail(f"no capture history in {store.directory.parent} (nothing recorded yet)")
    try:
        entries = store.index().entries
        found = store.log(start)
    except VCollectorError as exc:
        common.fail(str(exc))
    rows = [(entries.get(path), version, kind, path) for version, kind, path in found]
    if as_json:
        document = [
            {
                "device": entry.name if entry else path,
                "type": entry.capture_type if entry else path.rpartition("/")[0],
                "path": path,
                "change": kind,
                **_version_json(version),
            }
            for entry, version, kind, path in rows
        ]
        common.echo(json.dumps(document, indent=2), lines=True)
        return
    if not rows:
        common.echo(f"No changes since {_when(start)} UTC.")
        return
    common.echo(f"{'TIME (UTC)':20} {'DEVICE':24} {'TYPE':12} {'CHANGE':8} {'+/-':>10}  REVISION")
    for entry, version, kind, path in rows:
        name = entry.name if entry else path
        folder = entry.capture_type if entry else path.rpartition("/")[0]
        delta = f"+{version.lines_added} -{version.lines_removed}"
        common.echo(
            f"{_when(version.time):20} {name:24} {folder:12} {kind:8} {delta:>10}  {version.revision[:10]}"
        )


def _since(value: str) -> int:
    span = _SPAN.match(value.strip().lower())
    if span:
        return int(time.time()) - int(span.group(1)) * _SECONDS[span.group(2)]
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{value!r}: give 24h, 7d, 2w, 30m or a date like 2026-11-30", param_hint="--since"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp())
