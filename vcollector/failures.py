"""Turn what Netmiko, paramiko and sockets raise into one line a person understands.

Netmiko's timeout and authentication exceptions do not share its base class (they derive
from paramiko's), so each is mapped explicitly here.
"""

from __future__ import annotations

import socket

import paramiko
from netmiko.exceptions import (
    NetmikoAuthenticationException,
    NetmikoTimeoutException,
    ReadException,
    ReadTimeout,
)

from vcollector.errors import DeviceError

# Reasons that mean "could not reach or talk to the device at all": the only ones
# --retries repeats. Authentication failures are never retried (lockout risk).
CONNECT_FAILURES = ("connection refused", "timed out connecting", "cannot connect", "no SSH banner")


def _root_cause(exc: BaseException) -> OSError | None:
    seen: set[int] = set()
    cause = exc.__cause__ or exc.__context__
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, OSError):
            return cause
        cause = cause.__cause__ or cause.__context__
    return None


def describe_connect_failure(exc: BaseException, timeout: float) -> str:
    """The reason a connection (TCP, SSH handshake, login, first prompt) failed."""
    if isinstance(exc, DeviceError):
        return exc.reason
    if isinstance(exc, NetmikoAuthenticationException | paramiko.AuthenticationException):
        return "authentication failed (wrong username, password or key)"
    if isinstance(exc, paramiko.BadHostKeyException):
        return "host key changed since the last run (possible man-in-the-middle); refusing to connect"
    if isinstance(exc, ReadTimeout):
        return f"no prompt from the device within {timeout:g}s after login"
    if isinstance(exc, NetmikoTimeoutException):
        cause = _root_cause(exc)
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.timeout | TimeoutError):
            return f"timed out connecting after {timeout:g}s"
        if cause is not None:
            return f"cannot connect: {cause.strerror or cause}"
        return f"timed out waiting for the device after {timeout:g}s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.timeout | TimeoutError):
        return f"timed out connecting after {timeout:g}s"
    if isinstance(exc, paramiko.SSHException):
        text = str(exc)
        if "banner" in text.lower():
            return "no SSH banner from the device (not an SSH server, or overloaded)"
        if "host key" in text.lower():
            return f"host key rejected: {text}"
        return f"SSH error: {text}"
    if isinstance(exc, EOFError):
        return "connection closed by the device during login"
    if isinstance(exc, ValueError) and "device_type" in str(exc):
        return "unsupported platform (not a Netmiko device type)"
    if isinstance(exc, OSError):
        return f"cannot connect: {exc.strerror or exc}"
    return f"connection failed: {type(exc).__name__}: {exc}"


def describe_command_failure(exc: BaseException, command: str, timeout: float) -> str:
    """The reason running ``command`` on an open session failed."""
    if isinstance(exc, DeviceError):
        return exc.reason
    if isinstance(exc, ReadTimeout):
        return f"command timed out after {timeout:g}s: {command}"
    if isinstance(exc, ReadException):
        return f"could not read the output of {command!r}: {exc}"
    if isinstance(exc, EOFError | OSError | paramiko.SSHException):
        return f"connection lost while running {command!r}"
    return f"{type(exc).__name__} while running {command!r}: {exc}"


def is_connect_failure(reason: str) -> bool:
    """True for reasons that --retries may repeat (never authentication)."""
    return reason.startswith(CONNECT_FAILURES)
