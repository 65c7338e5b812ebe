"""``make demo``: the main job end to end against a simulated fleet, in a scratch folder.

Starts a dozen fake devices (Cisco IOS, Arista EOS, Juniper Junos, Cisco NX-OS) on
loopback, builds an assets.db and a vault for them, runs ``run_job`` with a sample job,
shows the captures, runs ``run_jobs_concurrent`` over ``jobs_v2/``, and stops the fleet.
Nothing outside the scratch folder is touched.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from vcollector_sim.assets import AssetRow, build_assets_db
from vcollector_sim.fleet import FakeDevice, Fleet, FleetSpec, loopback_address

DEMO_VAULT_PASSWORD = "demo-vault-pass"  # noqa: S105 - a throwaway vault in a scratch folder

DEMO_DEVICES = (
    ("core-rtr-1", "cisco_ios", "IAD2", "core", "ISR4451"),
    ("core-rtr-2", "cisco_ios", "FRA1", "core", "ISR4451"),
    ("eng-access-1", "cisco_ios", "IAD2", "access", "C9300-48P"),
    ("eng-access-2", "cisco_ios", "IAD2", "access", "C9300-48P"),
    ("leaf-1", "arista_eos", "IAD2", "leaf", "DCS-7050SX3"),
    ("leaf-2", "arista_eos", "IAD2", "leaf", "DCS-7050SX3"),
    ("spine-1", "arista_eos", "IAD2", "spine", "DCS-7280SR"),
    ("edge-mx-1", "juniper_junos", "IAD2", "edge", "MX204"),
    ("edge-mx-2", "juniper_junos", "FRA1", "edge", "MX204"),
    ("fw-srx-1", "juniper_junos", "FRA1", "firewall", "SRX345"),
    ("dc-nx-1", "cisco_nxos", "IAD2", "leaf", "N9K-C93180YC"),
    ("dc-nx-2", "cisco_nxos", "FRA1", "leaf", "N9K-C93180YC"),
)
# VelocityCMDB stores IOS-XE switches under their own driver (Netmiko's cisco_xe).
DEMO_DRIVERS = {"eng-access-1": "cisco_ios_xe_ssh", "eng-access-2": "cisco_ios_xe_ssh"}


def _banner(text: str) -> None:
    print(f"\n\033[1m### {text}\033[0m" if sys.stdout.isatty() else f"\n### {text}", flush=True)


def _run(command: list[str], env: dict[str, str]) -> int:
    shown = " ".join(part if " " not in part else repr(part) for part in command)
    print(f"$ {shown.replace(sys.executable, 'python')}", flush=True)
    return subprocess.run(command, env=env, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    """Run the demo; returns 0 when both tools succeeded."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", type=Path, default=Path(".demo"), help="scratch folder (recreated)")
    parser.add_argument("--jobs-dir", type=Path, default=Path("jobs_v2"))
    args = parser.parse_args(argv)

    workdir: Path = args.workdir.absolute()
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    devices = [
        FakeDevice(name, platform, loopback_address(i)) for i, (name, platform, *_) in enumerate(DEMO_DEVICES)
    ]
    spec = FleetSpec(devices)

    _banner(f"Starting a simulated fleet of {len(devices)} devices on loopback")
    with Fleet(spec) as fleet:
        for device in devices:
            print(f"  {device.name:14} {device.platform:14} {device.address}:{fleet.port}")
        db = build_assets_db(
            workdir / "assets.db",
            [
                AssetRow(
                    name,
                    platform,
                    device.address,
                    site=site,
                    role=role,
                    model=model,
                    driver=DEMO_DRIVERS.get(name),
                )
                for (name, platform, site, role, model), device in zip(DEMO_DEVICES, devices, strict=True)
            ],
            port=fleet.port,
        )
        env = {
            **os.environ,
            "VCOLLECTOR_HOME": str(workdir / "home"),
            "VCOLLECTOR_ASSETS_DB": str(db),
            "VCOLLECTOR_CAPTURE_DIR": str(workdir / "captures"),
            "VELOCITYCMDB_VAULT_PASS": DEMO_VAULT_PASSWORD,
            "VCOLLECTOR_CREDENTIAL_PASSWORD": spec.password,
        }
        _banner("Creating the credential vault")
        vcollector = [sys.executable, "-m", "vcollector.cli"]
        if _run([*vcollector, "vault", "init"], env) or _run(
            [*vcollector, "vault", "add", "lab", "-u", spec.username, "--default"], env
        ):
            return 1
        _run([*vcollector, "vault", "list"], env)
        env.pop("VCOLLECTOR_CREDENTIAL_PASSWORD")

        _banner("run_job: Cisco IOS configs")
        job = args.jobs_dir / "job_329_cisco-ios_configs.json"
        single = _run([sys.executable, "-m", "vcollector.run_job", "--job", str(job), "-y"], env)

        _banner("The captures")
        captures = workdir / "captures"
        for path in sorted(captures.rglob("*.txt")):
            print(f"  {path.relative_to(workdir)}  ({path.stat().st_size:,} bytes)")
        first = next(iter(sorted(captures.rglob("*.txt"))), None)
        if first is not None:
            print(f"\n--- {first.relative_to(workdir)} (first 12 lines) ---")
            print("\n".join(first.read_text(encoding="utf-8").splitlines()[:12]))

        _banner(f"run_jobs_concurrent: every job in {args.jobs_dir}/")
        many = _run(
            [sys.executable, "-m", "vcollector.run_jobs_concurrent", "--jobs-dir", str(args.jobs_dir), "-y"],
            env,
        )
        _banner("Stopping the fleet")
    print(f"Done. Everything is in {workdir} (assets.db, home/collector.db, captures/).")
    return 0 if single == 0 and many == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
