"""Simulated devices that replay real device transcripts (Oxidized's model-test data).

A ``<model>__<device>__simulation.yaml`` has ``init_prompt`` (what the device prints after
login, ending with its prompt) and ``commands``: for each command as typed, the device's whole
answer (echo, output, next prompt), with Ruby escapes (``\\r``, ``\\x20``, ``\\"``) that are
interpolated as Oxidized does; each bare ``\\n`` becomes ``\\r\\n`` (``\\r\\n`` is kept).
:func:`load_simulation` parses one; the model prefix gives the platform (ios → cisco_ios,
nxos → cisco_nxos, eos → arista_eos, junos → juniper_junos).

Login ``admin`` / ``TRANSCRIPT_PASSWORD``: the device writes ``init_prompt``, then answers
each line in order (lines typed ahead wait their turn, as on a real device):

* a recorded command (exact, then stripped) → its answer, written exactly; its last line, if
  it looks like a prompt, is the new prompt. Answers recorded without echo and prompt
  (Junos exec mode) are wrapped: echo, output, a blank line on Junos, prompt. A transcript
  without any prompt gets ``admin@<name>> `` (Junos) or ``<name>#`` after ``init_prompt``;
* an empty line → ``\\r\\n`` + prompt; ``enable`` (not Junos): ``…>`` → ``…#`` (on ``…#`` it
  just reprints the prompt), ``disable`` the reverse;
* paging (``terminal length 0``, ``terminal width 511``, ``terminal pager 0``, ``terminal
  datadump``, ``no page``, ``set cli screen-length 0``, …) → echo (+ Junos's ``Screen length
  set to 0``) + prompt; ``exit``/``quit``/``logout`` → the answer or an echo, then close;
* anything else → echo, caret line, ``% Invalid input detected at '^' marker.`` (IOS, NX-OS,
  EOS) or ``unknown command.`` (Junos), a blank line, prompt.

``behaviour`` (per device; ``normal`` is as above; ``pause`` defaults to 1.5 s):

``prompt_in_output``   the config answer (``show running-config``, else the transcript's
                       first config command) has, after its first third, a line that is
                       exactly the prompt, then a ``pause``, then the rest
``description_prompt`` the config answer has ``description <prompt>uplink`` (under the first
                       ``interface`` line, else after the first third), with a ``pause``
                       after ``<prompt>``
``banner_prompt``      a MOTD banner with a line equal to the prompt and a last line ending
                       in ``#``, then a ``pause``, then ``init_prompt``
``slow``               every answer is delayed 0.3 s
``drops_typeahead``    input received while an answer is being written is discarded

Addresses 127.x.y.z share one port; :class:`TranscriptFleet` serves them from a background
event loop (like ``LeanFleet``) and counts in :class:`TranscriptStats`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh
from ruamel.yaml import YAML

from vcollector_sim.fleet import free_port

USERNAME = "admin"
TRANSCRIPT_PASSWORD = "transcript-pass"  # noqa: S105 - a simulated device's login, on loopback only
PAUSE = 1.5
SLOW_DELAY = 0.3
PLATFORMS = {"ios": "cisco_ios", "nxos": "cisco_nxos", "eos": "arista_eos", "junos": "juniper_junos"}
BEHAVIOURS = ("normal", "prompt_in_output", "description_prompt", "banner_prompt", "slow", "drops_typeahead")

_ESCAPE = re.compile(r"\\(x[0-9A-Fa-f]{2}|u\{[0-9A-Fa-f ]+\}|u[0-9A-Fa-f]{4}|[0-7]{1,3}|.)", re.DOTALL)
_SIMPLE = {"n": "\n", "r": "\r", "t": "\t", "e": "\x1b", "a": "\a", "b": "\b", "f": "\f", "v": "\v", "s": " "}
_PAGING = re.compile(
    r"(term(inal)? (length|len|width|pager) \d+|terminal datadump|no page"
    r"|set cli (screen-length|screen-width) \d+|set cli complete-on-space off)"
)
_CONFIG = re.compile(r"running-config|show configuration|show config\b")
_BANNER = (
    "\r\n{0}\r\n* Authorised access only: sessions are logged *\r\n{1}\r\n{0}\r\nQuestions? Call ext. #\r\n"
)


def _device_text(text: str) -> str:
    """Interpolate escapes as Oxidized's tests do (Ruby's ``undump``); bare ``\\n`` → ``\\r\\n``."""

    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        if len(code) > 1 and code[0] in "xu":  # \xHH, \uHHHH, \u{H H}
            return "".join(chr(int(part, 16)) for part in code[1:].strip("{}").split())
        if code[0] in "01234567":
            return chr(int(code, 8))
        return _SIMPLE.get(code, code)  # \\ → \, \" → ", \# → #

    return re.sub(r"(?<!\r)\n", "\r\n", _ESCAPE.sub(one, text))


def _looks_like_prompt(line: str) -> bool:
    text = line.strip()
    return 0 < len(text) < 80 and text[-1] in "#>$%]"


@dataclass(frozen=True)
class Simulation:
    """A parsed transcript: what the device writes, command (without ``\\n``) → answer."""

    init_prompt: str
    commands: dict[str, str]
    platform: str

    @property
    def config_command(self) -> str | None:
        """``show running-config`` if recorded, else the first recorded config command."""
        ordered = sorted(self.commands, key=lambda command: command != "show running-config")
        return next((command for command in ordered if _CONFIG.search(command)), None)


def parse_simulation(data: Mapping[str, Any], platform: str = "cisco_ios") -> Simulation:
    """A :class:`Simulation` from a transcript's YAML data (``commands`` a mapping or a list of them)."""
    raw = data.get("commands") or {}
    pairs = [item for entry in raw for item in entry.items()] if isinstance(raw, list) else raw.items()
    commands = {str(key).rstrip("\n"): _device_text(str(value or "")) for key, value in pairs}
    platform = PLATFORMS.get(str(data.get("platform", platform)), str(data.get("platform", platform)))
    return Simulation(_device_text(str(data.get("init_prompt") or "")), commands, platform)


def load_simulation(path: Path | str) -> Simulation:
    """Parse ``<model>__<device>__simulation.yaml`` (or Oxidized's ``model#device#…``)."""
    path = Path(path)
    model = path.name.split("__")[0].split("#")[0]
    data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    return parse_simulation(data, PLATFORMS.get(model, model))


@dataclass
class TranscriptDevice:
    """One device replaying ``simulation`` (a file, its parsed YAML, or a :class:`Simulation`)."""

    name: str
    address: str
    simulation: Path | str | Mapping[str, Any] | Simulation
    behaviour: str = "normal"
    password: str = TRANSCRIPT_PASSWORD
    pause: float = PAUSE
    host_key: Any = None  # an asyncssh private key; the fleet's own key when None
    sim: Simulation = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {self.behaviour!r}; one of {sorted(BEHAVIOURS)}")
        src = parse_simulation(self.simulation) if isinstance(self.simulation, Mapping) else self.simulation
        self.sim = src if isinstance(src, Simulation) else load_simulation(src)


@dataclass
class TranscriptStats:
    """What the devices saw, per device name (``commands`` per (device, command))."""

    connections: Counter[str] = field(default_factory=Counter)
    auth_attempts: Counter[str] = field(default_factory=Counter)
    logins: Counter[str] = field(default_factory=Counter)
    commands: Counter[tuple[str, str]] = field(default_factory=Counter)
    unknown_commands: Counter[tuple[str, str]] = field(default_factory=Counter)
    prompts: Counter[str] = field(default_factory=Counter)

    def reset(self) -> None:
        """Forget every count."""
        for counter in vars(self).values():
            counter.clear()


class _Server(asyncssh.SSHServer):
    def __init__(self, device: TranscriptDevice, stats: TranscriptStats) -> None:
        self.device = device
        self.stats = stats

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.stats.connections[self.device.name] += 1

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        self.stats.auth_attempts[self.device.name] += 1
        return username == USERNAME and password == self.device.password

    def auth_completed(self) -> None:
        self.stats.logins[self.device.name] += 1


class _Shell:
    def __init__(
        self, device: TranscriptDevice, process: asyncssh.SSHServerProcess[bytes], stats: TranscriptStats
    ) -> None:
        self.device = device
        self.sim = device.sim
        self.process = process
        self.stats = stats
        self.junos = self.sim.platform == "juniper_junos"
        self.init = self.sim.init_prompt
        last = self.init.rsplit("\n", 1)[-1]
        if not _looks_like_prompt(last):
            last = f"{USERNAME}@{device.name}> " if self.junos else f"{device.name}#"
            self.init += ("\r\n" if self.init else "") + last
        self.prompt = last  # as printed, with NX-OS's leading "\r"
        self.pending, self.discarding, self.closed, self.arrived = b"", False, False, asyncio.Event()

    async def pump(self) -> None:
        """Read input in the background, so that lines typed ahead wait (or are dropped)."""
        signals = (asyncssh.TerminalSizeChanged, asyncssh.BreakReceived, asyncssh.SignalReceived)
        try:
            while True:
                with contextlib.suppress(*signals):
                    if not (chunk := await self.process.stdin.read(65536)):
                        break
                    self.pending += b"" if self.discarding else chunk
                    self.arrived.set()
        except (asyncssh.Error, ConnectionError):
            pass
        finally:
            self.closed = True
            self.arrived.set()

    async def line(self) -> str | None:
        while not (end := re.search(rb"\r\n|\r|\n", self.pending)):
            if self.closed:
                return None
            self.arrived.clear()
            await self.arrived.wait()
        line, self.pending = self.pending[: end.start()], self.pending[end.end() :]
        return line.decode("utf-8", errors="replace")

    def write(self, text: str) -> None:
        self.process.stdout.write(text.encode("utf-8", errors="surrogateescape"))

    async def run(self) -> None:
        device = self.device
        out = self.process.stdout
        reader = asyncio.ensure_future(self.pump())
        try:
            if device.behaviour == "banner_prompt":
                self.write(_BANNER.format("*" * 46, self.prompt.strip()))
                await out.drain()
                await asyncio.sleep(device.pause)
            self.write(self.init)
            self.stats.prompts[device.name] += 1
            while (line := await self.line()) is not None:
                if device.behaviour == "drops_typeahead":
                    self.discarding, self.pending = True, b""
                if device.behaviour == "slow":
                    await asyncio.sleep(SLOW_DELAY)
                more = await self.answer(line)
                await out.drain()
                self.discarding = False
                if not more:
                    return
        finally:
            reader.cancel()

    async def answer(self, line: str) -> bool:
        """Write the answer to ``line``; False ends the session."""
        command = line.strip()
        name = self.device.name
        if command:
            self.stats.commands[name, command] += 1
        recorded = next((self.sim.commands[k] for k in (line, command) if k in self.sim.commands), None)
        if command in {"exit", "quit", "logout"}:
            self.write(recorded if recorded and recorded.startswith(command) else f"{line}\r\n")
            return False
        if recorded is not None:
            text = self.replay(line, recorded)
        elif not command:
            text = "\r\n" + self.prompt
        else:
            text = self.builtin(line, command)
        await self.send(command, text)
        self.stats.prompts[name] += 1
        return True

    def replay(self, line: str, recorded: str) -> str:
        first, _, rest = recorded.partition("\n")
        if first.strip() == line.strip():
            last = recorded.rsplit("\n", 1)[-1]
            if rest and _looks_like_prompt(last):
                self.prompt = last
            return recorded
        return self.shell_wrap(line, recorded)

    def shell_wrap(self, line: str, body: str) -> str:
        text = f"{line}\r\n"
        if body:
            text += body if body.endswith("\n") else body + "\r\n"
        return text + ("\r\n" if self.junos else "") + self.prompt

    def builtin(self, line: str, command: str) -> str:
        if command in {"enable", "disable"} and not self.junos:
            old, new = (">", "#") if command == "enable" else ("#", ">")
            stripped = self.prompt.rstrip()
            if stripped.endswith(old):
                self.prompt = stripped[:-1] + new + self.prompt[len(stripped) :]
            return f"{line}\r\n{self.prompt}"
        if _PAGING.fullmatch(command):
            screen = re.fullmatch(r"set cli screen-(length|width) (\d+)", command)
            return self.shell_wrap(line, f"Screen {screen[1]} set to {screen[2]}" if screen else "")
        self.stats.unknown_commands[self.device.name, command] += 1
        caret = " " * len(self.prompt.lstrip("\r")) + "^\r\n"  # under the first character
        error = "unknown command." if self.junos else "% Invalid input detected at '^' marker."
        return f"{line}\r\n{caret}{error}\r\n\r\n{self.prompt}"

    async def send(self, command: str, text: str) -> None:
        behaviour = self.device.behaviour
        if command != self.sim.config_command or behaviour not in {"prompt_in_output", "description_prompt"}:
            self.write(text)
            return
        lines = text.split("\n")
        at = 1 + (len(lines) - 2) // 3
        if behaviour == "prompt_in_output":
            bait, rest = self.prompt.lstrip("\r") + "\r\n", ""
        else:
            interfaces = [i for i, x in enumerate(lines[1:-1], 1) if x.startswith("interface ")]
            indent = ""
            if interfaces:
                at = interfaces[0] + 1
                indent = re.match(r"[ \t]*", lines[at]).group() or " "  # type: ignore[union-attr]
            bait, rest = f"{indent}description {self.prompt.strip()}", "uplink\r\n"
        self.write("\n".join(lines[:at]) + "\n" + bait)
        await self.process.stdout.drain()
        await asyncio.sleep(self.device.pause)
        self.write(rest + "\n".join(lines[at:]))


class TranscriptFleet:
    """Serve transcript devices from a background event loop; a context manager that always stops."""

    def __init__(self, devices: Sequence[TranscriptDevice], port: int = 0) -> None:
        self.devices = list(devices)
        self.port = port or free_port([device.address for device in self.devices])
        self.stats = TranscriptStats()
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="transcript-fleet", daemon=True)
        self._servers: list[asyncssh.SSHAcceptor] = []

    async def _listen(self, device: TranscriptDevice) -> asyncssh.SSHAcceptor:
        async def handle(process: asyncssh.SSHServerProcess[bytes]) -> None:
            try:
                await _Shell(device, process, self.stats).run()
            except (asyncssh.Error, ConnectionError, BrokenPipeError):
                pass
            finally:  # a device hangs up when its shell ends
                with contextlib.suppress(Exception):
                    process.exit(0)
                    process.channel.get_connection().close()

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

    def _run(self, coroutine: Any, timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def start(self) -> TranscriptFleet:
        """Listen on every device address."""
        logging.getLogger("asyncio").setLevel(logging.ERROR)
        self._thread.start()
        try:
            for device in self.devices:
                self._servers.append(self._run(self._listen(device)))
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Close every listener, cancel the sessions, stop the event loop."""
        if not self._thread.is_alive():
            return

        async def close() -> None:
            for server in self._servers:
                server.close()
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            self._run(close(), 15)
        self._servers.clear()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def __enter__(self) -> TranscriptFleet:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
