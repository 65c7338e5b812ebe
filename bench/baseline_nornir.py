"""The "write it yourself" baseline: a plain Nornir + nornir_netmiko script.

What a network engineer would write by hand: SimpleInventory-like hosts built from the
device list, the threaded runner, ``netmiko_send_command`` for each command, one file per
device. Prints per-device latencies as JSON on stdout.

    python -m bench.baseline_nornir --devices devices.json --workers 50 --out DIR
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from nornir import InitNornir
from nornir.core.inventory import ConnectionOptions, Defaults, Groups, Host, Hosts, Inventory
from nornir.core.plugins.inventory import InventoryPluginRegister
from nornir.core.task import Result, Task
from nornir_netmiko.tasks import netmiko_send_command


class ListInventory:
    """Hosts from a JSON list of {name, address, port, platform}."""

    def __init__(self, path: str, username: str, password: str, secret: str) -> None:
        self.path, self.username, self.password, self.secret = path, username, password, secret

    def load(self) -> Inventory:
        defaults = Defaults(username=self.username, password=self.password)
        hosts = Hosts()
        for device in json.loads(Path(self.path).read_text()):
            hosts[device["name"]] = Host(
                name=device["name"],
                hostname=device["address"],
                port=device["port"],
                platform=device["platform"],
                defaults=defaults,
                connection_options={
                    "netmiko": ConnectionOptions(extras={"secret": self.secret, "fast_cli": True})
                },
            )
        return Inventory(hosts=hosts, groups=Groups(), defaults=defaults)


def collect(task: Task, out: Path) -> Result:
    started = time.perf_counter()
    conn = task.host.get_connection("netmiko", task.nornir.config)
    conn.enable()
    task.run(task=netmiko_send_command, command_string="terminal length 0")
    output = task.run(task=netmiko_send_command, command_string="show running-config").result
    (out / f"{task.host.name}.txt").write_text(output)
    task.host.close_connection("netmiko")
    return Result(host=task.host, result=time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", required=True)
    parser.add_argument("--workers", type=int, default=50)
    parser.add_argument("--out", required=True)
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password", default="lean-pass")
    parser.add_argument("--secret", default="lean-enable")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    InventoryPluginRegister.register("ListInventory", ListInventory)
    with InitNornir(
        runner={"plugin": "threaded", "options": {"num_workers": args.workers}},
        inventory={
            "plugin": "ListInventory",
            "options": {
                "path": args.devices,
                "username": args.username,
                "password": args.password,
                "secret": args.secret,
            },
        },
        logging={"enabled": False},
    ) as nr:
        results = nr.run(task=collect, out=out)
    latencies: dict[str, Any] = {
        host: (None if multi.failed else multi[0].result) for host, multi in results.items()
    }
    print(json.dumps({"failed": sum(1 for v in latencies.values() if v is None), "latencies": latencies}))


if __name__ == "__main__":
    main()
