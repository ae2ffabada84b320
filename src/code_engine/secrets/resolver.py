"""Resolving an environment's `secrets:` map: one backend per scheme, in an explicit registry.

Every value resolved is remembered by the process's log redaction (`observe.scrub`), so a
log line of CODE never shows it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from code_engine.observe import scrub
from code_engine.secrets.backends import EnvBackend, FileBackend, SecretBackend
from code_engine.secrets.errors import SecretError
from code_engine.secrets.vault import VaultBackend, VaultConfig
from code_engine.settings import Settings
from code_engine.spec.secret_refs import parse_reference

Backends = Mapping[str, SecretBackend]


def vault_config(settings: Settings) -> VaultConfig:
    """The Vault/OpenBao connection `CODE_VAULT_*` describes."""
    return VaultConfig(
        address=settings.vault_addr,
        token=settings.vault_token.get_secret_value(),
        role_id=settings.vault_role_id,
        secret_id=settings.vault_secret_id.get_secret_value(),
        approle_mount=settings.vault_approle_mount,
        namespace=settings.vault_namespace,
        ca_cert=settings.vault_ca_cert,
        timeout=settings.vault_timeout_seconds,
    )


def default_backends(
    settings: Settings, environ: Mapping[str, str] | None = None
) -> dict[str, SecretBackend]:
    """The registry CODE runs with: scheme -> backend."""
    return {
        "vault": VaultBackend(vault_config(settings)),
        "env": EnvBackend(os.environ if environ is None else environ),
        "file": FileBackend(),
    }


@dataclass(frozen=True)
class SecretResolver:
    """Resolves `name -> reference` maps to `name -> value`, all or nothing."""

    backends: Backends
    remember: Callable[[list[str]], None] = scrub.remember

    def resolve(self, references: Mapping[str, str]) -> dict[str, str]:
        """Every value, or the first SecretError (naming its reference) of them."""
        values: dict[str, str] = {}
        for name, text in references.items():
            try:
                reference = parse_reference(text)
            except ValueError as exc:
                raise SecretError(text, str(exc)) from None
            backend = self.backends.get(reference.scheme)
            if backend is None:
                raise SecretError(text, f"no backend for {reference.scheme}:// in this engine")
            values[name] = backend.resolve(reference)
        self.remember(list(values.values()))
        return values
