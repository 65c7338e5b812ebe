"""How each device of a run is reached: its credential chain and its jump host, if any.

The chain is the first of ``--credential``, the job's ``credential_set``, config.toml's
rules (then its site's and default sets), the vault default (see
:mod:`vcollector.credentials.chain`), with the set that worked last time moved first.
The jump host is the device's site's ``[sites.CODE] jump_host`` (``none``: direct), else the
run's ``--jump-host``, else config.toml's ``[defaults] jump_host``, else none.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from vcollector.config.settings import Settings, Site
from vcollector.credentials.chain import CredentialMemory, device_chain, device_key
from vcollector.errors import ConfigError
from vcollector.inventory.records import DeviceRecord
from vcollector.run.plan import JobPlan
from vcollector.transport.jump_spec import JumpSpec


@dataclass
class Reach:
    """The credential chains and jump hosts of one run."""

    settings: Settings
    memory: CredentialMemory | None = None
    jump_host: str | None = None  # --jump-host
    jump_credential: str | None = None  # --jump-credential
    _jumps: dict[str, JumpSpec | None] = field(default_factory=dict, repr=False)

    def chain(self, plan: JobPlan, device: DeviceRecord) -> tuple[str, ...]:
        """The sets to try on ``device`` for ``plan``, the one that worked last time first."""
        chosen = device_chain(plan.credentials, (), self.settings, device)
        return self.memory.first(device_key(device), chosen) if self.memory else chosen

    def jump(self, device: DeviceRecord) -> JumpSpec | None:
        """The bastion ``device`` is reached through (None: directly)."""
        site = self.settings.site(device.site)
        key = (device.site or "").casefold() if site is not None and site.jump_host else ""
        if key not in self._jumps:
            self._jumps[key] = self._resolve(site if key else None, device.site)
        return self._jumps[key]

    def _resolve(self, site: Site | None, code: str | None) -> JumpSpec | None:
        defaults = self.settings.defaults
        if site is not None and site.jump_host:
            credential = site.jump_credential or self.jump_credential or defaults.jump_credential
            text, where = site.jump_host, f"sites.{code}.jump_host"
        elif self.jump_host:
            text, credential, where = (
                self.jump_host,
                self.jump_credential or defaults.jump_credential,
                "--jump-host",
            )
        elif defaults.jump_host:
            text, credential, where = defaults.jump_host, defaults.jump_credential, "defaults.jump_host"
        else:
            return None
        try:
            return JumpSpec.parse(text, credential)
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from exc

    def names(self, plans: Iterable[JobPlan]) -> list[str]:
        """Every credential set the run may use (devices' chains and jump hosts), in order."""
        found: dict[str, None] = {}
        for plan in plans:
            if not plan.runnable:
                continue
            for device in plan.devices:
                found.update(dict.fromkeys(self.chain(plan, device)))
                jump = self.jump(device)
                if jump is not None:
                    found[jump.credential or "default"] = None
        return list(found)

    def chains(self, plans: Sequence[JobPlan]) -> dict[tuple[str, ...], int]:
        """Each distinct chain of the run and how many devices use it (the "Using" lines)."""
        counts: dict[tuple[str, ...], int] = {}
        for plan in plans:
            if plan.runnable:
                for device in plan.devices:
                    chain = device_chain(plan.credentials, (), self.settings, device)
                    counts[chain] = counts.get(chain, 0) + 1
        return counts
