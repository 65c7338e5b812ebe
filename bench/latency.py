"""Benchmark: per-device session time over a link with a round-trip time, and round trips.

On loopback a session's cost is CPU; over a WAN it is mostly round trips. This starts a lean
simulated fleet and a latency proxy in front of it (``vcollector_sim.latency``, its own
process: every byte crosses it RTT/2 late each way, the SSH handshake included), then times
one device's session (connect, ``terminal length 0``, ``enable``, ``show running-config``,
disconnect) for, interleaved and in rotating order:

1. ``asyncssh_raw``: the raw asyncssh client of ``bench.baseline_asyncssh`` (in-process);
2. ``netmiko``: plain Netmiko, ``ConnectHandler(device_type="cisco_ios")`` (in-process);
3. ``vcollector``: vcollector's session code, a Nornir run of ``collect_commands`` over one
   host built the way ``run_job`` builds it (in-process);
4. ``run_job``: ``python -m vcollector.run_job`` for one device as a whole process: its
   wall time (Python start-up included) and the device's own ``elapsed_ms``.

It reports, per RTT, the median and minimum of each, the ratios to raw asyncssh and to
plain Netmiko, the time in RTTs (time / RTT, and (time - time at RTT 0) / RTT: the round
trips that waited for the network) and the prompts the device printed per session.
``--devices N`` (N > 1) measures a whole fleet instead: ``run_job`` (``max_workers``
``--workers``, ``inter_command_time`` 0) against the raw asyncssh client at concurrency
``--workers``, both through the proxy, wall time and ratio. Results go to
``bench/results/latency.json`` (one section per mode).

    python -m bench.latency --rtt-ms 0,40,100 --repeat 5
    python -m bench.latency --devices 1000 --workers 12 --rtt-ms 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncssh

from bench.baseline_asyncssh import _until_prompt, time_one
from vcollector.credentials.vault import Credential, Vault
from vcollector_sim.assets import AssetRow, build_assets_db
from vcollector_sim.fleet import free_port
from vcollector_sim.latency import proxy_address
from vcollector_sim.lean_fleet import ENABLE_SECRET, PASSWORD, USERNAME, device_address

REPO = Path(__file__).resolve().parent.parent
VAULT_PASS = "bench-vault-pass"
COMMANDS = ("terminal length 0", "enable", "show running-config")
TOOLS = ("asyncssh_raw", "netmiko", "vcollector", "run_job")
PREFIX = "127.1"  # the proxy listens for 127.0.b.c on 127.1.b.c
TIMEOUT = 60


def _env(work: Path) -> dict[str, str]:
    """Children run this tree's code (not whatever the venv's editable install points to)."""
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return {
        **os.environ,
        "PYTHONPATH": path,
        "VELOCITYCMDB_VAULT_PASS": VAULT_PASS,
        "VCOLLECTOR_HOME": str(work / "home"),
    }


class _Child:
    """A helper process that prints ``ready`` and answers one line per command on stdin."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", *command],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env=env,
        )
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            self.stop()
            raise RuntimeError(f"{command[0]} did not start")

    def ask(self, line: str) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().strip()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Lab:
    """Lean fleet processes, the latency proxy in front of them, an assets.db and a vault."""

    def __init__(self, work: Path, devices: int, rtt_ms: float, fleet_processes: int) -> None:
        self.work = work
        self.env = _env(work)
        self.devices = devices
        self.addresses = [device_address(index) for index in range(devices)]
        self.proxied = [proxy_address(address, PREFIX) for address in self.addresses]
        self.port = free_port(self.addresses + self.proxied)
        self.children: list[_Child] = []
        try:
            share = -(-devices // max(1, fleet_processes))
            self.fleet = [
                self._start(
                    [
                        "vcollector_sim.lean_fleet",
                        *("--devices", str(min(share, devices - first)), "--first", str(first)),
                        *("--port", str(self.port)),
                    ]
                )
                for first in range(0, devices, share)
            ]
            self.proxy = self._start(
                [
                    "vcollector_sim.latency",
                    *("--rtt-ms", str(rtt_ms), "--devices", str(devices)),
                    *("--port", str(self.port), "--proxy-prefix", PREFIX),
                ]
            )
        except BaseException:
            self.stop()
            raise
        rows = [AssetRow(f"lean-{index:05d}", "cisco_ios", self.proxied[index]) for index in range(devices)]
        self.db = build_assets_db(work / "assets.db", rows, port=self.port)
        vault = Vault(work / "vault.db")
        vault.init(VAULT_PASS)
        vault.unlock(VAULT_PASS).add(self.credential, default=True)
        self.vault = vault.path
        self.devices_file = work / "devices.json"
        self.devices_file.write_text(
            json.dumps(
                [
                    {
                        "name": f"lean-{index:05d}",
                        "address": address,
                        "port": self.port,
                        "platform": "cisco_ios",
                    }
                    for index, address in enumerate(self.proxied)
                ]
            )
        )
        self.known_hosts = work / "known_hosts"

    credential = Credential("bench", USERNAME, PASSWORD, enable_secret=ENABLE_SECRET)

    def _start(self, command: list[str]) -> _Child:
        child = _Child(command, self.env)
        self.children.append(child)
        return child

    def set_rtt(self, rtt_ms: float) -> None:
        if self.proxy.ask(f"rtt {rtt_ms}") != "ok":
            raise RuntimeError("the proxy did not take the RTT")

    def counts(self) -> dict[str, int]:
        """Device-side and proxy counts since the last call (which reset them)."""
        totals = {"logins": 0, "connections": 0, "prompts": 0}
        for child in self.fleet:
            counts = json.loads(child.ask("stats"))
            for key in totals:
                totals[key] += int(counts.get(key, 0))
        proxy = json.loads(self.proxy.ask("stats"))
        totals["chunks_up"], totals["chunks_down"] = int(proxy["chunks_up"]), int(proxy["chunks_down"])
        return totals

    def job(self, workers: int) -> Path:
        path = self.work / f"job-{workers}.json"
        path.write_text(
            json.dumps(
                {
                    "job_id": 1,
                    "capture_type": "configs",
                    "commands": {
                        "paging_disable": COMMANDS[0],
                        "command": ",".join(COMMANDS[1:]),
                        "output_directory": "configs",
                    },
                    "execution": {"timeout": TIMEOUT, "inter_command_time": 0, "max_workers": workers},
                }
            )
        )
        return path

    def stop(self) -> None:
        for child in reversed(self.children):
            child.stop()
        self.children.clear()


# --- one session, each tool ------------------------------------------------------------------


def _netmiko(address: str, port: int) -> None:
    """Plain Netmiko, as its documentation shows it (fast_cli default)."""
    from netmiko import ConnectHandler

    connection = ConnectHandler(
        device_type="cisco_ios",
        host=address,
        port=port,
        username=USERNAME,
        password=PASSWORD,
        secret=ENABLE_SECRET,
    )
    connection.send_command("terminal length 0")
    connection.enable()
    output = connection.send_command("show running-config")
    connection.disconnect()
    if "end" not in output:
        raise RuntimeError("netmiko: no running-config")


def _vcollector_session(address: str, port: int, known_hosts: Path) -> None:
    """One device's session through vcollector's own code, as ``run_job`` runs it.

    The inventory and credential as ``vcollector.run.backends.local.run_steps`` builds
    them, then a Nornir run of ``collect_commands`` (the session layer ``collect_jobs``
    uses), with a run's known_hosts and session limiter. Raises when the device failed.
    """
    from nornir.core import Nornir
    from nornir.core.configuration import Config
    from nornir.core.plugins.connections import ConnectionPluginRegister
    from nornir.plugins.runners import ThreadedRunner
    from nornir_netmiko.connections import CONNECTION_NAME, Netmiko

    from vcollector.collection.tasks import collect_commands
    from vcollector.inventory.plugin import host_entries, inventory_from_entries
    from vcollector.inventory.records import DeviceRecord
    from vcollector.transport.credentials import apply_credential
    from vcollector.transport.host_keys import KnownHosts
    from vcollector.transport.limits import SessionLimiter

    if CONNECTION_NAME not in ConnectionPluginRegister.available:
        ConnectionPluginRegister.register(CONNECTION_NAME, Netmiko)
    device = DeviceRecord(
        1, "lean-00000", "lean-00000", address, port, "cisco_ios", "LAB1", None, None, None, None
    )
    inventory = inventory_from_entries(host_entries([device]))
    for host in inventory.hosts.values():
        apply_credential(host, Lab.credential)
    config = Config(logging={"enabled": False})  # type: ignore[arg-type]
    nornir = Nornir(inventory=inventory, config=config, runner=ThreadedRunner(num_workers=1))
    host_keys = KnownHosts(known_hosts)
    results = nornir.run(
        task=collect_commands,
        commands=list(COMMANDS),
        timeout=TIMEOUT,
        inter_command_time=0,
        session_limiter=SessionLimiter(),
        host_keys=host_keys,
    )
    host_keys.save()
    result = next(iter(results.values()))
    if results.failed:
        raise RuntimeError(f"vcollector: {result.exception}")
    if "hostname lean-00000" not in str(result[0].result) or not str(result[0].result).endswith("end\n"):
        raise RuntimeError("vcollector: no running-config")


def _run_job(lab: Lab, job: Path, out: Path) -> dict[str, Any]:
    """``run_job`` as a whole process; wall seconds and each device's elapsed seconds."""
    report = out / "report.json"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    command = [sys.executable, "-m", "vcollector.run_job", "--job", str(job), "--db", str(lab.db)]
    command += ["--vault", str(lab.vault), "-y", "-q", "--output-dir", str(out / "captures")]
    command += ["--json", str(report)]
    started = time.perf_counter()
    done = subprocess.run(command, env=lab.env, cwd=REPO, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode not in (0, 1) or not report.exists():
        raise RuntimeError(f"run_job failed ({done.returncode}): {done.stderr[-2000:]}")
    document = json.loads(report.read_text())
    devices = [device for job_result in document["jobs"] for device in job_result.get("devices", [])]
    ok = [float(device["elapsed_ms"]) / 1000 for device in devices if device["status"] == "success"]
    return {"wall_s": wall, "device_s": ok, "failed": len(devices) - len(ok)}


async def _login_one_command(address: str, port: int) -> tuple[float, float]:
    """Seconds from connect to the SSH banner, and for a login + ``show version`` (asyncssh)."""
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection(address, port)
    await reader.readline()
    banner = time.perf_counter() - started
    writer.close()
    await writer.wait_closed()
    started = time.perf_counter()
    async with asyncssh.connect(
        address, port=port, username=USERNAME, password=PASSWORD, known_hosts=None, client_keys=None
    ) as conn:
        process = await conn.create_process(term_type="vt100", encoding=None)
        buffer = bytearray()
        await _until_prompt(process, buffer)
        process.stdin.write(b"show version\n")
        await _until_prompt(process, buffer)
    return banner, time.perf_counter() - started


# --- single-device mode ----------------------------------------------------------------------


def _stats(values: list[float]) -> dict[str, float]:
    return {"median_s": round(statistics.median(values), 4), "min_s": round(min(values), 4)}


def single(args: argparse.Namespace, work: Path, rtts: list[float], tools: list[str]) -> dict[str, Any]:
    lab = Lab(work, 1, rtts[0], 1)
    address, port = lab.proxied[0], lab.port
    job = lab.job(workers=1)
    sessions: dict[str, Callable[[], Any]] = {
        "asyncssh_raw": lambda: time_one(address, port, USERNAME, PASSWORD),
        "netmiko": lambda: _netmiko(address, port),
        "vcollector": lambda: _vcollector_session(address, port, lab.known_hosts),
        "run_job": lambda: _run_job(lab, job, work / "run_job"),
    }
    results: dict[str, Any] = {}
    checks: dict[str, Any] = {}
    try:
        for rtt in rtts:
            lab.set_rtt(rtt)
            print(f"RTT {rtt:g} ms:", flush=True)
            runs: dict[str, list[dict[str, Any]]] = {tool: [] for tool in tools}
            for tool in tools:  # warm-up: imports, caches, known_hosts learnt
                sessions[tool]()
            lab.counts()
            for number in range(args.repeat):
                order = tools[number % len(tools) :] + tools[: number % len(tools)]
                for tool in order:
                    started = time.perf_counter()
                    value = sessions[tool]()
                    elapsed = time.perf_counter() - started
                    counts = lab.counts()
                    run = {"s": elapsed, **counts}
                    if tool == "run_job":
                        run = {"s": value["wall_s"], "device_s": value["device_s"][0], **counts}
                        if value["failed"]:
                            raise RuntimeError("run_job: the device failed")
                    runs[tool].append(run)
            banner, login = asyncio.run(_login_one_command(address, port))
            checks[f"{rtt:g}"] = {
                "banner_rtts": round(banner / (rtt / 1000), 2) if rtt else None,
                "asyncssh_login_show_version_s": round(login, 4),
                "asyncssh_login_show_version_rtts": round(login / (rtt / 1000), 1) if rtt else None,
            }
            results[f"{rtt:g}"] = _summarise_rtt(runs, rtt)
            _print_rtt(results[f"{rtt:g}"], rtt)
    finally:
        lab.stop()
    zero = results.get("0")
    if zero:
        for key, row in results.items():
            rtt = float(key)
            if not rtt:
                continue
            for tool, entry in row.items():
                if tool in zero:
                    entry["network_rtts"] = round(
                        (entry["median_s"] - zero[tool]["median_s"]) / (rtt / 1000), 1
                    )
    return {"rtt_ms": rtts, "repeat": args.repeat, "tools": tools, "results": results, "checks": checks}


def _summarise_rtt(runs: dict[str, list[dict[str, Any]]], rtt: float) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for tool, measured in runs.items():
        if not measured:
            continue
        name = "run_job_process" if tool == "run_job" else tool
        row[name] = _stats([run["s"] for run in measured])
        for key in ("prompts", "logins", "chunks_up", "chunks_down"):
            row[name][key] = statistics.median(run[key] for run in measured)
        row[name]["runs_s"] = [round(run["s"], 4) for run in measured]
        if tool == "run_job":
            device = _stats([run["device_s"] for run in measured])
            row["run_job_device"] = {**device, "prompts": row[name]["prompts"]}
            row["run_job_device"]["runs_s"] = [round(run["device_s"], 4) for run in measured]
    for entry in row.values():
        for baseline in ("asyncssh_raw", "netmiko"):
            if baseline in row:
                entry[f"vs_{baseline}"] = round(entry["median_s"] / row[baseline]["median_s"], 2)
        entry["rtts"] = round(entry["median_s"] / (rtt / 1000), 1) if rtt else None
    return row


def _print_rtt(row: dict[str, Any], rtt: float) -> None:
    print(f"  {'tool':17} {'median ms':>9} {'min ms':>8} {'÷asyncssh':>9} {'÷netmiko':>8}", end="")
    print(f" {'RTTs':>6} {'prompts':>7}")
    for tool, entry in row.items():
        rtts = f"{entry['rtts']:6.1f}" if entry["rtts"] is not None else f"{'-':>6}"
        print(
            f"  {tool:17} {entry['median_s'] * 1000:9.0f} {entry['min_s'] * 1000:8.0f} "
            f"{entry.get('vs_asyncssh_raw', 0):9.2f} {entry.get('vs_netmiko', 0):8.2f} {rtts} "
            f"{entry['prompts']:7.0f}",
            flush=True,
        )


# --- fleet mode ------------------------------------------------------------------------------


def fleet(args: argparse.Namespace, work: Path, rtt: float) -> dict[str, Any]:
    lab = Lab(work, args.devices, rtt, args.fleet_processes)
    job = lab.job(workers=args.workers)
    results: dict[str, Any] = {}
    try:
        lab.counts()
        for tool in ("asyncssh_raw", "run_job"):
            print(f"  {tool} over {args.devices} devices at RTT {rtt:g} ms ...", flush=True)
            if tool == "run_job":
                measured = _run_job(lab, job, work / "run_job")
                wall, failed = measured["wall_s"], measured["failed"]
                latencies = measured["device_s"]
            else:
                out = work / "asyncssh"
                shutil.rmtree(out, ignore_errors=True)
                command = [
                    sys.executable,
                    "-m",
                    "bench.baseline_asyncssh",
                    "--devices",
                    str(lab.devices_file),
                ]
                command += ["--concurrency", str(args.workers), "--out", str(out)]
                started = time.perf_counter()
                done = subprocess.run(
                    command, env=lab.env, cwd=REPO, capture_output=True, text=True, check=True
                )
                wall = time.perf_counter() - started
                document = json.loads(done.stdout.strip().splitlines()[-1])
                failed = int(document["failed"])
                latencies = [value for value in document["latencies"].values() if value is not None]
            counts = lab.counts()
            results[tool] = {
                "wall_s": round(wall, 2),
                "devices_per_s": round(args.devices / wall, 1),
                "failed": failed,
                "session_p50_s": round(statistics.median(latencies), 3) if latencies else None,
                "session_p50_rtts": round(statistics.median(latencies) / (rtt / 1000), 1)
                if latencies and rtt
                else None,
                "prompts_per_device": round(counts["prompts"] / args.devices, 1),
                "logins": counts["logins"],
            }
            print(f"    {results[tool]}", flush=True)
    finally:
        lab.stop()
    results["run_job_vs_asyncssh_raw_wall"] = round(
        results["run_job"]["wall_s"] / results["asyncssh_raw"]["wall_s"], 2
    )
    return {"devices": args.devices, "workers": args.workers, "rtt_ms": rtt, "results": results}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rtt-ms", help="comma-separated RTTs in ms (default 0,40,100; fleet mode 50)")
    parser.add_argument("--repeat", type=int, default=5, help="timed sessions per tool and RTT")
    parser.add_argument("--tools", default=",".join(TOOLS), help="subset of " + ", ".join(TOOLS))
    parser.add_argument("--devices", type=int, default=1, help="more than 1: the fleet mode")
    parser.add_argument("--workers", type=int, default=12, help="fleet mode: max_workers / concurrency")
    parser.add_argument("--fleet-processes", type=int, default=2, help="fleet mode: lean fleet processes")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    path = out / "latency.json"
    document: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    mode = "fleet" if args.devices > 1 else "single"
    rtts = [float(value) for value in (args.rtt_ms or ("50" if mode == "fleet" else "0,40,100")).split(",")]
    with tempfile.TemporaryDirectory(prefix="vcollector-latency-") as scratch:
        work = Path(scratch)
        if mode == "fleet":
            section = fleet(args, work, rtts[0])
            print(f"run_job / asyncssh_raw wall: {section['results']['run_job_vs_asyncssh_raw_wall']}")
        else:
            tools = [tool.strip() for tool in args.tools.split(",") if tool.strip() in TOOLS]
            section = single(args, work, rtts, tools)
            for key, check in section["checks"].items():
                print(f"proxy check at RTT {key} ms: {check}")
    section = {"date": datetime.now().isoformat(timespec="seconds"), "cores": os.cpu_count(), **section}
    document[mode] = section
    path.write_text(json.dumps(document, indent=2))
    print(f"Wrote {path} ({mode})")


if __name__ == "__main__":
    main()
