"""What the live progress costs: the same run_job on a pseudo-terminal (progress shown) and
through a pipe (no progress), side by side, alternating, against one lean fleet.

Reports the median wall time and the run's CPU time (user + system of the run_job process)
of each, and their ratio.

    python -m bench.progress --devices 300 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import resource
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vcollector.credentials.vault import Credential, Vault
from vcollector_sim.assets import AssetRow, build_assets_db
from vcollector_sim.lean_fleet import PASSWORD, USERNAME, LeanDevice, LeanFleet, device_address

REPO = Path(__file__).resolve().parent.parent
VAULT_PASSWORD = "bench-vault-pass"  # a scratch vault, on loopback only


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(args: list[str], env: dict[str, str], terminal: bool) -> tuple[float, float, bytes]:
    before = _children_cpu()
    started = time.perf_counter()
    if not terminal:
        done = subprocess.run(args, env=env, capture_output=True, cwd=REPO, check=False)
        return time.perf_counter() - started, _children_cpu() - before, done.stdout
    master, slave = pty.openpty()
    process = subprocess.Popen(args, env=env, stdin=slave, stdout=slave, stderr=slave, cwd=REPO)
    os.close(slave)
    screen = b""
    while True:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            screen += chunk
        elif process.poll() is not None:
            break
    process.wait()
    os.close(master)
    return time.perf_counter() - started, _children_cpu() - before, screen


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--devices", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="vcollector-bench-progress-"))
    vault = Vault(work / "vault.db")
    vault.init(VAULT_PASSWORD)
    vault.unlock(VAULT_PASSWORD).add(Credential("lab", USERNAME, PASSWORD), default=True)
    devices = [LeanDevice(f"d{i}", device_address(i)) for i in range(args.devices)]
    job = work / "job.json"
    execution = {"timeout": 60, "inter_command_time": 0, "max_workers": 12}
    job.write_text(json.dumps({"job_id": "bench", "commands": {"command": "enable,show running-config"},
                               "execution": execution}))  # fmt: skip
    env = {
        **os.environ, "VCOLLECTOR_HOME": str(work / "home"), "VCOLLECTOR_VAULT": str(vault.path),
        "VELOCITYCMDB_VAULT_PASS": VAULT_PASSWORD, "TERM": "xterm-256color", "COLUMNS": "120",
    }  # fmt: skip
    env.pop("NO_COLOR", None)
    command = [sys.executable, "-m", "vcollector.run_job", "--job", str(job), "-y", "--no-history",
               "--output-dir", str(work / "captures")]  # fmt: skip
    times: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    with LeanFleet(devices) as fleet:
        env["VCOLLECTOR_ASSETS_DB"] = str(
            build_assets_db(
                work / "assets.db",
                [AssetRow(d.name, "cisco_ios", d.address) for d in devices],
                port=fleet.port,
            )
        )
        _run(command, env, terminal=False)  # warm: known_hosts, caches
        for _ in range(args.rounds):
            for terminal in (True, False):
                wall, cpu, output = _run(command, env, terminal)
                if b"Results: " not in output or (terminal and b"dev/s" not in output):
                    raise SystemExit(f"unexpected run output:\n{output[-2000:].decode(errors='replace')}")
                times[terminal].append((wall, cpu))
    shown, plain = times[True], times[False]
    wall = (statistics.median(t[0] for t in shown), statistics.median(t[0] for t in plain))
    cpu = (statistics.median(t[1] for t in shown), statistics.median(t[1] for t in plain))
    print(f"{args.devices} devices, median of {args.rounds} alternating rounds")
    print(f"{'':14} {'terminal (progress)':>20} {'pipe (none)':>12} {'ratio':>7}")
    print(f"{'wall s':14} {wall[0]:>20.2f} {wall[1]:>12.2f} {wall[0] / wall[1]:>7.3f}")
    print(f"{'CPU s':14} {cpu[0]:>20.2f} {cpu[1]:>12.2f} {cpu[0] / cpu[1]:>7.3f}")
    args.out.mkdir(parents=True, exist_ok=True)
    summary = {"devices": args.devices, "terminal": shown, "pipe": plain}
    (args.out / "progress.json").write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
