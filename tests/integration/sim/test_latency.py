"""The latency proxy: one round trip costs one RTT, and a large transfer streams."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Iterator

import pytest

from vcollector_sim.latency import LatencyProxy

RTT = 0.060
SLACK = 0.5  # generous: a busy machine may run late, never early
CHUNK = 10 * 1024
CHUNKS = 100  # 1,000 KiB in all


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while data := self.request.recv(65536):
            self.request.sendall(data)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture
def proxied() -> Iterator[tuple[str, int]]:
    """An echo server on 127.0.0.1 behind a 60 ms proxy; yields the proxy's address."""
    with _Server(("127.0.0.1", 0), _Echo) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        device = server.server_address[:2]
        try:
            with LatencyProxy({device: ("127.0.0.1", 0)}, rtt_ms=RTT * 1000) as proxy:
                yield proxy.address_of(device)
        finally:
            server.shutdown()


def _connect(address: tuple[str, int]) -> socket.socket:
    sock = socket.create_connection(address, timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _ping(sock: socket.socket) -> float:
    started = time.perf_counter()
    sock.sendall(b"ping")
    received = b""
    while len(received) < 4:
        chunk = sock.recv(16)
        assert chunk, "closed"
        received += chunk
    assert received == b"ping"
    return time.perf_counter() - started


def test_one_round_trip_costs_one_rtt(proxied: tuple[str, int]) -> None:
    with _connect(proxied) as sock:
        # The first exchange also waits for the device's connection (the TCP handshake's
        # round trip, which the client's kernel did not pay over loopback).
        first = _ping(sock)
        assert first >= 2 * RTT
        assert first < 2 * RTT + SLACK
        for _ in range(3):
            elapsed = _ping(sock)
            assert elapsed >= RTT
            assert elapsed < RTT + SLACK


def test_a_large_transfer_streams(proxied: tuple[str, int]) -> None:
    """Each chunk arrives about one RTT after it was sent: delays do not add up per chunk."""
    sent_at: list[float] = []
    with _connect(proxied) as sock:
        _ping(sock)

        def send() -> None:
            block = b"x" * CHUNK
            for _ in range(CHUNKS):
                sent_at.append(time.perf_counter())
                sock.sendall(block)
                time.sleep(0.002)  # several reads on the proxy's side, not one big one

        sender = threading.Thread(target=send)
        started = time.perf_counter()
        sender.start()
        received = 0
        late: list[float] = []
        while received < CHUNK * CHUNKS:
            data = sock.recv(1 << 20)
            assert data, "closed"
            now = time.perf_counter()
            before = received
            received += len(data)
            # every chunk whose last byte came back just now
            for index in range(before // CHUNK, received // CHUNK):
                late.append(now - sent_at[index])
        elapsed = time.perf_counter() - started
        sender.join()
    assert len(late) == CHUNKS
    assert min(late) >= RTT
    # Delayed per chunk instead, the last chunk would be ~CHUNKS x RTT/2 late (3 s).
    assert max(late) < RTT + SLACK
    assert elapsed < CHUNKS * RTT / 4
