"""netmiko_waits: Netmiko's polling sleeps end when a reply has arrived, and only those."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any

import netmiko.base_connection
import pytest
from paramiko.buffered_pipe import BufferedPipe

from vcollector.transport import netmiko_waits
from vcollector.transport.netmiko_waits import watching


def _channel() -> Any:
    """What Watch reads of a paramiko Channel: its receive buffer and closed/EOF flags."""
    return SimpleNamespace(in_buffer=BufferedPipe(), closed=False, eof_received=False)


def _feed_later(channel: Any, chunks: list[bytes], gap: float, delay: float = 0.02) -> threading.Thread:
    def feed() -> None:
        time.sleep(delay)
        for chunk in chunks:
            channel.in_buffer.feed(chunk)
            time.sleep(gap)

    thread = threading.Thread(target=feed)
    thread.start()
    return thread


def read_until_pattern(seconds: float) -> float:
    """Sleeps like Netmiko's reading loop of that name (the caller's name decides)."""
    started = time.monotonic()
    netmiko.base_connection.time.sleep(seconds)
    return time.monotonic() - started


def find_prompt(seconds: float) -> float:
    """Sleeps like Netmiko's find_prompt, which must keep its settle time."""
    started = time.monotonic()
    netmiko.base_connection.time.sleep(seconds)
    return time.monotonic() - started


def test_a_reply_ends_a_polling_sleep() -> None:
    channel = _channel()
    with watching() as watch:
        watch.attach(SimpleNamespace(remote_conn=channel))
        feeder = _feed_later(channel, [b"router#"], gap=0)
        slept = read_until_pattern(2.0)
        feeder.join()
    assert 0.015 < slept < 0.5


def test_a_stream_keeps_the_whole_slice(monkeypatch: pytest.MonkeyPatch) -> None:
    # A pause longer than the settle time ends the sleep; a wide one keeps a busy test
    # machine's scheduling hiccups from looking like the end of the stream.
    monkeypatch.setattr(netmiko_waits, "SETTLE_SECONDS", 0.03)
    channel = _channel()
    with watching() as watch:
        watch.attach(SimpleNamespace(remote_conn=channel))
        feeder = _feed_later(channel, [b"x" * 100] * 200, gap=0.001, delay=0)  # > 0.2 s of data
        slept = read_until_pattern(0.1)
        feeder.join()
    assert slept >= 0.095


def send_command(seconds: float, channel: Any) -> list[float]:
    """Sleeps twice in one run, like Netmiko's reading loop of that name, with data each time."""
    slept = []
    for _ in range(2):
        channel.in_buffer.feed(b"more output\r\n")
        started = time.monotonic()
        netmiko.base_connection.time.sleep(seconds)
        slept.append(time.monotonic() - started)
        channel.in_buffer.read(1 << 20)  # what Netmiko's read does
    return slept


def test_a_loop_ends_one_sleep_early_then_keeps_netmikos_pace() -> None:
    channel = _channel()
    with watching() as watch:
        watch.attach(SimpleNamespace(remote_conn=channel))
        first, second = send_command(0.2, channel)
        again, _ = send_command(0.2, channel)  # a new run of the loop: early again
    assert first < 0.1
    assert second >= 0.195
    assert again < 0.1


def test_settle_sleeps_other_threads_and_closed_channels_keep_the_clock() -> None:
    channel = _channel()
    channel.in_buffer.feed(b"data already waiting")
    with watching() as watch:
        watch.attach(SimpleNamespace(remote_conn=channel))
        assert find_prompt(0.05) >= 0.045
        other: list[float] = []
        thread = threading.Thread(target=lambda: other.append(read_until_pattern(0.05)))
        thread.start()
        thread.join()
        assert other[0] >= 0.045
        channel.closed = True  # a closed buffer stays "ready": sleeping must not turn into spinning
        assert read_until_pattern(0.05) >= 0.045
    assert read_until_pattern(0.05) >= 0.045  # outside the block: the clock again
