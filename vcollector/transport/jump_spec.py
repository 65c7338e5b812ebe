"""A jump host as the user names it (``[USER@]HOST[:PORT]``); no SSH library needed to plan."""

from __future__ import annotations

import re
from dataclasses import dataclass

NONE = "none"  # a site that is reached directly although the run names a jump host
_SPEC = re.compile(
    r"^(?:(?P<user>[^@\s]+)@)?(?:\[(?P<v6>[^\]]+)\]|(?P<host>[^:\s\[\]]+))(?::(?P<port>\d{1,5}))?$"
)


@dataclass(frozen=True)
class JumpSpec:
    """A bastion: ``[USER@]HOST[:PORT]`` and the vault credential to log in with."""

    host: str
    port: int = 22
    user: str | None = None
    credential: str | None = None  # None: the run's jump credential, else the vault default

    @property
    def label(self) -> str:
        """How failures name it."""
        return self.host

    @classmethod
    def parse(cls, text: str, credential: str | None = None) -> JumpSpec | None:
        """``[USER@]HOST[:PORT]``, or None for ``none``; :class:`ValueError` when malformed."""
        value = text.strip()
        if value.lower() == NONE:
            return None
        match = _SPEC.match(value)
        if not match:
            raise ValueError(f"{text!r} is not [USER@]HOST[:PORT]")
        port = int(match.group("port") or 22)
        if not 1 <= port <= 65535:
            raise ValueError(f"{text!r}: port {port} is not 1-65535")
        host = match.group("v6") or match.group("host") or ""
        return cls(host=host, port=port, user=match.group("user"), credential=credential)
