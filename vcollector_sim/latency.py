"""A TCP proxy that adds network latency: every byte crosses it ``rtt_ms / 2`` late, each way.

Loopback has no round-trip time, so a benchmark on one machine cannot tell a client that
needs 10 round trips per session from one that needs 30. Put this proxy between the client
and the (simulated) devices and it can: each chunk read from one side is stamped with the
time it arrived and written to the other side one one-way delay later. Each direction has
its own queue, so order is kept and a large output streams (it arrives ``rtt/2`` late as a
whole, it is not delayed ``rtt/2`` per chunk).

The client connects to the proxy, never to the device, so the SSH handshake pays the RTT
too. The client's TCP handshake with the proxy completes at once (over loopback), so the
proxy opens the device's connection 1.5 RTT after accepting (when a real device would see
the client's final ACK): the device's first byte (the SSH banner) then reaches the client
2 RTT after it connected, as over a real link.

Not modelled: bandwidth, loss, and TCP's own round trips (slow start; Nagle's algorithm
waiting for an ACK, which the proxy's kernel sends at loopback speed).

One process serves many devices: one listener per proxied device address. Use it
in-process as a context manager (its own event loop thread, like ``LeanFleet``)::

    with LatencyProxy({("127.0.0.2", 2222): ("127.1.0.2", 2222)}, rtt_ms=40) as proxy:
        ...  # connect to 127.1.0.2:2222

or as its own process, either with explicit ``DEVICE=LISTEN`` pairs or for the lean
fleet's addresses (device 127.0.b.c:P listened for on 127.1.b.c:P, see ``--proxy-prefix``)::

    python -m vcollector_sim.latency --rtt-ms 40 --map 127.0.0.2:2222=127.1.0.2:2222
    python -m vcollector_sim.latency --rtt-ms 40 --devices 1000 --first 0 --port 2222

It prints ``ready`` once listening; on stdin, ``rtt N`` sets the RTT (answers ``ok``) and
``stats`` prints the counts as one JSON line; it runs until SIGTERM/SIGINT or end of input.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import threading
from collections import deque
from collections.abc import Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from vcollector_sim.lean_fleet import device_address

Address = tuple[str, int]
_T = TypeVar("_T")

# A direction stops reading from its source when this much is waiting to be delivered
# (bytes "in flight" on the simulated link) and reads again below LOW_WATER.
HIGH_WATER = 8 * 1024 * 1024
LOW_WATER = 2 * 1024 * 1024
# The device connection opens this many RTTs after the client's connection is accepted.
HANDSHAKE_RTTS = 1.5

_EOF = b""  # queued by a side that half-closed; data chunks are never empty


def parse_address(text: str) -> Address:
    """``"127.0.0.2:2222"`` as ``("127.0.0.2", 2222)``."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"not HOST:PORT: {text!r}")
    return host, int(port)


def proxy_address(device: str, prefix: str = "127.1") -> str:
    """Where the proxy listens for a lean-fleet device: 127.0.b.c → ``prefix``.b.c."""
    parts = device.split(".")
    if len(parts) != 4 or prefix.count(".") != 1:
        raise ValueError(f"cannot map {device!r} under {prefix!r}")
    return ".".join([prefix, parts[2], parts[3]])


def fleet_mapping(
    devices: int, first: int, port: int, prefix: str = "127.1", listen_port: int | None = None
) -> dict[Address, Address]:
    """Device address → proxy address for lean-fleet devices ``first`` .. ``first + devices - 1``."""
    mapping: dict[Address, Address] = {}
    for index in range(first, first + devices):
        address = device_address(index)
        mapping[address, port] = (proxy_address(address, prefix), listen_port or port)
    return mapping


@dataclass
class ProxyStats:
    """What the proxy forwarded: sessions accepted, chunks and bytes each way."""

    connections: int = 0
    failed_connects: int = 0
    chunks_up: int = 0  # client → device
    chunks_down: int = 0  # device → client
    bytes_up: int = 0
    bytes_down: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counts as a plain dict (for JSON)."""
        return dict(self.__dict__)


class _Side(asyncio.Protocol):
    """One TCP connection of a proxied session: the client's or the device's."""

    def __init__(self, session: _Session) -> None:
        self.session = session
        self.transport: asyncio.Transport | None = None
        self.outbound: _Direction | None = None  # what this side sends
        self.inbound: _Direction | None = None  # what this side receives
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not isinstance(transport, asyncio.Transport):  # pragma: no cover - TCP only
            raise TypeError("a stream transport is needed")
        self.transport = transport
        if self.inbound is not None:
            self.inbound.sink_ready()

    def data_received(self, data: bytes) -> None:
        if self.outbound is not None and data:
            self.outbound.push(data)

    def eof_received(self) -> bool:
        if self.outbound is not None:
            self.outbound.push(_EOF)
        return True  # keep the transport half-open until the other side has ended too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.outbound is not None and not self.outbound.eof_pushed:
            self.outbound.push(_EOF)
        if self.inbound is not None:
            self.inbound.sink_lost()
        self.session.side_closed()

    def pause_writing(self) -> None:
        if self.inbound is not None:
            self.inbound.set_sink_paused(True)

    def resume_writing(self) -> None:
        if self.inbound is not None:
            self.inbound.set_sink_paused(False)

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.close()


class _Direction:
    """One direction of a session: chunks stamped on arrival, written one delay later."""

    def __init__(self, proxy: LatencyProxy, source: _Side, sink: _Side, *, up: bool) -> None:
        self.proxy = proxy
        self.loop = proxy.loop
        self.source = source
        self.sink = sink
        self.up = up
        self.queue: deque[tuple[float, bytes]] = deque()
        self.queued = 0
        self.timer: asyncio.TimerHandle | None = None
        self.sink_paused = False
        self.source_paused = False
        self.eof_pushed = False
        self.done = False  # the EOF went through (or the sink is gone)
        source.outbound = self
        sink.inbound = self

    def push(self, data: bytes) -> None:
        if self.eof_pushed:
            return
        stats = self.proxy.stats
        if not data:
            self.eof_pushed = True
        elif self.up:
            stats.chunks_up += 1
            stats.bytes_up += len(data)
        else:
            stats.chunks_down += 1
            stats.bytes_down += len(data)
        delay = self.proxy.one_way_delay
        if delay <= 0 and not self.queue and self._sink_open():
            self._write(data)
            return
        self.queue.append((self.loop.time() + delay, data))
        self.queued += len(data)
        self._schedule()
        self._flow()

    def _sink_open(self) -> bool:
        return self.sink.transport is not None and not self.sink.closed

    def _schedule(self) -> None:
        if self.timer is None and self.queue and self._sink_open():
            self.timer = self.loop.call_at(self.queue[0][0], self._deliver)

    def _deliver(self) -> None:
        self.timer = None
        if not self._sink_open():
            return
        now = self.loop.time()
        while self.queue and self.queue[0][0] <= now:
            _due, data = self.queue.popleft()
            self.queued -= len(data)
            self._write(data)
        self._schedule()
        self._flow()

    def _write(self, data: bytes) -> None:
        transport = self.sink.transport
        if transport is None:  # pragma: no cover - callers check _sink_open()
            return
        if data:
            transport.write(data)
            return
        self.done = True
        self.queue.clear()
        try:
            transport.write_eof()
        except OSError:  # the other end is gone already
            transport.abort()
        self.source.session.direction_done()

    def _flow(self) -> None:
        transport = self.source.transport
        if transport is None or self.source.closed:
            return
        pause = self.sink_paused or self.queued > HIGH_WATER
        resume = not self.sink_paused and self.queued < LOW_WATER
        if pause and not self.source_paused:
            self.source_paused = True
            transport.pause_reading()
        elif resume and self.source_paused:
            self.source_paused = False
            transport.resume_reading()

    def sink_ready(self) -> None:
        self._schedule()

    def sink_lost(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.queue.clear()
        self.queued = 0
        self.done = True
        self._flow()
        self.source.session.direction_done()

    def set_sink_paused(self, paused: bool) -> None:
        self.sink_paused = paused
        self._flow()


class _Session:
    """A client connection and its device connection."""

    def __init__(self, proxy: LatencyProxy, target: Address) -> None:
        self.proxy = proxy
        self.target = target
        self.client = _Side(self)
        self.device = _Side(self)
        self.up = _Direction(proxy, self.client, self.device, up=True)
        self.down = _Direction(proxy, self.device, self.client, up=False)
        self.connecting: asyncio.Task[None] | None = None

    def accepted(self) -> None:
        self.proxy.stats.connections += 1
        self.proxy.sessions.add(self)
        self.connecting = self.proxy.loop.create_task(self._connect())

    async def _connect(self) -> None:
        if self.proxy.tcp_handshake and self.proxy.rtt > 0:
            await asyncio.sleep(HANDSHAKE_RTTS * self.proxy.rtt)
        if self.client.closed:
            self.device.closed = True
            self.side_closed()
            return
        try:
            await self.proxy.loop.create_connection(lambda: self.device, *self.target)
        except OSError:
            self.proxy.stats.failed_connects += 1
            self.device.closed = True
            if self.client.transport is not None:
                self.client.transport.abort()
            self.side_closed()

    def direction_done(self) -> None:
        if self.up.done and self.down.done:
            self.client.close()
            self.device.close()

    def side_closed(self) -> None:
        if self.client.closed and self.device.closed:
            self.proxy.sessions.discard(self)

    def abort(self) -> None:
        if self.connecting is not None:
            self.connecting.cancel()
        for side in (self.client, self.device):
            if side.transport is not None and not side.closed:
                side.transport.abort()


class LatencyProxy:
    """Listen on every proxy address of ``mapping`` (device → listen address) and forward each
    connection to its device, ``rtt_ms / 2`` late each way; a context manager that always stops.

    A listen port of 0 takes a free port: :meth:`address_of` tells which. ``rtt_ms`` may be
    changed while running (it applies to chunks that arrive from then on).
    """

    def __init__(
        self,
        mapping: Mapping[Address, Address] | Iterable[tuple[Address, Address]],
        rtt_ms: float,
        *,
        tcp_handshake: bool = True,
    ) -> None:
        pairs = mapping.items() if isinstance(mapping, Mapping) else mapping
        self.mapping: dict[Address, Address] = {device: listen for device, listen in pairs}
        self.rtt_ms = rtt_ms
        self.tcp_handshake = tcp_handshake
        self.stats = ProxyStats()
        self.sessions: set[_Session] = set()
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="latency-proxy", daemon=True)
        self._servers: list[asyncio.AbstractServer] = []
        self._bound: dict[Address, Address] = {}

    @property
    def rtt(self) -> float:
        """The round-trip time in seconds."""
        return max(0.0, self.rtt_ms) / 1000

    @property
    def one_way_delay(self) -> float:
        """Seconds each chunk waits in each direction."""
        return self.rtt / 2

    def address_of(self, device: Address) -> Address:
        """The address the proxy listens on for ``device`` (with the real port once started)."""
        return self._bound.get(device, self.mapping[device])

    def _run(self, coroutine: Coroutine[Any, Any, _T], timeout: float = 60) -> _T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def _listen(self, device: Address, listen: Address) -> None:
        def factory() -> _Side:
            session = _Session(self, device)
            session.accepted()
            return session.client

        server = await self.loop.create_server(factory, *listen, reuse_address=True, backlog=512)
        self._servers.append(server)
        host, port = server.sockets[0].getsockname()[:2]
        self._bound[device] = (str(host), int(port))

    async def _start(self) -> None:
        for device, listen in self.mapping.items():
            await self._listen(device, listen)

    def start(self) -> LatencyProxy:
        """Listen on every proxy address."""
        self._thread.start()
        try:
            self._run(self._start())
        except BaseException:
            self.stop()
            raise
        return self

    def snapshot(self, reset: bool = False) -> dict[str, int]:
        """The counts so far (and forget them when ``reset``)."""

        async def take() -> dict[str, int]:
            counts = self.stats.as_dict() | {"open_sessions": len(self.sessions)}
            if reset:
                self.stats = ProxyStats()
            return counts

        return self._run(take(), 10)

    def stop(self) -> None:
        """Close every listener and session, then the event loop."""
        if not self._thread.is_alive():
            return

        async def close() -> None:
            for server in self._servers:
                server.close()
            for session in list(self.sessions):
                session.abort()
            for server in self._servers:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(server.wait_closed(), 5)
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            self._run(close(), 15)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        if not self._thread.is_alive():
            self.loop.close()

    def __enter__(self) -> LatencyProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _parse_map(items: Sequence[str]) -> dict[Address, Address]:
    mapping: dict[Address, Address] = {}
    for item in items:
        device, sep, listen = item.partition("=")
        if not sep:
            raise ValueError(f"--map wants DEVICE=LISTEN, got {item!r}")
        mapping[parse_address(device)] = parse_address(listen)
    return mapping


def main(argv: Sequence[str] | None = None) -> None:
    """Proxy devices with added latency until SIGTERM/SIGINT or end of input."""
    parser = argparse.ArgumentParser(description="Add a round-trip time between clients and devices.")
    parser.add_argument("--rtt-ms", type=float, required=True, help="round-trip time added (ms)")
    parser.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="DEVICE=LISTEN",
        help="proxy DEVICE (host:port) on LISTEN (host:port); repeatable",
    )
    parser.add_argument("--devices", type=int, default=0, help="proxy this many lean-fleet devices")
    parser.add_argument("--first", type=int, default=0, help="index of the first lean-fleet device")
    parser.add_argument("--port", type=int, help="the lean fleet's port")
    parser.add_argument(
        "--proxy-prefix", default="127.1", help="first two octets of the proxy addresses (127.0.b.c → P.b.c)"
    )
    parser.add_argument("--listen-port", type=int, help="the proxy's port (default: the fleet's)")
    parser.add_argument("--no-tcp-handshake", action="store_true", help="connect to the device at once")
    args = parser.parse_args(argv)
    try:
        mapping = _parse_map(args.map)
        if args.devices:
            if args.port is None:
                parser.error("--devices needs --port")
            mapping |= fleet_mapping(args.devices, args.first, args.port, args.proxy_prefix, args.listen_port)
    except ValueError as exc:
        parser.error(str(exc))
    if not mapping:
        parser.error("nothing to proxy: give --map or --devices")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    with LatencyProxy(mapping, args.rtt_ms, tcp_handshake=not args.no_tcp_handshake) as proxy:
        print("ready", flush=True)

        def answer() -> None:
            for line in sys.stdin:
                words = line.split()
                if words[:1] == ["stats"]:
                    print(json.dumps(proxy.snapshot(reset=True) | {"rtt_ms": proxy.rtt_ms}), flush=True)
                elif words[:1] == ["rtt"] and len(words) == 2:
                    proxy.rtt_ms = float(words[1])
                    print("ok", flush=True)
            stop.set()

        threading.Thread(target=answer, daemon=True).start()
        stop.wait()


if __name__ == "__main__":
    main()
