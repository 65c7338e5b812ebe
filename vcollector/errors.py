"""One exception root for everything vcollector reports to a person.

Every message is written to be shown as one line, without a traceback, and never
contains a secret.
"""

from __future__ import annotations


class VCollectorError(Exception):
    """Root of every error vcollector raises on purpose."""


class JobFileError(VCollectorError):
    """A job file cannot be read or does not describe a valid job."""

    def __init__(self, path: str, field: str | None, problem: str) -> None:
        self.path = path
        self.field = field
        self.problem = problem
        where = f"{path}: {field}: " if field else f"{path}: "
        super().__init__(f"{where}{problem}")


class InventoryError(VCollectorError):
    """assets.db is missing, unreadable or not a VelocityCMDB inventory."""


class VaultError(VCollectorError):
    """The credential vault is missing, locked, corrupt or the password is wrong."""


class CredentialError(VaultError):
    """The requested credential does not exist, or no default is set."""


class CaptureError(VCollectorError):
    """A capture file cannot be placed or written."""


class DeviceError(VCollectorError):
    """Collection from one device failed; ``reason`` is the one-line explanation."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class CommandRejectedError(DeviceError):
    """The device answered a command with an error message instead of output."""


class Interrupted(VCollectorError):
    """The run was stopped (Ctrl-C or SIGTERM) before it finished."""

    def __init__(self) -> None:
        super().__init__("interrupted")
