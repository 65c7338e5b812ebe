"""Transcript devices on loopback replay real device sessions exactly, and misbehave on request."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncssh
import paramiko
import pytest

from tests.conftest import REPO
from vcollector_sim.transcripts import (
    TRANSCRIPT_PASSWORD,
    USERNAME,
    Simulation,
    TranscriptDevice,
    TranscriptFleet,
    load_simulation,
    parse_simulation,
)

pytestmark = pytest.mark.integration

_CANDIDATES = (REPO / "tests" / "fixtures" / "oxidized", Path("/work/shared/fixtures/oxidized-simulations"))
FIXTURES = next((path for path in _CANDIDATES if path.is_dir()), _CANDIDATES[0])
WLC = FIXTURES / "ios__C9800-L-F-K9_17.06.05__simulation.yaml"
EOS = FIXTURES / "eos__DCS-7050SX3-48YC8_4.29.2F__simulation.yaml"
N5K = FIXTURES / "nxos__N5548_7.3.13__simulation.yaml"
SRX = FIXTURES / "junos__srx300_22.4__simulation.yaml"
SRX_PROMPT = FIXTURES / "junos__srx300_22.4_wo_cluster__simulation.yaml"
if not WLC.is_file():
    pytest.skip(f"no Oxidized transcripts in {[str(path) for path in _CANDIDATES]}", allow_module_level=True)

WLC_PROMPT = "OXIDIZED-WLC1#"
USER_EXEC: dict[str, Any] = {
    "init_prompt": "\nUser Access Verification\ncore1>",
    "commands": {"show clock\n": "show clock\n*10:00:00.000 UTC Sun Nov 29 2026\ncore1>"},
}
DEVICES: dict[str, tuple[str, Path | dict[str, Any], str]] = {  # name -> (address, simulation, behaviour)
    "wlc": ("127.0.60.2", WLC, "normal"),
    "eos": ("127.0.60.3", EOS, "normal"),
    "n5k": ("127.0.60.4", N5K, "normal"),
    "srx": ("127.0.60.5", SRX, "normal"),
    "core1": ("127.0.60.6", USER_EXEC, "normal"),
    "wlc-prompt": ("127.0.60.7", WLC, "prompt_in_output"),
    "wlc-description": ("127.0.60.8", WLC, "description_prompt"),
    "wlc-banner": ("127.0.60.9", WLC, "banner_prompt"),
    "wlc-slow": ("127.0.60.10", WLC, "slow"),
    "wlc-drops": ("127.0.60.11", WLC, "drops_typeahead"),
}


@pytest.fixture(scope="module")
def fleet() -> Iterator[TranscriptFleet]:
    devices = [TranscriptDevice(name, *spec) for name, spec in DEVICES.items()]
    with TranscriptFleet(devices) as running:
        yield running


def address(name: str) -> str:
    return DEVICES[name][0]


def sim(name: str) -> Simulation:
    source = DEVICES[name][1]
    return parse_simulation(source) if isinstance(source, dict) else load_simulation(source)


class Shell:
    """A paramiko interactive shell (with a PTY, as Netmiko opens one) and careful reads."""

    def __init__(self, fleet: TranscriptFleet, name: str, password: str = TRANSCRIPT_PASSWORD) -> None:
        self.client = paramiko.SSHClient()
        self.client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        self.client.connect(
            address(name),
            fleet.port,
            username=USERNAME,
            password=password,
            look_for_keys=False,
            allow_agent=False,
            timeout=10,
        )
        self.channel = self.client.invoke_shell(width=511, height=1000)
        self.buffer = b""

    def send(self, text: str) -> None:
        self.channel.sendall(text.encode())

    def _fill(self, deadline: float) -> bool:
        self.channel.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = self.channel.recv(65536)
        except TimeoutError:
            return False
        if not data:
            raise EOFError(f"channel closed; got {self.buffer!r}")
        self.buffer += data
        return True

    def take(self, count: int, timeout: float = 10) -> bytes:
        """Exactly ``count`` bytes."""
        deadline = time.monotonic() + timeout
        while len(self.buffer) < count:
            if not self._fill(deadline):
                raise AssertionError(f"wanted {count} bytes, got {len(self.buffer)}: {self.buffer[-300:]!r}")
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def until(self, marker: bytes, timeout: float = 10) -> bytes:
        """Everything up to and including the first ``marker``."""
        deadline = time.monotonic() + timeout
        while marker not in self.buffer:
            if not self._fill(deadline):
                raise AssertionError(f"no {marker!r} within {timeout}s: {self.buffer[-300:]!r}")
        end = self.buffer.index(marker) + len(marker)
        data, self.buffer = self.buffer[:end], self.buffer[end:]
        return data

    def quiet(self, seconds: float) -> bytes:
        """Whatever arrives within ``seconds`` (b"" if the device stays silent)."""
        deadline = time.monotonic() + seconds
        while self._fill(deadline):
            pass
        data, self.buffer = self.buffer, b""
        return data

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def shell(fleet: TranscriptFleet) -> Iterator[list[Shell]]:
    opened: list[Shell] = []
    yield opened
    for one in opened:
        one.close()


def login(fleet: TranscriptFleet, shells: list[Shell], name: str) -> Shell:
    one = Shell(fleet, name)
    shells.append(one)
    assert one.take(len(sim(name).init_prompt)).decode() == sim(name).init_prompt
    return one


# --- parsing (no sockets) ---------------------------------------------------------------------


def test_load_simulation_maps_platforms_and_interpolates_escapes() -> None:
    assert {load_simulation(path).platform for path in (WLC, EOS, N5K, SRX)} == {
        "cisco_ios",
        "arista_eos",
        "cisco_nxos",
        "juniper_junos",
    }
    wlc = load_simulation(WLC)
    assert wlc.init_prompt == WLC_PROMPT
    config = wlc.commands["show running-config"]
    assert config.startswith("show running-config\r\nBuilding configuration...\r\n")
    assert config.endswith("\r\nend\r\n\r\n" + WLC_PROMPT)
    assert "\\x20" not in config and '\\"' not in config and "\n" not in config.replace("\r\n", "")
    assert 'NAME: "Chassis 1"' in wlc.commands["show inventory"]
    assert wlc.commands["show vtp status"].count("0x00 \r\n") >= 1  # \x20 at line end became a space
    n5k = load_simulation(N5K)  # commands as a list of one-entry mappings, and \r\r\n line ends kept
    assert n5k.commands["terminal length 0"] == "terminal length 0\r\r\n\rTEST-12345# "
    assert "\r\r\r\n" not in n5k.commands["show running-config"]
    assert load_simulation(SRX_PROMPT).init_prompt.endswith("\r\noxidized> ")
    assert wlc.config_command == "show running-config"
    assert load_simulation(EOS).config_command == "show running-config | no-more | exclude ! Time:"
    assert load_simulation(SRX).config_command == "show configuration | display omit"


def test_parse_simulation_handles_ruby_escapes_and_line_ends() -> None:
    parsed = parse_simulation(
        {"init_prompt": 'a\\x20\\"b\\"\\\\n\nc\\r\nr1#\\x20', "commands": {"x\n": "x\\t\\e[0m\\u00e9\nr1#"}},
        "eos",
    )
    assert parsed.init_prompt == 'a "b"\\n\r\nc\r\nr1# '
    assert parsed.commands == {"x": "x\t\x1b[0m\u00e9\r\nr1#"}
    assert parsed.platform == "arista_eos"


def test_unknown_behaviour_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown behaviour"):
        TranscriptDevice("x", "127.0.60.250", WLC, behaviour="sulky")


# --- sessions -----------------------------------------------------------------------------------


def test_asyncssh_client_gets_the_init_prompt_and_the_exact_recorded_answer(fleet: TranscriptFleet) -> None:
    wlc = sim("wlc")
    expected = wlc.commands["show running-config"].encode()
    known = asyncssh.import_known_hosts(
        f"[{address('wlc')}]:{fleet.port} {fleet.host_key.export_public_key().decode()}"
    )

    async def session() -> tuple[bytes, bytes, bytes]:
        async with asyncssh.connect(
            address("wlc"), fleet.port, username=USERNAME, password=TRANSCRIPT_PASSWORD, known_hosts=known
        ) as conn:
            process = await conn.create_process(term_type="vt100", encoding=None)
            init = await asyncio.wait_for(process.stdout.readexactly(len(wlc.init_prompt)), 10)
            process.stdin.write(b"show running-config\n")
            answer = await asyncio.wait_for(process.stdout.readexactly(len(expected)), 10)
            try:
                extra = await asyncio.wait_for(process.stdout.read(1), 0.3)
            except asyncio.TimeoutError:
                extra = b""
            return init, answer, extra

    init, answer, extra = asyncio.run(session())
    assert init == WLC_PROMPT.encode()
    assert answer == expected
    assert extra == b""


@pytest.mark.parametrize("name", ["wlc", "eos", "n5k"])
def test_paramiko_client_gets_each_recorded_answer_exactly(
    fleet: TranscriptFleet, shell: list[Shell], name: str
) -> None:
    one = login(fleet, shell, name)
    recorded = sim(name)
    for command in [c for c in recorded.commands if c != "exit"][:4]:
        one.send(command + "\n")
        assert one.take(len(recorded.commands[command].encode())).decode() == recorded.commands[command]
    assert one.quiet(0.2) == b""


def test_type_ahead_is_answered_in_order(fleet: TranscriptFleet, shell: list[Shell]) -> None:
    commands = sim("wlc").commands
    one = login(fleet, shell, "wlc")
    one.send("show version\nshow inventory\n\nshow vtp status\n")
    expected = commands["show version"] + commands["show inventory"] + "\r\n" + WLC_PROMPT
    expected += commands["show vtp status"]
    assert one.take(len(expected.encode())).decode() == expected


def test_stats_count_connections_logins_commands_and_prompts(
    fleet: TranscriptFleet, shell: list[Shell]
) -> None:
    stats = fleet.stats
    before = (stats.connections["eos"], stats.logins["eos"], stats.prompts["eos"])
    one = login(fleet, shell, "eos")
    one.send("show inventory | no-more\n\n")
    one.until(b"eos-test-01#\r\neos-test-01#")
    assert (stats.connections["eos"], stats.logins["eos"], stats.prompts["eos"]) == (
        before[0] + 1,
        before[1] + 1,
        before[2] + 3,
    )
    assert stats.commands["eos", "show inventory | no-more"] >= 1


def test_wrong_password_is_refused_and_counted(fleet: TranscriptFleet) -> None:
    attempts, logins = fleet.stats.auth_attempts["wlc"], fleet.stats.logins["wlc"]
    with pytest.raises(paramiko.AuthenticationException):
        Shell(fleet, "wlc", password="wrong")
    assert fleet.stats.auth_attempts["wlc"] == attempts + 1
    assert fleet.stats.logins["wlc"] == logins


def test_builtin_commands_unknown_commands_and_enable(fleet: TranscriptFleet, shell: list[Shell]) -> None:
    wlc = login(fleet, shell, "wlc")
    wlc.send("show foo\n")
    assert wlc.until(WLC_PROMPT.encode()).decode() == (
        "show foo\r\n"
        + " " * len(WLC_PROMPT)
        + "^\r\n% Invalid input detected at '^' marker.\r\n\r\n"
        + WLC_PROMPT
    )
    wlc.send("enable\nterminal width 511\nterminal pager 0\n")
    expected = f"enable\r\n{WLC_PROMPT}terminal width 511\r\n{WLC_PROMPT}terminal pager 0\r\n{WLC_PROMPT}"
    assert wlc.take(len(expected)).decode() == expected
    assert fleet.stats.unknown_commands["wlc", "show foo"] >= 1

    core = login(fleet, shell, "core1")
    core.send("enable\nshow clock\n")
    expected = "enable\r\ncore1#show clock\r\n*10:00:00.000 UTC Sun Nov 29 2026\r\ncore1>"
    assert core.take(len(expected)).decode() == expected  # the transcript's own prompt wins again

    srx = login(fleet, shell, "srx")  # a transcript without prompts: one is made up, answers wrapped
    assert srx.until(b"admin@srx> ") == b"\r\nadmin@srx> "
    srx.send("show version\nfoo\nset cli screen-width 0\n")
    expected = (
        "show version\r\n" + sim("srx").commands["show version"] + "\r\n\r\nadmin@srx> "
        "foo\r\n           ^\r\nunknown command.\r\n\r\nadmin@srx> "
        "set cli screen-width 0\r\nScreen width set to 0\r\n\r\nadmin@srx> "
    )
    assert srx.take(len(expected)).decode() == expected


def test_exit_ends_the_session(fleet: TranscriptFleet, shell: list[Shell]) -> None:
    one = login(fleet, shell, "eos")
    one.send("exit\n")
    with pytest.raises(EOFError):
        one.until(b"never", timeout=5)
    assert one.buffer == b"exit"
    assert one.channel.recv_exit_status() == 0


# --- behaviours ---------------------------------------------------------------------------------


def test_prompt_in_output_inserts_the_prompt_line_then_pauses(
    fleet: TranscriptFleet, shell: list[Shell]
) -> None:
    expected = sim("wlc").commands["show running-config"]
    bait = f"\r\n{WLC_PROMPT}\r\n"
    one = login(fleet, shell, "wlc-prompt")
    one.send("show running-config\n")
    head = one.until(bait.encode()).decode()
    started = time.monotonic()
    assert one.quiet(1.0) == b""  # the device pauses right after the bait
    tail = one.take(len(expected.encode()) - len(head) + len(bait) - 2).decode()
    assert time.monotonic() - started >= 1.3
    assert head[: -len(bait)] + "\r\n" + tail == expected
    assert one.quiet(0.2) == b""
    share = head.count("\n") / expected.count("\n")
    assert 0.25 < share < 0.45, share


def test_description_prompt_pauses_mid_line(fleet: TranscriptFleet, shell: list[Shell]) -> None:
    expected = sim("wlc").commands["show running-config"]
    one = login(fleet, shell, "wlc-description")
    one.send("show running-config\n")
    head = one.until(f"description {WLC_PROMPT}".encode()).decode()
    assert head.endswith(f"\r\ninterface TwoGigabitEthernet0/0/0\r\n description {WLC_PROMPT}")
    assert one.quiet(1.0) == b""
    tail = one.until(WLC_PROMPT.encode(), timeout=5).decode()
    assert tail.startswith("uplink\r\n")
    injected = f" description {WLC_PROMPT}uplink\r\n"
    assert (head + tail).replace(injected, "", 1) == expected


def test_banner_prompt_shows_prompt_like_lines_before_the_real_prompt(
    fleet: TranscriptFleet, shell: list[Shell]
) -> None:
    one = Shell(fleet, "wlc-banner")
    shell.append(one)
    banner = one.until(b"#\r\n", timeout=5).decode()
    banner += one.until(b"#\r\n", timeout=5).decode()
    lines = banner.split("\r\n")
    assert WLC_PROMPT in lines
    assert any(line.endswith("#") and line != WLC_PROMPT for line in lines)
    assert one.quiet(1.0) == b""
    assert one.take(len(WLC_PROMPT), timeout=5) == WLC_PROMPT.encode()
    one.send("show version\n")
    assert (
        one.take(len(sim("wlc").commands["show version"].encode())).decode()
        == sim("wlc").commands["show version"]
    )


def test_slow_delays_every_answer(fleet: TranscriptFleet, shell: list[Shell]) -> None:
    expected = sim("wlc").commands["terminal length 0"]
    one = login(fleet, shell, "wlc-slow")
    for line, answer in (("terminal length 0\n", expected), ("\n", "\r\n" + WLC_PROMPT)):
        started = time.monotonic()
        one.send(line)
        assert one.take(len(answer)).decode() == answer
        assert time.monotonic() - started >= 0.3


def test_drops_typeahead_discards_lines_sent_during_an_answer(
    fleet: TranscriptFleet, shell: list[Shell]
) -> None:
    commands = sim("wlc").commands
    one = login(fleet, shell, "wlc-drops")
    one.send("show version\nshow inventory\n")
    assert one.take(len(commands["show version"].encode())).decode() == commands["show version"]
    assert one.quiet(0.7) == b""  # "show inventory" was flushed
    one.send("show inventory\n")
    assert one.take(len(commands["show inventory"].encode())).decode() == commands["show inventory"]
    assert fleet.stats.commands["wlc-drops", "show inventory"] == 1
