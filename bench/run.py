"""Benchmark: vcollector against a hand-written Nornir script and a raw asyncssh client.

Starts a lean simulated fleet (asyncssh IOS-like devices, in ``--fleet-processes``
processes) on loopback, builds an assets.db and a vault for it, then measures, interleaved
round by round (the order rotates), each of:

1. ``run_job``: our tool as a whole process (paging + enable + show running-config);
2. ``nornir_script``: a plain Nornir + nornir_netmiko script at its best worker count;
3. ``asyncssh_raw``: a raw asyncssh client doing the same exchange (the lower bound);
4. ``run_jobs_shared``: ``run_jobs_concurrent`` with 4 jobs over the same devices;
5. ``run_jobs_per_job``: the same with ``--no-shared-sessions`` (one login per job).

Reports medians of devices/s, per-device latency p50/p90, client CPU per device, peak RSS
of the whole process tree, the device-side login count, and the ratios; writes them to
``bench/results/results.json`` and draws ``bench/results/throughput.png``.

    python -m bench.run --devices 300 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from vcollector.credentials.vault import Credential, Vault
from vcollector_sim.assets import AssetRow, build_assets_db
from vcollector_sim.fleet import free_port
from vcollector_sim.lean_fleet import ENABLE_SECRET, PASSWORD, USERNAME, device_address

REPO = Path(__file__).resolve().parent.parent
VAULT_PASS = "bench-vault-pass"
WORKERS = 50
TOOLS = (
    "run_job",
    "run_job_no_history",
    "nornir_script",
    "asyncssh_raw",
    "run_jobs_shared",
    "run_jobs_per_job",
)
# Runs of one job over the same devices: tools that count each device once.
SINGLE_JOB = ("run_job", "run_job_no_history")


@dataclass
class Measurement:
    """One run of one tool."""

    tool: str
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    devices: int
    failed: int
    latencies_ms: list[float] = field(default_factory=list)
    logins: int = 0
    round_number: int = 0

    @property
    def rate(self) -> float:
        return self.devices / self.wall_s


class Fleet:
    """Lean fleet processes serving ``devices`` devices on one port."""

    def __init__(self, devices: int, processes: int) -> None:
        self.port = free_port([device_address(index) for index in range(devices)])
        share = -(-devices // processes)
        self.processes = []
        for first in range(0, devices, share):
            count = min(share, devices - first)
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "vcollector_sim.lean_fleet",
                    "--devices",
                    str(count),
                    "--first",
                    str(first),
                    "--port",
                    str(self.port),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            self.processes.append(process)
        for process in self.processes:
            assert process.stdout is not None
            if process.stdout.readline().strip() != "ready":
                raise RuntimeError("fleet did not start")

    def stats(self) -> dict[str, int]:
        totals = {"logins": 0, "connections": 0, "peak_sessions_per_device": 0}
        for process in self.processes:
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write("stats\n")
            process.stdin.flush()
            counts = json.loads(process.stdout.readline())
            totals["logins"] += counts["logins"]
            totals["connections"] += counts["connections"]
            totals["peak_sessions_per_device"] = max(
                totals["peak_sessions_per_device"], counts["peak_sessions_per_device"]
            )
        return totals

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


def _tree_rss_kb(root: int) -> int:
    """Resident memory of ``root`` and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        pid, ppid = int(entry.name), int(fields.get("PPid", "0").strip())
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0])
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def _run(command: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """Run ``command``; wall seconds, CPU seconds of its whole tree, peak tree RSS in MB, stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.05):
            peak = max(peak, _tree_rss_kb(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if process.returncode not in (0, 1):
        raise RuntimeError(f"{command[2]} failed ({process.returncode}): {stderr[-2000:]}")
    return wall, cpu, peak / 1024, stdout


def _job(path: Path, job_id: int, command: str, outdir: str, workers: int) -> Path:
    path.write_text(
        json.dumps(
            {
                "job_id": job_id,
                "capture_type": outdir,
                "commands": {
                    "paging_disable": "terminal length 0",
                    "command": command,
                    "output_directory": outdir,
                },
                "execution": {"timeout": 60, "inter_command_time": 0, "max_workers": workers},
            }
        )
    )
    return path


def _latencies_from_json(path: Path) -> tuple[list[float], int]:
    document = json.loads(path.read_text())
    devices = [device for job in document["jobs"] for device in job.get("devices", [])]
    latencies = [float(device["elapsed_ms"]) for device in devices if device["status"] == "success"]
    return latencies, sum(1 for device in devices if device["status"] != "success")


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path, fleet: Fleet) -> None:
        self.args = args
        self.work = work
        self.fleet = fleet
        devices = args.devices
        rows = [AssetRow(f"lean-{index:05d}", "cisco_ios", device_address(index)) for index in range(devices)]
        self.db = build_assets_db(work / "assets.db", rows, port=fleet.port)
        vault = Vault(work / "vault.db")
        vault.init(VAULT_PASS)
        vault.unlock(VAULT_PASS).add(
            Credential("bench", USERNAME, PASSWORD, enable_secret=ENABLE_SECRET), default=True
        )
        self.vault = vault.path
        self.devices_file = work / "devices.json"
        self.devices_file.write_text(
            json.dumps(
                [
                    {
                        "name": f"lean-{index:05d}",
                        "address": device_address(index),
                        "port": fleet.port,
                        "platform": "cisco_ios",
                    }
                    for index in range(devices)
                ]
            )
        )
        jobs = work / "jobs"
        jobs.mkdir()
        self.job = _job(work / "job.json", 1, "enable,show running-config", "configs", WORKERS)
        for index, (command, outdir) in enumerate(
            [
                ("enable,show running-config", "configs"),
                ("show version", "version"),
                ("show clock", "clock"),
                ("enable,show running-config", "configs-b"),
            ]
        ):
            _job(jobs / f"job_{index}.json", 10 + index, command, outdir, 12)
        self.jobs_dir = jobs
        self.env = {
            **os.environ,
            "VELOCITYCMDB_VAULT_PASS": VAULT_PASS,
            "VCOLLECTOR_HOME": str(work / "home"),
        }
        self.nornir_workers = WORKERS

    def _fresh(self, name: str) -> Path:
        path = self.work / "out" / name
        shutil.rmtree(path, ignore_errors=True)
        return path

    def measure(self, tool: str) -> Measurement:
        self.fleet.stats()  # reset the device-side counts
        devices = self.args.devices
        ours = {
            "run_job": ["vcollector.run_job", "--job", str(self.job)],
            "run_job_no_history": ["vcollector.run_job", "--job", str(self.job), "--no-history"],
            "run_jobs_shared": ["vcollector.run_jobs_concurrent", "--jobs-dir", str(self.jobs_dir)],
            "run_jobs_per_job": [
                "vcollector.run_jobs_concurrent",
                "--jobs-dir",
                str(self.jobs_dir),
                "--no-shared-sessions",
            ],
        }
        if tool in ours:
            report = self.work / f"{tool}.json"
            command = [sys.executable, "-m", *ours[tool], "--db", str(self.db), "--vault", str(self.vault)]
            # run_job keeps its captures (and history) between rounds: the first round stores every
            # device as new, the later ones find them unchanged, as nightly runs do.
            output = self.work / "out" / tool if tool == "run_job" else self._fresh(tool)
            command += ["-y", "-q", "--output-dir", str(output), "--json", str(report)]
            wall, cpu, rss, _ = _run(command, self.env)
            latencies, failed = _latencies_from_json(report)
            if tool not in SINGLE_JOB:
                devices *= 4  # four jobs over the same devices
        elif tool == "nornir_script":
            wall, cpu, rss, out = _run(
                [
                    sys.executable,
                    "-m",
                    "bench.baseline_nornir",
                    "--devices",
                    str(self.devices_file),
                    "--workers",
                    str(self.nornir_workers),
                    "--out",
                    str(self._fresh(tool)),
                ],
                self.env,
            )
            latencies, failed = _baseline_latencies(out)
        else:
            wall, cpu, rss, out = _run(
                [
                    sys.executable,
                    "-m",
                    "bench.baseline_asyncssh",
                    "--devices",
                    str(self.devices_file),
                    "--concurrency",
                    "100",
                    "--out",
                    str(self._fresh(tool)),
                ],
                self.env,
            )
            latencies, failed = _baseline_latencies(out)
        logins = self.fleet.stats()["logins"]
        return Measurement(tool, wall, cpu, rss, devices, failed, latencies, logins)

    def pick_nornir_workers(self) -> None:
        """The plain script's best worker count (the baseline gets its best shot)."""
        best: tuple[float, int] | None = None
        for workers in (25, 50, 100):
            self.nornir_workers = workers
            rate = self.measure("nornir_script").rate
            print(f"  nornir_script with {workers} workers: {rate:.1f} devices/s", flush=True)
            if best is None or rate > best[0]:
                best = (rate, workers)
        assert best is not None
        self.nornir_workers = best[1]


def _baseline_latencies(stdout: str) -> tuple[list[float], int]:
    document = json.loads(stdout.strip().splitlines()[-1])
    values = [value * 1000 for value in document["latencies"].values() if value is not None]
    return values, int(document["failed"])


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _per_round_ratios(measurements: list[Measurement], tool: str, baseline: str) -> list[float]:
    rates: dict[tuple[int, str], float] = {(m.round_number, m.tool): m.rate for m in measurements}
    rounds = sorted({m.round_number for m in measurements})
    return [
        round(rates[number, tool] / rates[number, baseline], 2)
        for number in rounds
        if (number, tool) in rates and (number, baseline) in rates
    ]


def summarise(measurements: list[Measurement]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for tool in TOOLS:
        runs = [m for m in measurements if m.tool == tool]
        if not runs:
            continue
        median_run = sorted(runs, key=lambda m: m.wall_s)[len(runs) // 2]
        summary[tool] = {
            "runs": len(runs),
            "wall_s": round(statistics.median(m.wall_s for m in runs), 3),
            "devices": median_run.devices,
            "devices_per_s": round(statistics.median(m.rate for m in runs), 1),
            "latency_p50_ms": round(_percentile(median_run.latencies_ms, 0.5), 1),
            "latency_p90_ms": round(_percentile(median_run.latencies_ms, 0.9), 1),
            "cpu_ms_per_device": round(statistics.median(m.cpu_s * 1000 / m.devices for m in runs), 2),
            "peak_rss_mb": round(max(m.peak_rss_mb for m in runs), 1),
            "failed": max(m.failed for m in runs),
            "logins": median_run.logins,
        }
    ours, nornir, raw = (
        summary.get(name, {}).get("devices_per_s") for name in ("run_job", "nornir_script", "asyncssh_raw")
    )
    ratios: dict[str, Any] = {}
    if ours and nornir:
        ratios["run_job_vs_nornir_script"] = round(ours / nornir, 2)
    if ours and raw:
        ratios["run_job_vs_asyncssh_raw"] = round(ours / raw, 2)
    # The same ratios within each round (the tools ran minutes apart at most): steadier when
    # the machine's speed drifts between rounds.
    for baseline in ("nornir_script", "asyncssh_raw"):
        paired = _per_round_ratios(measurements, "run_job", baseline)
        if paired:
            ratios[f"run_job_vs_{baseline}_per_round"] = paired
    plain = summary.get("run_job_no_history")
    if ours and plain:
        ratios["history_overhead_wall"] = round(summary["run_job"]["wall_s"] / plain["wall_s"], 3)
        paired = _per_round_ratios(measurements, "run_job_no_history", "run_job")
        if paired:
            ratios["history_overhead_wall_per_round"] = paired  # wall with history / without
    shared, per_job = summary.get("run_jobs_shared"), summary.get("run_jobs_per_job")
    if shared and per_job:
        ratios["shared_vs_per_job_wall"] = round(shared["wall_s"] / per_job["wall_s"], 2)
    summary["ratios"] = ratios
    return summary


def draw(summary: dict[str, Any], path: Path, devices: int) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib not installed: no chart)")
        return
    tools = [tool for tool in TOOLS if tool in summary]
    rates = [summary[tool]["devices_per_s"] for tool in tools]
    figure, axes = plt.subplots(figsize=(9, 4.5))
    bars = axes.bar(tools, rates, color=["#1f77b4", "#7f7f7f", "#bcbd22", "#2ca02c", "#98df8a"][: len(tools)])
    axes.bar_label(bars, labels=[f"{rate:.0f}/s" for rate in rates])
    axes.set_ylabel("device executions per second (median)")
    axes.set_title(f"vcollector vs baselines, {devices} lean simulated devices, 2 cores")
    ratios = summary.get("ratios", {})
    axes.text(
        0.99,
        0.97,
        "\n".join(f"{key}: {value}" for key, value in ratios.items()),
        transform=axes.transAxes,
        ha="right",
        va="top",
        fontsize=8,
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--devices", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--fleet-processes", type=int, default=2)
    parser.add_argument(
        "--tools", default=",".join(TOOLS), help="comma-separated subset of " + ", ".join(TOOLS)
    )
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    args = parser.parse_args()
    tools = [tool.strip() for tool in args.tools.split(",") if tool.strip()]
    out: Path = args.out
    work = out / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    print(
        f"Starting a lean fleet of {args.devices} devices in {args.fleet_processes} processes...", flush=True
    )
    fleet = Fleet(args.devices, args.fleet_processes)
    measurements: list[Measurement] = []
    try:
        bench = Bench(args, work, fleet)
        if "nornir_script" in tools:
            print("Picking the Nornir script's best worker count:", flush=True)
            bench.pick_nornir_workers()
        for round_number in range(args.rounds):
            order = tools[round_number % len(tools) :] + tools[: round_number % len(tools)]
            for tool in order:
                measurement = bench.measure(tool)
                measurement.round_number = round_number
                measurements.append(measurement)
                print(
                    f"  round {round_number + 1} {tool:17} {measurement.rate:7.1f} devices/s "
                    f"({measurement.wall_s:.2f}s, cpu {measurement.cpu_s * 1000 / measurement.devices:.1f}"
                    f" ms/device, rss {measurement.peak_rss_mb:.0f} MB, logins {measurement.logins}, "
                    f"failed {measurement.failed})",
                    flush=True,
                )
    finally:
        fleet.stop()
    summary = summarise(measurements)
    document = {
        "date": datetime.now().isoformat(timespec="seconds"),
        "devices": args.devices,
        "rounds": args.rounds,
        "cores": os.cpu_count(),
        "nornir_script_workers": bench.nornir_workers,
        "summary": summary,
        "runs": [m.__dict__ | {"latencies_ms": None} for m in measurements],
    }
    (out / "results.json").write_text(json.dumps(document, indent=2))
    draw(summary, out / "throughput.png", args.devices)
    print()
    header = ("tool", "dev/s", "wall s", "p50 ms", "p90 ms", "cpu ms/dev", "RSS MB", "logins")
    print(f"{header[0]:18} " + " ".join(f"{name:>{11 if 'cpu' in name else 8}}" for name in header[1:]))
    for tool in TOOLS:
        if tool in summary:
            row = summary[tool]
            print(
                f"{tool:18} {row['devices_per_s']:8.1f} {row['wall_s']:8.2f} {row['latency_p50_ms']:8.0f} "
                f"{row['latency_p90_ms']:8.0f} {row['cpu_ms_per_device']:11.1f} {row['peak_rss_mb']:7.0f} "
                f"{row['logins']:7}"
            )
    for key, value in summary["ratios"].items():
        print(f"{key}: {value}")
    print(f"\nWrote {out / 'results.json'} and {out / 'throughput.png'}")


if __name__ == "__main__":
    main()
