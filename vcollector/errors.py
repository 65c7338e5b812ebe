"""One exception root for everything vcollector reports to a person.

Every message is written to be shown as one line, without a traceback, and never
contains a secret. Device failures are typed by cause: code decides by the class
(``retryable``, ``kind``), never by parsing a message.
"""

from __future__ import annotations

from typing import ClassVar


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
    """The requested credential does not exist, or no default is set, or cannot be used."""


class CaptureError(VCollectorError):
    """A capture file cannot be placed or written."""


class HostKeyStoreError(VCollectorError):
    """The known_hosts file cannot be read or updated (no device is contacted without it)."""


class ResultsFileError(VCollectorError):
    """A results or report file (``--json``, ``--report``) cannot be written."""


class ConfigError(VCollectorError):
    """The vcollector configuration file is unreadable or invalid."""


class Interrupted(VCollectorError):
    """The run was stopped (Ctrl-C or SIGTERM) before it finished."""

    def __init__(self) -> None:
        super().__init__("interrupted")


class DeviceError(VCollectorError):
    """Collection from one device failed; ``reason`` is the one-line explanation.

    Subclasses say why. ``retryable`` failures (the device could not be reached at all)
    are the only ones ``--retries`` repeats; ``kind`` names the cause in results files.
    """

    kind: ClassVar[str] = "failed"
    retryable: ClassVar[bool] = False

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class DeviceUnusable(DeviceError):
    """The inventory row cannot be collected from (no address, bad port, name clash...)."""

    kind = "inventory"


class ConnectFailed(DeviceError):
    """TCP or SSH handshake failed: refused, timed out, unreachable, no banner."""

    kind = "connect"
    retryable = True


class HostKeyRejected(DeviceError):
    """The device's host key is changed, revoked, or unknown under ``--strict-host-keys``."""

    kind = "host_key"


class AuthenticationFailed(DeviceError):
    """The device refused the credential (never retried: lockout risk)."""

    kind = "auth"


class PromptNotFound(DeviceError):
    """Logged in, but the device never showed a prompt."""

    kind = "no_prompt"


class CommandTimedOut(DeviceError):
    """A command's output did not end (with the prompt) within the timeout."""

    kind = "timeout"


class CommandRejected(DeviceError):
    """The device answered a command with an error message instead of output."""

    kind = "rejected"


class PrivilegeFailed(DeviceError):
    """Privileged (enable) mode could not be entered or left."""

    kind = "privilege"


class ConnectionLost(DeviceError):
    """The session ended while a command ran (closed by the device or the network)."""

    kind = "connection_lost"


class OutputTooLarge(DeviceError):
    """A command printed more than the output cap; nothing of it is kept."""

    kind = "too_large"


class JumpHostFailed(DeviceError):
    """The jump host could not be used to reach the device."""

    kind = "jump_host"


class SessionFailed(DeviceError):
    """Any other SSH or Netmiko failure, with what the library said."""

    kind = "ssh"


class DeviceInterrupted(DeviceError):
    """The run was stopped while this device was pending or in progress."""

    kind = "interrupted"

    def __init__(self, reason: str = "interrupted") -> None:
        super().__init__(reason)
