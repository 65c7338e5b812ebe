"""What both runners take beyond their jobs, with config.toml's defaults applied."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from vcollector.cli import common
from vcollector.config.paths import ASSETS_DB_ENV, CAPTURE_DIR_ENV, VAULT_ENV, default_db_path
from vcollector.config.settings import Settings, load_settings
from vcollector.credentials.chain import CredentialMemory
from vcollector.errors import VCollectorError
from vcollector.run.reach import Reach
from vcollector.run.spec import RunSpec


@dataclass
class RunOptions:
    """What both runners take beyond their jobs, with config.toml's defaults applied.

    Command-line options win over environment variables, those over config.toml, that over
    the built-in defaults.
    """

    credential: list[str] | None = None
    vault: Path | None = None
    db: Path | None = None
    output_dir: Path | None = None
    limit: int | None = None
    no_save: bool = False
    retries: int = 0
    strict_host_keys: bool = False
    processes: int | None = None
    max_output_mb: float | None = None
    no_history: bool = False
    scrub_secrets: bool = False
    max_auth_attempts: int | None = None
    jump_host: str | None = None
    jump_credential: str | None = None
    max_sessions_per_jump_host: int | None = None
    broker: str | None = None
    force_save: bool = False

    @cached_property
    def settings(self) -> Settings:
        """config.toml (one error line when it is invalid)."""
        try:
            return load_settings()
        except VCollectorError as exc:
            common.fail(str(exc))

    @property
    def given_credentials(self) -> list[str]:
        """``--credential`` sets, in order (repeated or comma-separated)."""
        return common.names(",".join(self.credential or []))

    @property
    def vault_path(self) -> Path | None:
        """``--vault``, else ``$VCOLLECTOR_VAULT``, else config.toml's (None: the default)."""
        configured = self.settings.defaults.vault
        if self.vault or os.environ.get(VAULT_ENV) or not configured:
            return self.vault
        return Path(configured).expanduser()

    def spec(self, **extra: Any) -> RunSpec:
        """The run spec of these options (``extra``: the runner's own)."""
        defaults = self.settings.defaults
        output_dir = self.output_dir
        if output_dir is None and not os.environ.get(CAPTURE_DIR_ENV) and defaults.capture_base:
            output_dir = Path(defaults.capture_base).expanduser()
        db = self.db or (None if os.environ.get(ASSETS_DB_ENV) else defaults.assets_db)
        return RunSpec(
            db_path=Path(db).expanduser() if db else default_db_path(),
            output_dir=output_dir,
            limit=self.limit,
            save=not self.no_save,
            retries=self.retries,
            strict_host_keys=self.strict_host_keys or defaults.strict_host_keys,
            processes=self.processes,
            max_output_mb=self.max_output_mb,
            history=not self.no_history,
            scrub_secrets=self.scrub_secrets,
            max_auth_attempts=self.max_auth_attempts or defaults.max_auth_attempts,
            max_sessions_per_jump_host=self.max_sessions_per_jump_host or defaults.max_sessions_per_jump_host,
            broker=common.broker_url(self.broker, defaults.broker),
            force_save=self.force_save,
            **extra,
        )

    def reach(self) -> Reach:
        """Credential chains (with the sets that worked last time first) and jump hosts."""
        return Reach(self.settings, CredentialMemory(), self.jump_host, self.jump_credential)
