"""The simulated jump host: logins, direct-tcpip forwarding to loopback devices, refusals, counts."""

from __future__ import annotations

import io
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncssh
import paramiko
import pytest

from vcollector_sim.bastion import JUMP_PASSWORD, JUMP_USER, Bastion
from vcollector_sim.fleet import free_port
from vcollector_sim.lean_fleet import PASSWORD, USERNAME, LeanDevice, LeanFleet

pytestmark = pytest.mark.integration

CLIENT_KEY = asyncssh.generate_private_key("ssh-ed25519")
CLIENT_PUBLIC = CLIENT_KEY.export_public_key().decode().strip()
DEVICES = [
    LeanDevice("lean-a", "127.0.61.2", authorized_key=CLIENT_PUBLIC),
    LeanDevice("lean-b", "127.0.61.3"),
]
A, B = DEVICES


@pytest.fixture(scope="module")
def fleet() -> Iterator[LeanFleet]:
    with LeanFleet(DEVICES) as running:
        yield running


@pytest.fixture
def bastions() -> Iterator[Callable[..., Bastion]]:
    """Start bastions on 127.0.61.10, .11, ...; every one stops at the end of the test."""
    started: list[Bastion] = []

    def start(**options: object) -> Bastion:
        bastion = Bastion(f"127.0.61.{10 + len(started)}", **options)  # type: ignore[arg-type]
        started.append(bastion.start())
        return bastion

    yield start
    for bastion in started:
        bastion.stop()


def paramiko_key(key: asyncssh.SSHKey) -> paramiko.PKey:
    return paramiko.Ed25519Key.from_private_key(io.StringIO(key.export_private_key("openssh").decode()))


def jump(
    bastion: Bastion, password: str | None = JUMP_PASSWORD, key: paramiko.PKey | None = None
) -> paramiko.Transport:
    """An authenticated paramiko transport to ``bastion``, its host key checked."""
    transport = paramiko.Transport((bastion.address, bastion.port))
    transport.start_client(timeout=10)
    assert transport.get_remote_server_key().get_base64() == bastion.host_key.split()[1]
    if key is not None:
        transport.auth_publickey(JUMP_USER, key)
    else:
        transport.auth_password(JUMP_USER, password or "")
    return transport


def tunnel(transport: paramiko.Transport, address: str, port: int) -> paramiko.Channel:
    return transport.open_channel("direct-tcpip", (address, port), ("127.0.0.1", 0), timeout=10)


def device_over(channel: paramiko.Channel, device: LeanDevice, port: int) -> tuple[paramiko.SSHClient, bytes]:
    """Log in to ``device`` through ``channel``; return the client and the device's first prompt."""
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(
        device.address,
        port,
        username=USERNAME,
        password=PASSWORD,
        sock=channel,
        look_for_keys=False,
        allow_agent=False,
        timeout=10,
    )
    shell = client.invoke_shell()
    shell.settimeout(10)
    seen = b""
    while not seen.endswith(b">"):
        data = shell.recv(4096)
        assert data, seen
        seen += data
    return client, seen


def wait_for(condition: Callable[[], bool], timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_device_session_runs_over_a_direct_tcpip_channel(
    fleet: LeanFleet, bastions: Callable[..., Bastion]
) -> None:
    bastion = bastions()
    device_logins = fleet.stats.logins[A.name]
    transport = jump(bastion)
    try:
        client, prompt = device_over(tunnel(transport, A.address, fleet.port), A, fleet.port)
        assert prompt == b"lean-a>"
        client.close()
    finally:
        transport.close()
    stats = bastion.stats
    assert (stats.connections, stats.logins[JUMP_USER], stats.channels[JUMP_USER]) == (1, 1, 1)
    assert stats.targets[A.address, fleet.port] == 1
    assert stats.refused_channels[JUMP_USER] == 0
    assert fleet.stats.logins[A.name] == device_logins + 1
    assert wait_for(lambda: stats.open_channels[JUMP_USER] == 0)


def test_many_channels_share_one_bastion_login(fleet: LeanFleet, bastions: Callable[..., Bastion]) -> None:
    bastion = bastions()
    transport = jump(bastion)
    clients = []
    try:
        for device in (A, B, A, B):
            client, prompt = device_over(tunnel(transport, device.address, fleet.port), device, fleet.port)
            clients.append(client)
            assert prompt == f"{device.name}>".encode()
        stats = bastion.stats
        assert stats.logins[JUMP_USER] == 1
        assert stats.channels[JUMP_USER] == 4
        assert stats.open_channels[JUMP_USER] == 4
        assert stats.peak_channels[JUMP_USER] == 4
        assert stats.targets[A.address, fleet.port] == stats.targets[B.address, fleet.port] == 2
    finally:
        for client in clients:
            client.close()
        transport.close()
    assert wait_for(lambda: bastion.stats.open_channels[JUMP_USER] == 0)
    assert bastion.stats.peak_channels[JUMP_USER] == 4
    assert bastion.stats.connections == 1


def test_forwarding_disabled_is_administratively_prohibited(
    fleet: LeanFleet, bastions: Callable[..., Bastion]
) -> None:
    bastion = bastions(allow_forwarding=False)
    connections = fleet.stats.connections[A.name]
    transport = jump(bastion)
    try:
        with pytest.raises(paramiko.ChannelException) as refused:
            tunnel(transport, A.address, fleet.port)
        assert refused.value.code == 1
    finally:
        transport.close()
    assert bastion.stats.refused_channels[JUMP_USER] == 1
    assert bastion.stats.channels[JUMP_USER] == 0
    assert fleet.stats.connections[A.name] == connections  # the device never saw a connection


@pytest.mark.parametrize("target", ["192.0.2.10", "10.0.0.1", "::1", "example.com", "0.0.0.0"])
def test_targets_off_loopback_are_administratively_prohibited(
    bastions: Callable[..., Bastion], target: str
) -> None:
    bastion = bastions()
    transport = jump(bastion)
    try:
        with pytest.raises(paramiko.ChannelException) as refused:
            tunnel(transport, target, 22)
        assert refused.value.code == 1
    finally:
        transport.close()
    assert bastion.stats.refused_channels[JUMP_USER] == 1


def test_allowed_targets_refuses_chosen_targets(fleet: LeanFleet, bastions: Callable[..., Bastion]) -> None:
    bastion = bastions(allowed_targets=lambda host, port: host != B.address)
    transport = jump(bastion)
    try:
        with pytest.raises(paramiko.ChannelException) as refused:
            tunnel(transport, B.address, fleet.port)
        assert refused.value.code == 1
        client, prompt = device_over(tunnel(transport, A.address, fleet.port), A, fleet.port)
        client.close()
        assert prompt == b"lean-a>"
    finally:
        transport.close()
    assert (bastion.stats.channels[JUMP_USER], bastion.stats.refused_channels[JUMP_USER]) == (1, 1)


def test_a_target_refusing_the_connection_is_connect_failed(bastions: Callable[..., Bastion]) -> None:
    bastion = bastions()
    transport = jump(bastion)
    try:
        with pytest.raises(paramiko.ChannelException) as refused:
            tunnel(transport, "127.0.61.2", free_port(["127.0.61.2"]))
        assert refused.value.code == 2
    finally:
        transport.close()
    assert bastion.stats.refused_channels[JUMP_USER] == 1


def test_session_channels_are_refused(bastions: Callable[..., Bastion]) -> None:
    transport = jump(bastions())
    try:
        with pytest.raises(paramiko.ChannelException):
            transport.open_session(timeout=10)
    finally:
        transport.close()


def test_key_login_works_and_a_stranger_key_is_refused(
    fleet: LeanFleet, bastions: Callable[..., Bastion]
) -> None:
    bastion = bastions(users={}, authorized_keys={JUMP_USER: [CLIENT_PUBLIC]})
    transport = jump(bastion, key=paramiko_key(CLIENT_KEY))
    try:
        assert transport.is_authenticated()
        client, prompt = device_over(tunnel(transport, B.address, fleet.port), B, fleet.port)
        client.close()
        assert prompt == b"lean-b>"
    finally:
        transport.close()
    assert bastion.stats.logins[JUMP_USER] == 1
    stranger = paramiko_key(asyncssh.generate_private_key("ssh-ed25519"))
    with pytest.raises(paramiko.AuthenticationException):
        jump(bastion, key=stranger).close()
    with pytest.raises(paramiko.AuthenticationException):  # no password login on this bastion
        jump(bastion).close()
    assert bastion.stats.logins[JUMP_USER] == 1
    assert bastion.stats.auth_attempts[JUMP_USER] >= 2


def test_wrong_password_is_counted_and_refused(bastions: Callable[..., Bastion]) -> None:
    bastion = bastions()
    with pytest.raises(paramiko.AuthenticationException):
        jump(bastion, password="not-the-password").close()
    assert bastion.stats.auth_attempts[JUMP_USER] == 1
    assert bastion.stats.logins[JUMP_USER] == 0
    assert bastion.stats.connections == 1
    jump(bastion).close()
    # The bastion counts the login in its own loop, maybe just after the client has seen it.
    assert wait_for(lambda: bastion.stats.logins[JUMP_USER] == 1), bastion.stats
    assert bastion.stats.auth_attempts[JUMP_USER] == 2


def test_a_bastion_listens_on_loopback_only() -> None:
    with pytest.raises(ValueError, match="loopback"):
        Bastion("0.0.0.0")


@pytest.mark.skipif(shutil.which("ssh") is None, reason="no OpenSSH client")
def test_openssh_proxy_jump(fleet: LeanFleet, bastions: Callable[..., Bastion], tmp_path: Path) -> None:
    bastion = bastions(authorized_keys={JUMP_USER: [CLIENT_PUBLIC]})
    key = tmp_path / "id_ed25519"
    key.write_bytes(CLIENT_KEY.export_private_key("openssh"))
    key.chmod(0o600)
    known = tmp_path / "known_hosts"
    device_key = fleet.host_key.export_public_key().decode().strip()
    known.write_text(f"{bastion.known_hosts_line()}\n[{A.address}]:{fleet.port} {device_key}\n")
    config = tmp_path / "ssh_config"
    config.write_text(
        "Host *\n"
        f"  IdentityFile {key}\n  IdentitiesOnly yes\n  UserKnownHostsFile {known}\n"
        "  GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking yes\n  BatchMode yes\n"
        "  PasswordAuthentication no\n  KbdInteractiveAuthentication no\n  ConnectTimeout 10\n"
    )
    result = subprocess.run(
        [
            "ssh", "-F", str(config), "-T", "-J", f"{JUMP_USER}@{bastion.address}:{bastion.port}",
            "-p", str(fleet.port), f"{USERNAME}@{A.address}",
        ],
        input=b"show version\nexit\n",
        capture_output=True,
        timeout=60,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    assert b"lean-a>" in result.stdout and b"Cisco IOS Software" in result.stdout
    assert bastion.stats.logins[JUMP_USER] == 1
    assert bastion.stats.channels[JUMP_USER] == 1
    assert bastion.stats.targets[A.address, fleet.port] == 1
