"""The live side of a run in one process: what its sessions share while it runs."""

from __future__ import annotations

from dataclasses import dataclass, field

from vcollector.cancellation import Cancellation
from vcollector.credentials.store import CredentialSource
from vcollector.run.reach import Reach
from vcollector.run.spec import RunSpec
from vcollector.run.store import CaptureStore
from vcollector.transport.host_keys import KnownHosts
from vcollector.transport.jump import JumpHosts
from vcollector.transport.limits import SessionLimiter
from vcollector.transport.session import SessionOptions


@dataclass
class RunContext:
    """Cancellation, session limits, host keys and credentials of one run in this process."""

    spec: RunSpec
    credentials: CredentialSource
    cancellation: Cancellation = field(default_factory=Cancellation)
    limiter: SessionLimiter | None = None
    host_keys: KnownHosts | None = None
    reach: Reach | None = None  # credential chains and jump hosts (the planning process)
    store: CaptureStore = field(init=False)
    jumps: JumpHosts = field(init=False)

    def __post_init__(self) -> None:
        self.store = CaptureStore(self.cancellation)
        self.jumps = JumpHosts(self.credentials, self.host_keys, self.spec.max_sessions_per_jump_host)

    @classmethod
    def create(cls, spec: RunSpec, credentials: CredentialSource, reach: Reach | None = None) -> RunContext:
        """A context for ``spec``: limits from its options, its known_hosts read now.

        Raises :class:`~vcollector.errors.HostKeyStoreError` when known_hosts cannot be
        read: no device is contacted without it.
        """
        host_keys = None
        if spec.check_host_keys:
            host_keys = KnownHosts(spec.known_hosts, strict=spec.strict_host_keys)
            host_keys.load()
        return cls(
            spec=spec,
            credentials=credentials,
            limiter=SessionLimiter(spec.sessions_per_device, spec.max_sessions),
            host_keys=host_keys,
            reach=reach,
        )

    def session_options(self) -> SessionOptions:
        """What the transport needs to open this run's sessions."""
        return SessionOptions(
            retries=self.spec.retries,
            limiter=self.limiter,
            cancellation=self.cancellation,
            host_keys=self.host_keys,
            jumps=self.jumps,
        )
