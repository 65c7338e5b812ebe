"""A vault credential expressed for Netmiko, and the Nornir transform that applies it.

Registered under ``nornir.plugins.transform_function`` as ``vcollector_credentials``::

    InitNornir(inventory={
        "plugin": "AssetsDBInventory",
        "transform_function": "vcollector_credentials",
        "transform_function_options": {"credential": "lab"},
    })

Any Netmiko-based task (ours, or nornir_netmiko's) can then log in with it.
"""

from __future__ import annotations

import io
import threading
from typing import Any

import paramiko
from nornir.core.inventory import ConnectionOptions, Host

from vcollector.credentials import store
from vcollector.credentials.vault import Credential
from vcollector.errors import CredentialError

_lock = threading.Lock()
_keys: dict[Credential, paramiko.PKey] = {}


def private_key(credential: Credential) -> paramiko.PKey | None:
    """The credential's SSH key as a paramiko key (parsed once), or None."""
    if not credential.ssh_key:
        return None
    with _lock:
        cached = _keys.get(credential)
    if cached is not None:
        return cached
    needs_passphrase = False
    for key_class in (paramiko.Ed25519Key, paramiko.RSAKey, paramiko.ECDSAKey):
        try:
            key: paramiko.PKey = key_class.from_private_key(
                io.StringIO(credential.ssh_key), password=credential.ssh_key_passphrase
            )
        except paramiko.PasswordRequiredException:
            needs_passphrase = True
            continue
        except Exception:  # noqa: S112 - paramiko raises many kinds for a file of another type
            continue
        with _lock:
            _keys[credential] = key
        return key
    if needs_passphrase and not credential.ssh_key_passphrase:
        raise CredentialError(f"credential {credential.name!r}: SSH key is encrypted and has no passphrase")
    raise CredentialError(
        f"credential {credential.name!r}: SSH key cannot be loaded "
        "(not a private key, a wrong passphrase, or an unsupported key type)"
    )


def apply_credential(host: Host, credential: Credential) -> None:
    """Set username, password, SSH key and enable secret on ``host`` for Netmiko."""
    host.username = credential.username
    host.password = credential.password
    options = host.connection_options.get("netmiko") or ConnectionOptions(extras={})
    extras: dict[str, Any] = dict(options.extras or {})
    # Netmiko's enable() falls back to nothing; most devices use the login password.
    extras["secret"] = credential.enable_secret or credential.password or ""
    key = private_key(credential)
    if key is not None:
        # Not use_keys: that makes Netmiko insist on a key *file*; paramiko uses pkey as given.
        extras.update(pkey=key, passphrase=credential.ssh_key_passphrase)
    options.extras = extras
    host.connection_options["netmiko"] = options
    # An explicit enable secret means "enter privileged mode at login".
    host.data["enable_at_login"] = bool(credential.enable_secret) or bool(host.data.get("requires_enable"))


def apply_vault_credentials(
    host: Host, credential: str | None = None, vault_path: str | None = None, **_: Any
) -> None:
    """Nornir transform function: apply the chosen vault credential to ``host``."""
    apply_credential(host, store.resolve(credential, vault_path))
