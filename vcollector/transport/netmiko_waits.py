"""Netmiko's polling, woken by the device's data instead of the clock.

Netmiko reads a device by polling: sleep a slice (10-100 ms), read what arrived, look for
the prompt, sleep again. A session therefore idles up to a slice after every reply (with
``fast_cli``, ~250 of a ~400 ms login to a fast device), and every waiting session wakes
up 100 times a second to find nothing, which costs CPU that grows with the number of
sessions.

Inside :func:`watching`, once :meth:`Watch.attach` has been given the session, those
sleeps end once the device has sent data on that session's channel and paused: the
paramiko transport thread sets an event when data arrives (``BufferedPipe.set_event``,
paramiko's hook for exactly this). Each run of a Netmiko reading loop ends at most one
sleep early: once output is flowing, the loop keeps Netmiko's own pace, so a long or
trickling output is not re-joined and re-searched after every packet.

Only sleeps that Netmiko's ``base_connection`` makes on the watching thread, from the
reading loops listed in ``_POLLING``, change; every other sleep (``find_prompt``'s settle
time, config-set pacing, lock waits), every other thread and every other Netmiko user in
the process keep the real ``time.sleep``. A closed channel keeps its event set, so sleeps
then fall back to the clock rather than spin.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import netmiko.base_connection

# Netmiko loops that sleep and then read: waking them early only makes them read sooner.
_POLLING = frozenset(
    {
        "read_until_pattern",
        "read_channel",
        "read_channel_timing",
        "send_command",
        "clear_buffer",
        "_try_session_preparation",
        "_test_channel_read",
        "exit_enable_mode",
    }
)


# How long data must pause before a woken sleep ends: a reply's packets come back to back.
SETTLE_SECONDS = 0.002


class Watch:
    """The channel whose data ends the current thread's Netmiko sleeps."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.channel: Any = None
        self._woken: Any = None  # the Netmiko loop (its frame) whose sleep last ended early

    def attach(self, connection: Any) -> None:
        """Start waking on ``connection``'s SSH channel (after ``establish_connection``)."""
        channel = getattr(connection, "remote_conn", None)
        buffer = getattr(channel, "in_buffer", None)
        if buffer is not None and hasattr(buffer, "set_event"):
            buffer.set_event(self.event)
            self.channel = channel

    def sleep(self, seconds: float, loop: Any = None) -> None:
        """Up to ``seconds``; less when data arrives and then pauses (a reply is complete).

        Data that keeps coming keeps the whole slice, and so does a ``loop`` (a Netmiko
        frame) that already woke early once: Netmiko then reads a long output in big pieces
        as before, instead of re-joining and re-searching it after every packet. A closed
        channel gets the plain clock.
        """
        channel = self.channel
        streaming = loop is not None and loop is self._woken
        if channel is None or channel.closed or channel.eof_received or streaming:
            time.sleep(seconds)
            return
        deadline = time.monotonic() + seconds
        if not self.event.wait(seconds):
            return
        self._woken = loop
        buffer = channel.in_buffer
        size = len(buffer)
        while (remaining := deadline - time.monotonic()) > 0:
            time.sleep(min(SETTLE_SECONDS, remaining))
            grown = len(buffer)
            if grown == size:
                return
            size = grown


_local = threading.local()


class _NetmikoClock:
    """Stands in for the ``time`` module inside ``netmiko.base_connection``."""

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        watch: Watch | None = getattr(_local, "watch", None)
        caller = sys._getframe(1)
        if watch is None or seconds <= 0 or caller.f_code.co_name not in _POLLING:
            time.sleep(seconds)
        else:
            watch.sleep(seconds, caller)


_install_lock = threading.Lock()


def _install() -> None:
    with _install_lock:
        module: Any = netmiko.base_connection
        if not isinstance(module.time, _NetmikoClock):
            module.time = _NetmikoClock()


@contextlib.contextmanager
def watching() -> Iterator[Watch]:
    """Within this block, Netmiko's polling on this thread wakes on the attached session."""
    _install()
    watch = Watch()
    previous = getattr(_local, "watch", None)
    _local.watch = watch
    try:
        yield watch
    finally:
        _local.watch = previous
