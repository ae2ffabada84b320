"""`vault://MOUNT/PATH#KEY`: a key of a KV v2 secret on HashiCorp Vault or OpenBao (hvac).

CODE signs in with a token, or with AppRole (role id + secret id) and then renews nothing:
a token that expired or was revoked is replaced by a new AppRole login on the next
resolution. Address and credentials come from CODE's settings (`CODE_VAULT_*`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import hvac  # type: ignore[import-untyped]
import requests
from hvac import exceptions as vault_errors

from code_engine.secrets.errors import DENIED, INVALID, MISSING, UNREACHABLE, SecretError
from code_engine.spec.secret_refs import SecretReference


@dataclass(frozen=True)
class VaultConfig:
    """How to reach the store and sign in; `token` or `role_id` + `secret_id`."""

    address: str
    token: str = ""
    role_id: str = ""
    secret_id: str = ""
    approle_mount: str = "approle"
    namespace: str = ""
    ca_cert: str = ""  # a CA bundle file; empty: the system's
    timeout: float = 10.0

    @property
    def auth(self) -> str:
        return "approle" if self.role_id else "token"


class _LoginRefusedError(Exception):
    """The store refused CODE's AppRole login; carries the kind of refusal only."""


class VaultBackend:
    """Reads KV v2 secrets; one client per backend, signed in on first use."""

    def __init__(self, config: VaultConfig) -> None:
        self.config = config
        self._client: Any = None
        self._lock = threading.Lock()

    def resolve(self, reference: SecretReference) -> str:
        where = str(reference)
        if not self.config.address:
            raise SecretError(where, "CODE_VAULT_ADDR is not set", kind=INVALID)
        if not (self.config.token or self.config.role_id):
            reason = "set CODE_VAULT_TOKEN, or CODE_VAULT_ROLE_ID and CODE_VAULT_SECRET_ID"
            raise SecretError(where, reason, kind=INVALID)
        with self._lock:
            try:
                data = self._read(reference, retry_login=True)
            except requests.exceptions.RequestException as exc:
                reason = f"the store at {self.config.address} is unreachable ({type(exc).__name__})"
                raise SecretError(where, reason, kind=UNREACHABLE) from None
            except vault_errors.VaultDown:
                raise SecretError(where, "the store is sealed or down", kind=UNREACHABLE) from None
            except vault_errors.InvalidPath:
                raise SecretError(where, "no such secret", kind=MISSING) from None
            except _LoginRefusedError as exc:
                reason = f"the store refused CODE's approle login ({exc})"
                raise SecretError(where, reason, kind=DENIED) from None
            except vault_errors.Forbidden:
                raise SecretError(
                    where, f"permission denied to CODE's {self.config.auth} login", kind=DENIED
                ) from None
            except vault_errors.VaultError as exc:
                status = type(exc).__name__
                raise SecretError(where, f"the store refused: {status}", kind=DENIED) from None
        if reference.key not in data:
            raise SecretError(where, f"the secret has no key {reference.key!r}")
        value = data[reference.key]
        if not isinstance(value, str):
            raise SecretError(where, f"key {reference.key!r} is not a string", kind=MISSING)
        return value

    def _read(self, reference: SecretReference, *, retry_login: bool) -> dict[str, Any]:
        client = self._signed_in()
        try:
            answer = client.secrets.kv.v2.read_secret_version(
                path=reference.path, mount_point=reference.mount, raise_on_deleted_version=True
            )
        except vault_errors.Forbidden:
            if not (retry_login and self.config.role_id):
                raise
            self._client = None  # the AppRole token expired or was revoked: sign in again
            return self._read(reference, retry_login=False)
        data = answer.get("data", {}).get("data") or {}
        return dict(data)

    def _signed_in(self) -> Any:
        if self._client is not None:
            return self._client
        config = self.config
        client = hvac.Client(
            url=config.address,
            namespace=config.namespace or None,
            verify=config.ca_cert or True,
            timeout=config.timeout,
        )
        if config.role_id:
            try:
                client.auth.approle.login(
                    role_id=config.role_id,
                    secret_id=config.secret_id,
                    mount_point=config.approle_mount,
                )
            except vault_errors.VaultError as exc:
                raise _LoginRefusedError(type(exc).__name__) from None
        else:
            client.token = config.token
        self._client = client
        return client
