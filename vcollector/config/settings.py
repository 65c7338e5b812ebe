"""``$VCOLLECTOR_HOME/config.toml``: what a user would otherwise repeat on every command line.

Optional; validated once, with one error naming the key. Command-line options win over
environment variables, those over this file, this file over the job files' own
defaults and the built-in ones::

    [defaults]
    capture_base = "~/.velocitycmdb/data/capture"   # --output-dir
    assets_db = "~/.velocitycmdb/data/assets.db"    # --db
    vault = "~/.vcollector/collector.db"            # --vault
    broker = "redis://127.0.0.1:6379/0"             # --broker
    credentials = ["tacacs", "local"]               # the chain when nothing more specific names one
    max_auth_attempts = 3                           # --max-auth-attempts
    strict_host_keys = false                        # --strict-host-keys
    max_sessions_per_jump_host = 20                 # --max-sessions-per-jump-host

    [[credential_rules]]            # the first rule whose every given field matches a device
    site = "IAD2"                   # site code (exact, any case)
    role = "core"                   # substring of the role, any case
    vendor = "cisco"                # substring of the vendor name or short name, any case
    platform = ["cisco_ios", "cisco_xe"]
    name = "edge-*"                 # * and ? wildcards on the name or normalized name
    credentials = ["iad-tacacs", "local"]

    [sites.FRA1]
    jump_host = "jump@bastion-fra1.example.net:22"  # or "none" to go direct
    jump_credential = "bastion"
    credentials = ["fra-local"]
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

from vcollector.config.paths import HOME_ENV, vcollector_home
from vcollector.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CONFIG_FILE = "config.toml"
DEFAULT_MAX_AUTH_ATTEMPTS = 3
DEFAULT_SESSIONS_PER_JUMP_HOST = 20


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def names(value: str | list[str] | None) -> tuple[str, ...]:
    """Credential set names from a list or a comma-separated string."""
    if value is None:
        return ()
    entries = value.split(",") if isinstance(value, str) else value
    return tuple(name.strip() for name in entries if name.strip())


class Defaults(_Strict):
    """``[defaults]``."""

    capture_base: StrictStr | None = None
    assets_db: StrictStr | None = None
    vault: StrictStr | None = None
    broker: StrictStr | None = None
    credentials: StrictStr | list[StrictStr] | None = None
    max_auth_attempts: StrictInt = Field(default=DEFAULT_MAX_AUTH_ATTEMPTS, ge=1, le=10)
    strict_host_keys: StrictBool = False
    jump_host: StrictStr | None = None
    jump_credential: StrictStr | None = None
    max_sessions_per_jump_host: StrictInt = Field(default=DEFAULT_SESSIONS_PER_JUMP_HOST, ge=1, le=1000)


class CredentialRule(_Strict):
    """``[[credential_rules]]``: credential sets for the devices that match every field given."""

    site: StrictStr | None = None
    role: StrictStr | None = None
    vendor: StrictStr | None = None
    platform: StrictStr | list[StrictStr] | None = None
    name: StrictStr | None = None
    credentials: StrictStr | list[StrictStr]

    def as_filter(self) -> dict[str, Any]:
        """The rule's fields as a job's ``device_filter`` (the same meaning)."""
        return {
            "site": self.site,
            "role": self.role,
            "vendor": self.vendor,
            "platform": self.platform,
            "name_pattern": self.name,
        }


class Site(_Strict):
    """``[sites.CODE]``."""

    jump_host: StrictStr | None = None
    jump_credential: StrictStr | None = None
    credentials: StrictStr | list[StrictStr] | None = None


class _File(_Strict):
    defaults: Defaults = Defaults()
    credential_rules: list[CredentialRule] = []
    sites: dict[str, Site] = {}


@dataclass(frozen=True)
class Settings:
    """The configuration file, read (or the built-in defaults when there is none)."""

    path: Path
    file: _File

    @property
    def defaults(self) -> Defaults:
        """``[defaults]``."""
        return self.file.defaults

    def site(self, code: str | None) -> Site | None:
        """``[sites.CODE]`` of a site code (any case)."""
        if not code:
            return None
        wanted = code.casefold()
        return next((site for name, site in self.file.sites.items() if name.casefold() == wanted), None)

    @property
    def rules(self) -> list[CredentialRule]:
        """``[[credential_rules]]``, in order."""
        return self.file.credential_rules


def config_path() -> Path:
    """``$VCOLLECTOR_HOME/config.toml``."""
    return vcollector_home() / CONFIG_FILE


def load_settings(path: Path | None = None) -> Settings:
    """Read the configuration file; none is no error. :class:`ConfigError` names the key."""
    path = path or config_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Settings(path, _File())
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        data: dict[str, Any] = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
    try:
        return Settings(path, _File.model_validate(data))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(
            str(part) for part in first["loc"] if not str(part).endswith("]") and part not in _TAGS
        )
        raise ConfigError(
            f"{path}: {where}: {_problem(first)} (see ${HOME_ENV}/config.toml in the README)"
        ) from None


_TAGS = frozenset({"str", "int", "bool", "list[str]"})


def _problem(error: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "is required"
    ctx = error.get("ctx") or {}
    if kind == "greater_than_equal":
        return f"must be ≥ {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"must be ≤ {ctx.get('le')}"
    return str(error["msg"]).lower()
