"""Benchmark of the capture history, without devices (the device side is bench/run.py's).

1. ``record``: the history stage of a run of N devices (default 10,000) whose captures are
   all unchanged — fingerprints compared with the index, nothing committed — and of the
   first run, when all are new (one commit).
2. ``read``: a history of V versions (default 100) of D devices (default 1,000), then
   ``vcollector history`` and ``vcollector diff`` of one device as whole processes.

    python -m bench.history --devices 10000 --versions 100 --read-devices 1000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from vcollector.collection.outcome import DeviceOutcome
from vcollector.inventory.records import DeviceRecord
from vcollector.jobs.model import parse_job
from vcollector.run.history import record_history
from vcollector.run.plan import JobPlan
from vcollector.run.results import JobResult
from vcollector.storage.atomic import write_atomic
from vcollector.storage.captures import CaptureTarget
from vcollector.storage.history import Change, History
from vcollector.storage.history_index import Entry, fingerprint
from vcollector_sim.lean_fleet import running_config

REPO = Path(__file__).resolve().parent.parent


def _run(base: Path, devices: int, extra: str = "") -> list[JobResult]:
    job = parse_job(
        {"job_id": "bench", "commands": {"command": "show running-config", "output_directory": "configs"}}
    )
    target = CaptureTarget(base, job, "t")
    records = [
        DeviceRecord(i, f"r{i}", f"r{i}", "127.0.0.1", 22, "cisco_ios", None, "Cisco", None, None, None)
        for i in range(devices)
    ]
    now = datetime.now(timezone.utc)
    outcomes = []
    for device in records:
        text = running_config(device.name, [extra] if extra else []).decode().replace("\r\n", "\n")
        path = target.path_for(device.normalized_name, device.id)
        size = write_atomic(path, text)
        mark = fingerprint(text, "cisco_ios")
        outcomes.append(
            DeviceOutcome(
                device.name,
                device.address,
                device.id,
                True,
                None,
                now,
                now,
                path,
                size,
                platform="cisco_ios",
                history=True,
                blob=mark.blob,
                significant=mark.significant,
            )
        )
    plan = JobPlan(Path("bench.json"), job, records, target)
    return [JobResult(plan, outcomes, now, now)]


def bench_record(base: Path, devices: int) -> dict[str, float]:
    results = _run(base, devices)
    started = time.perf_counter()
    problems = record_history(results, "first")
    first = time.perf_counter() - started
    assert not problems, problems
    results = _run(base, devices)  # the same captures again: all unchanged
    started = time.perf_counter()
    problems = record_history(results, "second")
    unchanged = time.perf_counter() - started
    assert not problems and all(o.change == "unchanged" for o in results[0].outcomes)
    return {"devices": devices, "first_run_all_new_s": first, "unchanged_run_s": unchanged}


def bench_read(base: Path, devices: int, versions: int) -> dict[str, float]:
    history = History(base)
    build = time.perf_counter()
    for version in range(versions):
        changes = []
        for number in range(devices):
            text = running_config(f"r{number}", [f"ntp server 10.0.{version}.1"]).decode()
            mark = fingerprint(text, "cisco_ios")
            entry = Entry(
                f"configs/r{number}.txt",
                number,
                f"r{number}",
                f"r{number}",
                "configs",
                "cisco_ios",
                mark.blob,
                mark.significant,
                "",
            )
            changes.append(Change(entry, text.encode()))
        history.record(changes, f"bench version {version}")
    built = time.perf_counter() - build
    env = {**os.environ, "VCOLLECTOR_CAPTURE_DIR": str(base), "PYTHONPATH": str(REPO)}
    timings = {}
    for command in (["history", f"r{devices // 2}"], ["diff", f"r{devices // 2}"]):
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "vcollector.cli", *command], env=env, capture_output=True, text=True
            )
            best = min(best, time.perf_counter() - started)
            assert done.returncode == 0, done.stderr
        timings[f"vcollector_{command[0]}_s"] = best
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import vcollector.cli.app"], env=env, check=True)
    timings["python_start_and_imports_s"] = time.perf_counter() - started
    return {"devices": devices, "versions": versions, "build_s": built, **timings}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--versions", type=int, default=100)
    parser.add_argument("--read-devices", type=int, default=1_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        record = bench_record(Path(scratch) / "record", args.devices)
        read = bench_read(Path(scratch) / "read", args.read_devices, args.versions)
    print(json.dumps({"record": record, "read": read}, indent=2))
    out = REPO / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "history.json").write_text(json.dumps({"record": record, "read": read}, indent=2))


if __name__ == "__main__":
    main()
