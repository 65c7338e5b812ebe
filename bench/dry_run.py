"""Benchmark: ``run_job --dry-run`` and ``run_jobs_concurrent --dry-run`` over a large assets.db.

A dry run loads the job, selects the devices and prints them: what an operator runs before
every change to a job, so it must stay quick at any inventory size. This writes an
assets.db of ``--devices`` devices (a tenth of them matching the job's platform filter, the
rest spread over other platforms and sites) and times each tool as a whole process (Python
start-up included), ``--rounds`` times, alternating.

    python -m bench.dry_run --devices 100000 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vcollector_sim.assets import AssetRow, build_assets_db

REPO = Path(__file__).resolve().parent.parent
PLATFORMS = ("cisco_ios", "cisco_xe", "arista_eos", "juniper_junos", "cisco_nxos")


def _rows(devices: int) -> list[AssetRow]:
    return [
        AssetRow(
            f"dev-{index:06d}",
            PLATFORMS[index % 10] if index % 10 < len(PLATFORMS) else "cisco_xe",
            f"10.{index // 65536 % 256}.{index // 256 % 256}.{index % 256}",  # never contacted
            site=f"S{index % 50:02d}",
        )
        for index in range(devices)
    ]


def _time(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[2:4])} failed: {done.stderr or done.stdout[-400:]}")
    return wall, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--all", action="store_true", help="a job without a filter: every device matches")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vcollector-dry-") as scratch:
        work = Path(scratch)
        db = build_assets_db(work / "assets.db", _rows(args.devices))
        job = work / "job.json"
        job.write_text(json.dumps({
            "version": "2.0", "job_id": "dry", "capture_type": "configs",
            "device_filter": {} if args.all else {"platform": "cisco_ios"},
            "commands": {"command": "show running-config", "output_directory": "configs"},
        }))  # fmt: skip
        env = {**os.environ, "VCOLLECTOR_HOME": str(work / "home"), "VCOLLECTOR_CAPTURE_DIR": str(work / "c")}
        python = [sys.executable, "-m"]
        tools = {
            "run_job": [*python, "vcollector.run_job", "--job", str(job)],
            "run_jobs_concurrent": [*python, "vcollector.run_jobs_concurrent", "--jobs", str(job)],
        }
        walls: dict[str, list[float]] = {name: [] for name in tools}
        matched = ""
        for _ in range(args.rounds):
            for name, command in tools.items():
                wall, out = _time([*command, "--db", str(db), "--dry-run"], env)
                walls[name].append(wall)
                matched = next((line for line in out.splitlines() if "matching device" in line), matched)
    print(f"{args.devices:,} devices in assets.db; {matched.strip().rstrip(':')}")
    for name, runs in walls.items():
        each = ", ".join(f"{wall:.2f}" for wall in runs)
        print(f"{name:20} median {statistics.median(runs):.2f} s  (runs {each})")
    args.out.mkdir(parents=True, exist_ok=True)
    result = {"devices": args.devices, "rounds": args.rounds, "wall_s": walls}
    (args.out / "dry_run.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
