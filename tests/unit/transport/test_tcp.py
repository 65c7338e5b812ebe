"""device_socket: where a device's SSH connection goes, and that Nagle is off on our sockets."""

from __future__ import annotations

import socket
from pathlib import Path

from vcollector.transport.tcp import Route, open_tcp, route


def test_the_ssh_config_is_followed_as_netmiko_follows_it(tmp_path: Path) -> None:
    config = tmp_path / "ssh_config"
    config.write_text(
        "Host jumped-*\n  ProxyJump bastion\n"
        "Host 10.9.9.9\n  ProxyCommand nc %h %p\n"
        "Host no-proxy\n  ProxyCommand none\n"
        "Host alias\n  HostName 10.1.1.1\n"
        "Host 10.2.2.2\n  Port 2222\n"
        "Host *\n  ServerAliveInterval 30\n"
    )
    path = str(config)
    assert route("jumped-r1", 22, path) == Route("jumped-r1", 22, direct=False)
    assert route("10.9.9.9", 22, path) == Route("10.9.9.9", 22, direct=False)
    assert route("no-proxy", 22, path) == Route("no-proxy", 22, direct=True)
    assert route("alias", 830, path) == Route("10.1.1.1", 830, direct=True)
    assert route("10.2.2.2", 22, path) == Route("10.2.2.2", 2222, direct=True)
    assert route("10.2.2.2", 830, path) == Route("10.2.2.2", 830, direct=True)  # Port replaces only 22
    assert route("10.3.3.3", 22, path) == Route("10.3.3.3", 22, direct=True)
    assert route("10.3.3.3", 22, str(tmp_path / "missing")) == Route("10.3.3.3", 22, direct=True)
    assert route("10.3.3.3", 22, None) == Route("10.3.3.3", 22, direct=True)


def test_open_tcp_turns_nagle_off() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with open_tcp("127.0.0.1", port, timeout=5) as client:
            assert client.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
            assert client.gettimeout() == 5
