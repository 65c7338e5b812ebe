"""Logging in with a device's credential chain: the next set only after an authentication
failure, each set once, at most ``max_attempts`` of them (see
:mod:`vcollector.credentials.chain` for where the chain comes from)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from nornir.core.task import Task

from vcollector.credentials.store import CredentialSource
from vcollector.errors import AuthenticationFailed
from vcollector.transport.credentials import apply_credential
from vcollector.transport.session import CONNECTION, Session, SessionOptions, open_session

DEFAULT_MAX_AUTH_ATTEMPTS = 3


@dataclass
class Login:
    """Which sets were tried on a device, which one logged in, and their secrets."""

    tried: list[str] = field(default_factory=list)
    used: str | None = None
    secrets: list[str] = field(default_factory=list)


def host_secrets(task: Task) -> list[str]:
    """The host's own secrets as applied (login password, enable secret, key passphrase)."""
    extras = task.host.get_connection_parameters(CONNECTION).extras or {}
    values = (task.host.password, extras.get("secret"), extras.get("passphrase"))
    return [value for value in values if isinstance(value, str) and value]


@contextlib.contextmanager
def login(
    task: Task,
    timeout: float,
    options: SessionOptions,
    session_log: Any,
    chain: Sequence[str],
    credentials: CredentialSource | None,
    max_attempts: int = DEFAULT_MAX_AUTH_ATTEMPTS,
    record: Login | None = None,
) -> Iterator[Session]:
    """An open session, logged in with the first set of ``chain`` the device accepts.

    Without ``credentials`` (a Nornir script that applied its own) the host logs in as it is.
    """
    record = record if record is not None else Login()
    if credentials is None or not chain:
        record.secrets = host_secrets(task)
        with open_session(task, timeout, options, session_log) as session:
            yield session
        return
    wanted = list(dict.fromkeys(chain))
    for name in wanted[:max_attempts]:
        apply_credential(task.host, credentials.get(name))
        record.tried.append(name)
        record.secrets.extend(host_secrets(task))
        try:
            opened = open_session(task, timeout, options, session_log)
            session = opened.__enter__()
        except AuthenticationFailed:
            continue  # only an authentication failure moves on to the next set
        record.used = name
        try:
            yield session
        except BaseException as exc:
            if not opened.__exit__(type(exc), exc, exc.__traceback__):
                raise
        else:
            opened.__exit__(None, None, None)
        return
    raise AuthenticationFailed(_all_failed(record.tried, len(wanted), max_attempts))


def _all_failed(tried: Sequence[str], wanted: int, max_attempts: int) -> str:
    if len(tried) == 1 and wanted == 1:
        return "authentication failed (wrong username, password or key)"
    sets = ", ".join(tried)
    left = (
        f"; {wanted - len(tried)} more not tried (--max-auth-attempts {max_attempts})"
        if wanted > len(tried)
        else ""
    )
    return f"authentication failed with every credential set tried ({sets}){left}"
