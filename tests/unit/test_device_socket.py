"""device_socket: which hosts we connect ourselves, and that Nagle is off on those sockets."""

from __future__ import annotations

import socket
from pathlib import Path

from vcollector.device_socket import open_tcp, routed_by_ssh_config


def test_hosts_the_ssh_config_routes_are_left_to_netmiko(tmp_path: Path) -> None:
    config = tmp_path / "ssh_config"
    config.write_text(
        "Host jumped-*\n  ProxyJump bastion\n"
        "Host 10.9.9.9\n  ProxyCommand nc %h %p\n"
        "Host alias\n  HostName 10.1.1.1\n"
        "Host 10.2.2.2\n  Port 2222\n"
        "Host *\n  ServerAliveInterval 30\n"
    )
    for host in ("jumped-r1", "10.9.9.9", "alias", "10.2.2.2"):
        assert routed_by_ssh_config(host, 22, str(config)), host
    assert not routed_by_ssh_config("10.2.2.2", 2222, str(config))  # the same port
    assert not routed_by_ssh_config("10.3.3.3", 22, str(config))
    assert not routed_by_ssh_config("10.3.3.3", 22, str(tmp_path / "missing"))
    assert not routed_by_ssh_config("10.3.3.3", 22, None)


def test_open_tcp_turns_nagle_off() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with open_tcp("127.0.0.1", port, timeout=5) as client:
            assert client.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
            assert client.gettimeout() == 5
