"""A simulated fleet of network devices on loopback, built on fakenos.

Each device gets its own loopback address (127.0.0.x) on one shared port, as real devices
share port 22 (assets.db has no per-device port; the port goes in
``device_types.default_port``). fakenos is adjusted to look like the real thing:

* Junos prompts end in a space (``user@mx1> ``), as real Junos prints; without it Netmiko's
  disconnect waits ~10 s;
* NX-OS and Junos get a configuration command (fakenos has none);
* unknown commands answer the way each platform does (``% Invalid input``, ``unknown command.``).

Only for tests, the demo and benchmarks: it needs the ``sim`` extra (fakenos).
"""

from __future__ import annotations

import copy
import errno
import logging
import socket
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

LOOPBACK_PREFIX = "127.0.0."
LOGIN_USER = "admin"

_JUNOS_CONFIG = """set version 21.4R3.15
set system host-name {name}
set system services ssh
set interfaces ge-0/0/0 unit 0 family inet address 10.0.0.1/31
set interfaces lo0 unit 0 family inet address 10.255.0.1/32
set protocols lldp interface all
"""
_NXOS_CONFIG = """!Command: show running-config
!Running configuration last done at: Mon Nov 30 06:00:00 2026
version 9.3(8) Bios:version
hostname {name}
feature ssh
feature lldp
interface mgmt0
  vrf member management
  ip address 10.0.0.2/24
"""


@dataclass(frozen=True)
class FakeDevice:
    """One simulated device: its hostname, Netmiko platform and loopback address."""

    name: str
    platform: str
    address: str
    password: str | None = None  # a login different from the fleet's (for auth-failure tests)


@dataclass
class FleetSpec:
    """Devices plus the login they accept."""

    devices: list[FakeDevice]
    username: str = LOGIN_USER
    password: str = "fleet-pass"  # noqa: S105 - a simulated device's login, on loopback only
    port: int = 0
    extra_commands: dict[str, dict[str, Any]] = field(default_factory=dict)


def loopback_address(index: int) -> str:
    """The ``index``-th device address: 127.0.0.2, 127.0.0.3, ... (127.0.0.1 is left alone)."""
    if not 0 <= index < 250:
        raise ValueError("a fleet holds at most 250 devices (127.0.0.2-127.0.0.251)")
    return f"{LOOPBACK_PREFIX}{index + 2}"


def free_port(addresses: Iterable[str]) -> int:
    """A TCP port free on every one of ``addresses``."""
    wanted = list(addresses) or ["127.0.0.1"]
    for _ in range(50):
        probe = socket.socket()
        probe.bind((wanted[0], 0))
        port = int(probe.getsockname()[1])
        probe.close()
        if all(_port_free(address, port) for address in wanted[1:]):
            return port
    raise OSError(errno.EADDRINUSE, "no port free on every fleet address")


def _port_free(address: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((address, port))
        except OSError:
            return False
    return True


def _space_after_prompt(prompt: Any) -> Any:
    if isinstance(prompt, list):
        return [_space_after_prompt(item) for item in prompt]
    if isinstance(prompt, str) and prompt.endswith((">", "#")):
        return prompt + " "
    return prompt


def _junos_nos() -> Any:
    from fakenos.core.nos import Nos
    from fakenos.plugins.nos import nos_plugins

    nos = Nos(filename=nos_plugins["juniper_junos"])
    nos.name = "vcollector_juniper_junos"
    nos.initial_prompt = "{base_prompt}> "
    nos.commands = copy.deepcopy(nos.commands)
    for command in nos.commands.values():
        for key in ("prompt", "new_prompt"):
            if key in command:
                command[key] = _space_after_prompt(command[key])
    return nos


def simulated_config(platform: str, name: str) -> str | None:
    """The configuration this fleet prints for a Junos or NX-OS device (as a capture holds it)."""
    template = {"juniper_junos": _JUNOS_CONFIG, "cisco_nxos": _NXOS_CONFIG}.get(platform)
    return template.format(name=name).rstrip() + "\n" if template else None


def _platform_commands(device: FakeDevice) -> dict[str, dict[str, Any]]:
    if device.platform == "juniper_junos":
        prompts = ["{base_prompt}> ", "{base_prompt}# "]
        config = _JUNOS_CONFIG.format(name=device.name)
        return {
            "show configuration | display set": {"output": config.rstrip(), "prompt": prompts},
            "show configuration": {
                "output": f"system {{\n    host-name {device.name};\n}}",
                "prompt": prompts,
            },
            "_default_": {"output": "                  ^\nunknown command.", "prompt": prompts},
        }
    if device.platform == "cisco_nxos":
        prompts = ["{base_prompt}>", "{base_prompt}#"]
        return {
            "show running-config": {
                "output": _NXOS_CONFIG.format(name=device.name).rstrip(),
                "prompt": prompts,
            },
            "_default_": {"output": "% Invalid command at '^' marker.", "prompt": prompts},
        }
    return {}


_TCP_ESTABLISHED = 1


def _peer_open(sock: socket.socket) -> bool:
    """False once the client has closed its end.

    Read from the kernel's TCP state (a client's FIN turns the connection to CLOSE_WAIT at
    once), not from paramiko's thread, which may notice only later on a busy machine.
    """
    try:
        if hasattr(socket, "TCP_INFO"):
            return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0] == _TCP_ESTABLISHED
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


class SessionCounter:
    """SSH sessions each device has, counted at the device (server) side.

    ``logins`` counts accepted connections. ``peak`` is the most authenticated, live SSH
    transports a device had at once, sampled every few milliseconds from the server's own
    transport list (fakenos keeps a closed session's handler thread alive for up to a
    second, so counting handler threads would overstate concurrency).
    """

    SAMPLE_SECONDS = 0.003

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._servers: dict[str, Any] = {}
        self.peak: Counter[str] = Counter()
        self.logins: Counter[str] = Counter()
        self._stop = threading.Event()
        self._sampler: threading.Thread | None = None

    def watch(self, name: str, server: Any) -> None:
        """Count the sessions of one fakenos server (its connection handler is wrapped)."""
        handler = server.connection_function

        def counted(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.logins[name] += 1
            try:
                return handler(*args, **kwargs)
            except Exception:
                return None

        server.connection_function = counted
        with self._lock:
            self._servers[name] = server
        if self._sampler is None:
            self._sampler = threading.Thread(target=self._sample, name="fleet-session-sampler", daemon=True)
            self._sampler.start()

    def _sample(self) -> None:
        while not self._stop.wait(self.SAMPLE_SECONDS):
            with self._lock:
                servers = list(self._servers.items())
            for name, server in servers:
                with server._active_sessions_lock:
                    transports = list(server._active_sessions)
                live = sum(
                    1 for t in transports if t.is_active() and t.is_authenticated() and _peer_open(t.sock)
                )
                if live > self.peak[name]:
                    with self._lock:
                        self.peak[name] = max(self.peak[name], live)

    def stop(self) -> None:
        """Stop sampling."""
        self._stop.set()

    def reset(self) -> None:
        """Forget the counts (between test cases sharing one fleet)."""
        with self._lock:
            self.peak.clear()
            self.logins.clear()


class Fleet:
    """Start and stop a simulated fleet; use as a context manager so it always stops.

    One fakenos object per device: fakenos refuses two hosts on one port in one object,
    even on different addresses.
    """

    def __init__(self, spec: FleetSpec) -> None:
        self.spec = spec
        if not spec.port:
            spec.port = free_port(device.address for device in spec.devices)
        self._servers: list[Any] = []
        self.sessions = SessionCounter()

    @property
    def port(self) -> int:
        """The port every device listens on."""
        return self.spec.port

    def start(self) -> Fleet:
        """Start every device (stops the ones already started if one fails)."""
        from fakenos import FakeNOS

        # The fake servers log every client disconnect; they are scenery, not output.
        for noisy in ("fakenos", "paramiko.transport"):
            logging.getLogger(noisy).setLevel(logging.CRITICAL)
        junos = _junos_nos()
        try:
            for device in self.spec.devices:
                commands = {**_platform_commands(device), **self.spec.extra_commands.get(device.name, {})}
                plugin = junos.name if device.platform == "juniper_junos" else device.platform
                inventory = {
                    "hosts": {
                        device.name: {
                            "username": self.spec.username,
                            "password": device.password or self.spec.password,
                            "port": self.spec.port,
                            "server": {
                                "plugin": "ParamikoSshServer",
                                "configuration": {"address": device.address, "timeout": 1},
                            },
                            "nos": {"plugin": plugin, "configuration": {"commands": commands}},
                        }
                    }
                }
                server = FakeNOS(inventory=inventory, plugins=[junos] if plugin == junos.name else None)
                server.start()
                self._servers.append(server)
                for host in server.hosts.values():
                    self.sessions.watch(device.name, host.server)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every device that was started."""
        self.sessions.stop()
        while self._servers:
            server = self._servers.pop()
            try:
                server.stop()
            except Exception:  # noqa: S112 - keep stopping the rest
                continue

    def __enter__(self) -> Fleet:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
