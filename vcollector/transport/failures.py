"""Turn what Netmiko, paramiko and sockets raise into one line a person understands.

Netmiko's timeout and authentication exceptions do not share its base class (they derive
from paramiko's), so each is mapped explicitly here.
"""

from __future__ import annotations

import errno
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


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it was raised from (Netmiko wraps paramiko and socket errors)."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _socket_reason(error: OSError, timeout: float) -> str:
    if isinstance(error, paramiko.ssh_exception.NoValidConnectionsError):
        # paramiko folds per-address socket errors into one; the first tells why.
        inner = next(iter(error.errors.values()), None)
        if isinstance(inner, OSError):
            error = inner
    if isinstance(error, ConnectionRefusedError) or error.errno == errno.ECONNREFUSED:
        return "connection refused"
    if isinstance(error, socket.timeout | TimeoutError):
        return f"timed out connecting after {timeout:g}s"
    return f"cannot connect: {error.strerror or error}"


def _ssh_reason(error: paramiko.SSHException, timeout: float) -> str:
    text = str(error)
    if isinstance(error, paramiko.BadHostKeyException):
        return (
            "host key changed since the last run (possible man-in-the-middle); refusing to connect. "
            "If the device was replaced, delete its line from the vcollector known_hosts file"
        )
    if "not found in known_hosts" in text:
        return "unknown host key (not in known_hosts; --strict-host-keys refuses new devices)"
    if "banner" in text.lower() or "No existing session" in text:
        return (
            f"no SSH banner or handshake from the device within {timeout:g}s "
            "(not an SSH server, or overloaded)"
        )
    return f"SSH error: {text.strip() or type(error).__name__}"


def describe_connect_failure(exc: BaseException, timeout: float) -> str:
    """The reason a connection (TCP, SSH handshake, login, first prompt) failed."""
    if isinstance(exc, DeviceError):
        return exc.reason
    chain = _causes(exc)
    if any(isinstance(e, NetmikoAuthenticationException | paramiko.AuthenticationException) for e in chain):
        return "authentication failed (wrong username, password or key)"
    if isinstance(exc, ReadTimeout):
        return f"no prompt from the device within {timeout:g}s after login"
    for error in chain[1:] if isinstance(exc, NetmikoTimeoutException) else chain:
        if isinstance(error, paramiko.SSHException):
            return _ssh_reason(error, timeout)
        if isinstance(error, OSError):
            return _socket_reason(error, timeout)
        if isinstance(error, EOFError):
            return "connection closed by the device during login"
    if isinstance(exc, NetmikoTimeoutException):
        return f"timed out waiting for the device after {timeout:g}s"
    if isinstance(exc, ValueError) and "device_type" in str(exc):
        return "unsupported platform (not a Netmiko device type)"
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


def one_line(text: str) -> str:
    """``text`` on one line: whitespace runs (newlines included) become one space."""
    return " ".join(text.split())


def is_connect_failure(reason: str) -> bool:
    """True for reasons that --retries may repeat (never authentication)."""
    return reason.startswith(CONNECT_FAILURES)
