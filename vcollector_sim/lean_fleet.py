"""A lean simulated fleet: IOS-like devices served by one asyncio process (asyncssh).

fakenos sleeps ~10 ms per received byte and busy-polls, so past ~100 devices it, not the
client, is what a benchmark measures. These devices cost a few milliseconds of server CPU
per session, which exposes the client's own costs. They also misbehave on request, for
fault-injection tests: each device has a ``behaviour``:

``normal``          IOS-like: ``name>``, ``enable`` → ``name#``, ~4 KB running-config
``enable_password`` ``enable`` asks ``Password:`` and checks the enable secret
``silent``          authenticates, then never prints anything (no prompt)
``drop``            closes the connection half-way through a ``show`` output
``drip``            a ``show`` output trickles one line every 0.5 s, forever
``huge``            ``show running-config`` prints ``huge_bytes`` (default 50 MB)
``garbage``         output with invalid UTF-8 bytes, ANSI colour codes and CRs
``leaky``           its running-config holds its login password in clear, and ``show leak``
                    is refused with an error line that echoes the password
``no_banner``       plain TCP listener that accepts and never sends an SSH banner
``close``           plain TCP listener that accepts and closes at once

A device's ``answers`` (command → text) are printed for those commands instead of any built-in
answer: a real device's ``show version`` (TextFSM parses it), a command the built-ins do not
know, output that parses to nothing.

Addresses are 127.0.b.c (``device_address``); every device listens on one shared port.
Run in-process with :class:`LeanFleet`, or as its own process with
``python -m vcollector_sim.lean_fleet --devices N --port P``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncssh

from vcollector_sim.fleet import free_port

USERNAME = "admin"
PASSWORD = "lean-pass"  # noqa: S105 - a simulated device's login, on loopback only
ENABLE_SECRET = "lean-enable"  # noqa: S105
DRIP_INTERVAL = 0.5
HUGE_BYTES = 50 * 1024 * 1024

_INVALID = b"% Invalid input detected at '^' marker.\r\n"


def device_address(index: int) -> str:
    """The ``index``-th device address: 127.0.0.2 ... 127.0.0.251, 127.0.1.2, ... (62,500 in all)."""
    if not 0 <= index < 250 * 250:
        raise ValueError("index out of range")
    return f"127.0.{index // 250}.{index % 250 + 2}"


def running_config(name: str, extra: Sequence[str] = (), volatile: bool = False) -> bytes:
    """A ~4 KB IOS running-config for ``name``, ending with the ``extra`` lines; with a
    ``! Last configuration change`` line that changes every time when ``volatile``."""
    stamp = f"! Last configuration change at {time.strftime('%H:%M:%S')}.{time.time_ns() % 10**9:09d} UTC"
    lines = [
        "Building configuration...",
        "",
        "Current configuration : 4096 bytes",
        *([stamp] if volatile else []),
        "!",
        "version 15.8",
        "service timestamps debug datetime msec",
        "service timestamps log datetime msec",
        "no service password-encryption",
        "!",
        f"hostname {name}",
        "!",
        "boot-start-marker",
        "boot-end-marker",
        "!",
    ]
    for port in range(1, 49):
        lines += [
            f"interface GigabitEthernet1/0/{port}",
            f" description access port {port}",
            " switchport mode access",
            "!",
        ]
    lines += ["line vty 0 4", " transport input ssh", "!", *extra, "end"]
    return "\r\n".join(lines).encode() + b"\r\n"


@dataclass
class LeanDevice:
    """One device: name, address and how it behaves."""

    name: str
    address: str
    behaviour: str = "normal"
    password: str = PASSWORD
    enable_secret: str = ENABLE_SECRET
    huge_bytes: int = HUGE_BYTES
    host_key: Any = None  # an asyncssh private key; the fleet's own key when None
    authorized_key: str | None = None  # "ssh-ed25519 AAAA..." accepted for public-key login
    # Lines the running-config ends with (tests change them between runs), and whether it
    # starts with IOS's volatile "! Last configuration change at <now>" line.
    extra_config: list[str] = field(default_factory=list)
    volatile: bool = False
    delay: float = 0.0  # seconds before each show command's answer (a slow device)
    login_delay: float = 0.0  # seconds before the first prompt (a slow exec authorisation)
    # What the device prints for these commands (LF line endings, sent as CRLF), before the built-ins.
    answers: dict[str, str] = field(default_factory=dict)


@dataclass
class DeviceStats:
    """What the device side saw: TCP connections, password attempts, sessions, commands, prompts."""

    connections: Counter[str] = field(default_factory=Counter)
    auth_attempts: Counter[str] = field(default_factory=Counter)
    logins: Counter[str] = field(default_factory=Counter)
    current: Counter[str] = field(default_factory=Counter)
    peak: Counter[str] = field(default_factory=Counter)
    commands: Counter[tuple[str, str]] = field(default_factory=Counter)  # (device, command)
    prompts: Counter[str] = field(default_factory=Counter)  # prompts the shell wrote, per device

    def reset(self) -> None:
        """Forget every count but the live sessions."""
        for counter in (self.connections, self.auth_attempts, self.logins, self.peak, self.commands):
            counter.clear()
        self.prompts.clear()


class _Server(asyncssh.SSHServer):
    def __init__(self, device: LeanDevice, stats: DeviceStats) -> None:
        self.device = device
        self.stats = stats
        self.authenticated = False

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.stats.connections[self.device.name] += 1

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def public_key_auth_supported(self) -> bool:
        # asyncssh refuses paramiko's second service request, so a client whose key is
        # rejected cannot fall back to a password here: offer keys only where one is set.
        return self.device.authorized_key is not None

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        self.stats.auth_attempts[self.device.name] += 1
        offered = key.export_public_key().decode().split()[:2]
        return username == USERNAME and offered == (self.device.authorized_key or "").split()[:2]

    def validate_password(self, username: str, password: str) -> bool:
        self.stats.auth_attempts[self.device.name] += 1
        return username == USERNAME and password == self.device.password

    def auth_completed(self) -> None:
        self.authenticated = True
        name = self.device.name
        self.stats.logins[name] += 1
        self.stats.current[name] += 1
        self.stats.peak[name] = max(self.stats.peak[name], self.stats.current[name])

    def connection_lost(self, exc: Exception | None) -> None:
        if self.authenticated:
            self.stats.current[self.device.name] -= 1


class _LineReader:
    """Reads input lines and echoes each one as it is processed, the way a device does.

    A whole received line is echoed in one write (echoing character by character would send
    one SSH packet per character and make every client pay for that in a benchmark); lines
    typed ahead are echoed only when their turn comes, so prompts never run together.
    """

    def __init__(self, process: asyncssh.SSHServerProcess[bytes]) -> None:
        self.process = process
        self.pending = b""

    async def line(self, *, echo: bool = True) -> bytes | None:
        while True:
            ends = [index for index in (self.pending.find(b"\n"), self.pending.find(b"\r")) if index >= 0]
            if ends:
                index = min(ends)
                line, self.pending = self.pending[:index], self.pending[index + 1 :]
                if self.pending.startswith(b"\n") and not line.endswith(b"\r"):
                    self.pending = self.pending[1:]  # "\r\n" ends one line
                if echo:
                    self.process.stdout.write(line + b"\r\n")
                return line
            chunk = await self.process.stdin.read(65536)
            if not chunk:
                return None
            self.pending += chunk


class _Shell:
    def __init__(
        self, device: LeanDevice, process: asyncssh.SSHServerProcess[bytes], stats: DeviceStats
    ) -> None:
        self.device = device
        self.process = process
        self.stats = stats
        self.reader = _LineReader(process)
        self.enabled = False

    @property
    def prompt(self) -> bytes:
        return f"{self.device.name}{'#' if self.enabled else '>'}".encode()

    async def run(self) -> None:
        out = self.process.stdout
        if self.device.behaviour == "silent":
            await self.process.stdin.read()  # until the client gives up
            return
        if self.device.login_delay:
            await asyncio.sleep(self.device.login_delay)
        out.write(self.prompt)
        self.stats.prompts[self.device.name] += 1
        while True:
            line = await self.reader.line()
            if line is None:
                return
            command = line.decode("utf-8", errors="replace").strip()
            if command:
                self.stats.commands[self.device.name, command] += 1
            if command in {"exit", "quit", "logout"}:
                return
            if not await self.answer(command):
                return
            out.write(self.prompt)
            self.stats.prompts[self.device.name] += 1

    async def answer(self, command: str) -> bool:
        """Write the answer to ``command``; False ends the session."""
        out = self.process.stdout
        device = self.device
        if not command or command.startswith(("terminal ", "term ")):
            return True
        if command == "enable":
            if device.behaviour == "enable_password":
                out.write(b"Password: ")
                secret = await self.reader.line(echo=False)
                if secret is None:
                    return False
                if secret.decode(errors="replace") != device.enable_secret:
                    out.write(b"% Access denied\r\n")
                    return True
            self.enabled = True
            return True
        if command == "disable":
            self.enabled = False
            return True
        if command in device.answers:
            return await self.show(device.answers[command].replace("\n", "\r\n").encode())
        if command == "show running-config" and self.enabled:
            body = running_config(device.name, device.extra_config, device.volatile)
            if device.behaviour == "leaky":
                body += f"username admin privilege 15 password 0 {device.password}\r\n".encode()
            return await self.show(body, huge=True)
        if command == "show leak" and device.behaviour == "leaky":
            out.write(f"% Invalid input detected: password {device.password} not accepted\r\n".encode())
            return True
        if command == "show version":
            text = f"Cisco IOS Software, Version 15.8(3)M2\r\n{device.name} uptime is 1 week\r\n"
            return await self.show(text.encode())
        if command == "show clock":
            return await self.show(b"*10:00:00.000 UTC Sun Nov 29 2026\r\n")
        out.write(b"         ^\r\n" + _INVALID)
        return True

    async def show(self, body: bytes, *, huge: bool = False) -> bool:
        out = self.process.stdout
        behaviour = self.device.behaviour
        if self.device.delay:
            await asyncio.sleep(self.device.delay)
        if behaviour == "drop":
            out.write(body[: len(body) // 2])
            await out.drain()
            self.process.channel.get_connection().abort()
            return False
        if behaviour == "drip":
            for number in range(1_000_000):
                out.write(f"line {number}\r\n".encode())
                await out.drain()
                await asyncio.sleep(DRIP_INTERVAL)
        if behaviour == "huge" and huge:
            block = running_config(self.device.name)
            sent = 0
            while sent < self.device.huge_bytes:
                out.write(block)
                sent += len(block)
                if sent % (len(block) * 64) < len(block):
                    await out.drain()
            return True
        if behaviour == "garbage":
            colour = b"\x1b[1;32mhostname " + self.device.name.encode() + b"\x1b[0m\r\n"
            body = colour + b"caf\xe9 \xff\xfe bytes\r\n" + body
        out.write(body)
        return True


async def _raw_listener(device: LeanDevice, port: int, stats: DeviceStats) -> asyncio.AbstractServer:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        stats.connections[device.name] += 1
        if device.behaviour == "close":
            writer.close()
            return
        with contextlib.suppress(Exception):
            await reader.read()  # hold the connection open, say nothing
        writer.close()

    return await asyncio.start_server(handle, device.address, port)


class LeanFleet:
    """Start lean devices in a background event loop; a context manager that always stops."""

    def __init__(self, devices: Sequence[LeanDevice], port: int = 0) -> None:
        self.devices = list(devices)
        self.port = port or free_port([device.address for device in self.devices])
        self.stats = DeviceStats()
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="lean-fleet", daemon=True)
        self._servers: dict[str, Any] = {}

    def _start_device(self, device: LeanDevice) -> Any:
        if device.behaviour in {"no_banner", "close"}:
            return _raw_listener(device, self.port, self.stats)

        async def handle(process: asyncssh.SSHServerProcess[bytes]) -> None:
            try:
                await _Shell(device, process, self.stats).run()
            except (asyncssh.Error, ConnectionError, BrokenPipeError):
                pass
            finally:
                with contextlib.suppress(Exception):
                    process.exit(0)

        async def listen() -> Any:
            return await asyncssh.create_server(
                lambda: _Server(device, self.stats),
                device.address,
                self.port,
                server_host_keys=[device.host_key or self.host_key],
                process_factory=handle,
                encoding=None,
                line_editor=False,
                keepalive_interval=0,
            )

        return listen()

    def _run(self, coroutine: Any, timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def start(self) -> LeanFleet:
        """Listen on every device address."""
        # asyncio warns on every write to a client that went away; expected with misbehaving devices.
        logging.getLogger("asyncio").setLevel(logging.ERROR)
        self._thread.start()
        try:
            for device in self.devices:
                self._servers[device.name] = self._run(self._start_device(device))
        except BaseException:
            self.stop()
            raise
        return self

    def restart(self, name: str, **changes: Any) -> None:
        """Stop one device and start it again with ``changes`` (e.g. a new ``host_key``)."""
        device = next(d for d in self.devices if d.name == name)
        self._close(name)
        for key, value in changes.items():
            setattr(device, key, value)
        self._servers[name] = self._run(self._start_device(device))

    def _close(self, name: str) -> None:
        server = self._servers.pop(name, None)
        if server is None:
            return

        async def close() -> None:
            server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 5)

        with contextlib.suppress(Exception):
            self._run(close(), 10)

    def stop(self) -> None:
        """Close every listener and the event loop."""
        for name in list(self._servers):
            self._close(name)
        if not self._thread.is_alive():
            return

        async def cancel_sessions() -> None:
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            self._run(cancel_sessions(), 10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def __enter__(self) -> LeanFleet:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: Sequence[str] | None = None) -> None:
    """Serve ``--devices N`` normal lean devices until SIGTERM/SIGINT or end of input.

    Each line ``stats`` on stdin prints the device-side counts (logins, connections, peak
    sessions, prompts) as one JSON line on stdout, then resets them.
    """
    parser = argparse.ArgumentParser(description="Serve a lean simulated fleet on loopback.")
    parser.add_argument("--devices", type=int, required=True)
    parser.add_argument("--first", type=int, default=0, help="index of the first device address")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    indexes = range(args.first, args.first + args.devices)
    devices = [LeanDevice(f"lean-{index:05d}", device_address(index)) for index in indexes]
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    with LeanFleet(devices, args.port) as fleet:
        print("ready", flush=True)

        def answer() -> None:
            for line in sys.stdin:
                if line.strip() == "stats":
                    stats = fleet.stats
                    counts = {
                        "logins": sum(stats.logins.values()),
                        "connections": sum(stats.connections.values()),
                        "peak_sessions_per_device": max(stats.peak.values(), default=0),
                        "prompts": sum(stats.prompts.values()),
                    }
                    print(json.dumps(counts), flush=True)
                    stats.reset()
            stop.set()

        threading.Thread(target=answer, daemon=True).start()
        stop.wait()


if __name__ == "__main__":
    main()
