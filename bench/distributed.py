"""Benchmark of distributed runs: the same fleet collected by 1, 2 and 4 workers.

Each worker collects a small, fixed number of devices at once (``--concurrency``), and each
device takes a fixed time to answer (``--delay`` seconds before each of its two show
outputs), so a run is bound by the workers' concurrency, not by CPU: with N workers the
wall time should fall close to 1/N. The workers are started (and ready) before each timed
run; the time is the coordinator's whole command (``run_job --broker``, planning and the
workers' roll call included), median of ``--rounds``.

    python -m bench.distributed --devices 96 --delay 0.5 --concurrency 4 --workers 1 2 4

Needs a broker: Redis on 127.0.0.1:6379 (database 13, keys under a prefix of this run,
removed afterwards) or ``--broker amqp://guest:guest@127.0.0.1:5672//``.
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
import uuid
from pathlib import Path

from vcollector.credentials.vault import Credential, Vault
from vcollector.run.backends.celery_app import BrokerUnreachable, check_broker
from vcollector_sim.assets import AssetRow, build_assets_db
from vcollector_sim.lean_fleet import PASSWORD, USERNAME, LeanDevice, LeanFleet, device_address

REPO = Path(__file__).resolve().parent.parent
VAULT_PASSWORD = "bench-vault-pass"  # a scratch vault, on loopback only


def _worker(env: dict[str, str], name: str, concurrency: int) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "vcollector", "worker", "--name", name, "--concurrency", str(concurrency)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO,
    )  # fmt: skip
    assert process.stdout is not None
    line = process.stdout.readline()
    if " ready: " not in line:
        process.kill()
        raise SystemExit(f"worker {name} did not start: {line.strip()}")
    return process


def _timed_run(job: Path, env: dict[str, str], captures: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "vcollector.run_job", "--job", str(job), "-y", "-q", "--no-history",
         "--output-dir", str(captures)],
        env=env, capture_output=True, text=True, cwd=REPO,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"run failed:\n{done.stdout}\n{done.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--devices", type=int, default=96)
    parser.add_argument("--delay", type=float, default=0.5, help="seconds before each show output")
    parser.add_argument("--concurrency", type=int, default=4, help="devices per worker at once")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    args = parser.parse_args()
    try:
        check_broker(args.broker)
    except BrokerUnreachable as exc:
        print(f"distributed benchmark skipped: {exc}")
        return

    work = Path(tempfile.mkdtemp(prefix="vcollector-bench-dist-"))
    vault = Vault(work / "vault.db")
    vault.init(VAULT_PASSWORD)
    vault.unlock(VAULT_PASSWORD).add(Credential("lab", USERNAME, PASSWORD), default=True)
    devices = [LeanDevice(f"d{i}", device_address(i), delay=args.delay) for i in range(args.devices)]
    job = work / "job.json"
    job.write_text(json.dumps({
        "job_id": "bench", "capture_type": "version",
        "commands": {"command": "show version,show clock", "output_directory": "version"},
        "execution": {"timeout": 60, "inter_command_time": 0, "max_workers": 12},
    }))  # fmt: skip
    prefix = f"vcbench{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ, "VCOLLECTOR_HOME": str(work / "home"), "VCOLLECTOR_VAULT": str(vault.path),
        "VELOCITYCMDB_VAULT_PASS": VAULT_PASSWORD, "VCOLLECTOR_BROKER_URL": args.broker,
        "VCOLLECTOR_QUEUE_PREFIX": prefix, "PYTHONPATH": str(REPO),
    }  # fmt: skip
    ideal_device = 2 * args.delay
    results: dict[int, list[float]] = {}
    with LeanFleet(devices) as fleet:
        rows = [AssetRow(d.name, "cisco_ios", d.address) for d in devices]
        env["VCOLLECTOR_ASSETS_DB"] = str(build_assets_db(work / "assets.db", rows, port=fleet.port))
        for count in args.workers:
            processes = [_worker(env, f"bench{i}", args.concurrency) for i in range(count)]
            try:
                results[count] = [_timed_run(job, env, work / "captures") for _ in range(args.rounds)]
            finally:
                for process in processes:
                    process.terminate()
                for process in processes:
                    process.wait(60)
    _clean(args.broker, prefix)

    one = statistics.median(results[args.workers[0]]) * args.workers[0]
    kind = args.broker.split("://")[0]
    print(f"{args.devices} devices of {ideal_device:g} s each, {args.concurrency} at once per worker")
    print(f"median of {args.rounds} rounds; broker {kind}")
    print(f"{'workers':>7} {'wall s':>8} {'vs 1 worker':>12} {'ideal':>7} {'bound s':>8}")
    report = []
    for count, times in results.items():
        wall = statistics.median(times)
        bound = -(-args.devices // (count * args.concurrency)) * ideal_device
        print(f"{count:>7} {wall:>8.2f} {wall / one:>12.2f} {1 / count:>7.2f} {bound:>8.2f}")
        report.append({"workers": count, "wall_seconds": times, "median": wall, "ratio": wall / one,
                       "bound_seconds": bound})  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    summary = {"devices": args.devices, "delay": args.delay, "concurrency": args.concurrency, "runs": report}
    (args.out / "distributed.json").write_text(json.dumps(summary, indent=2))


def _clean(broker: str, prefix: str) -> None:
    if not broker.startswith("redis://"):
        return
    import redis

    client = redis.Redis.from_url(broker)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)


if __name__ == "__main__":
    main()
