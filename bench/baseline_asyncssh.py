"""The lower bound: a raw asyncssh client doing the same exchange, no Netmiko, no Nornir.

Logs in, opens a shell, waits for the prompt, sends ``terminal length 0``, ``enable``
(+ secret), ``show running-config``, and saves what came before the next prompt.

    python -m bench.baseline_asyncssh --devices devices.json --concurrency 100 --out DIR
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time
from pathlib import Path

import asyncssh

PROMPT = re.compile(rb"[\w.-]+[>#]\s*$")


async def _until_prompt(process: asyncssh.SSHClientProcess[bytes], buffer: bytearray) -> bytes:
    while not PROMPT.search(buffer[-256:]):
        chunk = await process.stdout.read(65536)
        if not chunk:
            raise ConnectionError("closed")
        buffer += chunk
    data = bytes(buffer)
    buffer.clear()
    return data


async def exchange(address: str, port: int, username: str, password: str) -> bytes:
    """One device's session: log in, paging off, ``enable``, ``show running-config``, exit.

    Returns the running-config (``\n`` line ends); raises ``OSError``/``asyncssh.Error``.
    """
    async with asyncssh.connect(
        address,
        port=port,
        username=username,
        password=password,
        known_hosts=None,
        client_keys=None,
        agent_path=None,
    ) as conn:
        process = await conn.create_process(term_type="vt100", encoding=None)
        buffer = bytearray()
        await _until_prompt(process, buffer)
        for command in (b"terminal length 0", b"enable"):
            process.stdin.write(command + b"\n")
            await _until_prompt(process, buffer)
        process.stdin.write(b"show running-config\n")
        output = await _until_prompt(process, buffer)
        body = output.split(b"\r\n", 1)[1].rsplit(b"\r\n", 1)[0]
        process.stdin.write(b"exit\n")
    return body.replace(b"\r\n", b"\n")


def time_one(address: str, port: int, username: str = "admin", password: str = "lean-pass") -> float:
    """Seconds one in-process session to one device takes (its own event loop)."""

    async def timed() -> float:
        started = time.perf_counter()
        await exchange(address, port, username, password)
        return time.perf_counter() - started

    return asyncio.run(timed())


async def collect(device: dict[str, object], args: argparse.Namespace, out: Path) -> float | None:
    started = time.perf_counter()
    try:
        address, port = str(device["address"]), int(device["port"])  # type: ignore[call-overload]
        config = await exchange(address, port, args.username, args.password)
        (out / f"{device['name']}.txt").write_bytes(config)
    except (OSError, asyncssh.Error):
        return None
    return time.perf_counter() - started


async def run(args: argparse.Namespace) -> dict[str, float | None]:
    devices = json.loads(Path(args.devices).read_text())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    gate = asyncio.Semaphore(args.concurrency)

    async def bounded(device: dict[str, object]) -> float | None:
        async with gate:
            return await collect(device, args, out)

    results = await asyncio.gather(*(bounded(device) for device in devices))
    return {str(device["name"]): result for device, result in zip(devices, results, strict=True)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", required=True)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--out", required=True)
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password", default="lean-pass")
    args = parser.parse_args()
    latencies = asyncio.run(run(args))
    print(json.dumps({"failed": sum(1 for v in latencies.values() if v is None), "latencies": latencies}))


if __name__ == "__main__":
    main()
