"""Privileged (enable) mode: entered once, left on request, tried once when a command is refused.

Netmiko's ``enable()`` checks the mode first and is a no-op on platforms without one. The
session remembers that it is privileged, so a job's ``enable`` after the login already
entered it costs nothing (one prompt check, a round trip, per device less).
"""

from __future__ import annotations

import contextlib

from vcollector.errors import PrivilegeFailed
from vcollector.transport.failures import command_failure
from vcollector.transport.session import Session

ENABLE_RETRY_TIMEOUT = 10.0
_REFUSED = "could not enter enable mode (check the credential's enable secret)"


def enable(session: Session) -> None:
    """Enter privileged mode (with the enable secret, else the password)."""
    if session.privileged:
        return
    if session.enable_refused:  # the preparation's enable was refused: no second secret sent
        raise PrivilegeFailed(_REFUSED)
    try:
        session.connection.enable()
    except (AttributeError, NotImplementedError):
        return
    except ValueError as exc:
        raise PrivilegeFailed(_REFUSED) from exc
    except Exception as exc:
        raise command_failure(exc, "enable", float(session.connection.read_timeout_override or 0)) from exc
    session.privileged = True


def disable(session: Session, command: str, timeout: float) -> None:
    """Leave privileged mode the way Netmiko does (the prompt changes, so not a plain command)."""
    try:
        session.connection.exit_enable_mode(exit_command=command.strip())
    except (AttributeError, NotImplementedError):
        pass
    except Exception as exc:
        raise command_failure(exc, command, timeout) from exc
    session.privileged = False


def unprivileged(session: Session) -> bool:
    """True when the session is known not to be in privileged mode (asks the device)."""
    try:
        return not session.connection.check_enable_mode()
    except Exception:
        return False


def escalate(session: Session, timeout: float) -> bool:
    """Try privileged mode once (bounded in time); True when the session is now privileged.

    Many logins land at privilege 1 where ``show running-config`` is refused; jobs written
    for privilege-15 logins then fail for no reason a person cares about.
    """
    if session.enable_refused:
        return False
    connection = session.connection
    previous = getattr(connection, "read_timeout_override", None)
    connection.read_timeout_override = min(timeout, ENABLE_RETRY_TIMEOUT)
    try:
        connection.enable()
    except Exception:
        with contextlib.suppress(Exception):
            connection.write_channel(connection.RETURN)  # leave any "Password:" prompt
        return False
    finally:
        connection.read_timeout_override = previous
    session.privileged = not unprivileged(session)
    return session.privileged
