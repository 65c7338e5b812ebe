"""Turn what Netmiko, paramiko and sockets raise into typed failures a person understands.

Netmiko's timeout and authentication exceptions do not share its base class (they derive
from paramiko's), so each is mapped explicitly here. Our own :class:`DeviceError`
subclasses (raised inside the handshake, e.g. by the host-key policy) pass through.
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

from vcollector.errors import (
    AuthenticationFailed,
    CommandTimedOut,
    ConnectFailed,
    ConnectionLost,
    DeviceError,
    PromptNotFound,
    SessionFailed,
)


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it was raised from (Netmiko wraps paramiko and socket errors)."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _socket_failure(error: OSError, timeout: float) -> DeviceError:
    if isinstance(error, paramiko.ssh_exception.NoValidConnectionsError):
        # paramiko folds per-address socket errors into one; the first tells why.
        inner = next(iter(error.errors.values()), None)
        if isinstance(inner, OSError):
            error = inner
    if isinstance(error, ConnectionRefusedError) or error.errno == errno.ECONNREFUSED:
        return ConnectFailed("connection refused")
    if isinstance(error, socket.timeout | TimeoutError):
        return ConnectFailed(f"timed out connecting after {timeout:g}s")
    if isinstance(error, socket.gaierror):
        return ConnectFailed(f"cannot resolve the device's address: {error.strerror or error}")
    return ConnectFailed(f"cannot connect: {error.strerror or error}")


def _ssh_failure(error: paramiko.SSHException, timeout: float) -> DeviceError:
    text = str(error)
    if "banner" in text.lower() or "No existing session" in text:
        return ConnectFailed(
            f"no SSH banner or handshake from the device within {timeout:g}s "
            "(not an SSH server, or overloaded)"
        )
    if "Error reading SSH protocol banner" in text or isinstance(error, EOFError):
        return ConnectFailed("connection closed by the device during the SSH handshake")
    return SessionFailed(f"SSH error: {text.strip() or type(error).__name__}")


def connect_failure(exc: BaseException, timeout: float) -> DeviceError:
    """The typed failure of a connection attempt (TCP, SSH handshake, login, first prompt)."""
    chain = _causes(exc)
    for error in chain:
        if isinstance(error, DeviceError):
            return error
    if any(isinstance(e, NetmikoAuthenticationException | paramiko.AuthenticationException) for e in chain):
        return AuthenticationFailed("authentication failed (wrong username, password or key)")
    if isinstance(exc, ReadTimeout):
        return PromptNotFound(f"no prompt from the device within {timeout:g}s after login")
    for error in chain[1:] if isinstance(exc, NetmikoTimeoutException) else chain:
        if isinstance(error, paramiko.SSHException):
            return _ssh_failure(error, timeout)
        if isinstance(error, OSError):
            return _socket_failure(error, timeout)
        if isinstance(error, EOFError):
            return ConnectFailed("connection closed by the device during login")
    if isinstance(exc, NetmikoTimeoutException):
        return ConnectFailed(f"timed out waiting for the device after {timeout:g}s")
    if isinstance(exc, ValueError) and "device_type" in str(exc):
        return SessionFailed("unsupported platform (not a Netmiko device type)")
    return SessionFailed(f"connection failed: {type(exc).__name__}: {exc}")


def command_failure(exc: BaseException, command: str, timeout: float) -> DeviceError:
    """The typed failure of running ``command`` on an open session."""
    if isinstance(exc, DeviceError):
        return exc
    if isinstance(exc, ReadTimeout):
        return CommandTimedOut(f"command timed out after {timeout:g}s: {command}")
    if isinstance(exc, ReadException):
        return ConnectionLost(f"could not read the output of {command!r}: {exc}")
    if isinstance(exc, EOFError | OSError | paramiko.SSHException):
        return ConnectionLost(f"connection lost while running {command!r}")
    return SessionFailed(f"{type(exc).__name__} while running {command!r}: {exc}")


def one_line(text: str) -> str:
    """``text`` on one line: whitespace runs (newlines included) become one space."""
    return " ".join(text.split())
