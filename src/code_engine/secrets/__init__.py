"""Secrets of the services CODE runs: references, resolution, redaction, ExternalSecrets.

A service's `code.yaml` names where each secret lives (`vault://`, `env://`, `file://`);
CODE resolves the values when an instance starts, hands them to that instance's environment
only, and never stores or shows them. On Kubernetes it renders ExternalSecret objects.
"""

from code_engine.secrets.backends import EnvBackend, FileBackend, SecretBackend
from code_engine.secrets.errors import SecretError
from code_engine.secrets.external import (
    StoreRef,
    render_external_secret,
    secret_name,
    validate_external_secret,
)
from code_engine.secrets.fingerprints import Fingerprints, record, redactor
from code_engine.secrets.plaintext import PlainSecret, find_plain_secrets, secret_sign
from code_engine.secrets.resolver import SecretResolver, default_backends, vault_config
from code_engine.secrets.vault import VaultBackend, VaultConfig

__all__ = [
    "EnvBackend",
    "FileBackend",
    "Fingerprints",
    "PlainSecret",
    "SecretBackend",
    "SecretError",
    "SecretResolver",
    "StoreRef",
    "VaultBackend",
    "VaultConfig",
    "default_backends",
    "find_plain_secrets",
    "record",
    "redactor",
    "render_external_secret",
    "secret_name",
    "secret_sign",
    "validate_external_secret",
    "vault_config",
]
