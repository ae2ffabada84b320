"""Engine settings, read from `CODE_*` environment variables (and an optional `.env`).

One `Settings` object is built at the edge (CLI or server start) and passed in; nothing reads
the environment at import time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

WEAK_SECRETS = frozenset({"", "changeme", "change-me", "secret", "password", "dev", "admin"})


def sqlite_database(url: str) -> str | None:
    """The database of a `sqlite[+driver]://` URL as SQLAlchemy reads it (`sqlite:///a.db` is
    `a.db`, `sqlite:////srv/a.db` is `/srv/a.db`, the query left out), None for another
    backend: for the few places that need it before the database layer is loaded."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+", 1)[0] != "sqlite":
        return None
    return rest.partition("/")[2].partition("?")[0]


def default_data_dir() -> Path:
    """`$XDG_DATA_HOME/code-engine`, falling back to `~/.local/share/code-engine`."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "code-engine"


class Settings(BaseSettings):
    """Every setting of the engine; see docs/configuration.md for each one."""

    model_config = SettingsConfigDict(env_prefix="CODE_", env_file=".env", extra="ignore")

    env: Literal["dev", "test", "prod"] = Field("dev", description="Deployment mode.")
    data_dir: Path = Field(default_factory=default_data_dir, description="Data directory.")
    database_url: str = Field("", description="SQLAlchemy URL; default SQLite in the data dir.")
    host: str = Field("127.0.0.1", description="Listen address of `codectl server`.")
    port: int = Field(8080, ge=1, le=65535, description="Listen port of `codectl server`.")
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Minimum level of log lines."
    )
    log_format: Literal["json", "console"] = Field(
        "json", description="JSON lines (for Loki) or human-readable console lines."
    )
    jwt_issuer: str = Field("code-engine", description="`iss` of issued tokens.")
    jwt_audience: str = Field("code-engine", description="`aud` required in tokens.")
    jwt_keys_dir: Path | None = Field(None, description="Signing keys; default data_dir/keys.")
    jwt_key_passphrase: SecretStr = Field(
        SecretStr(""), description="Encrypts private signing keys at rest; required outside dev."
    )
    access_token_ttl_seconds: int = Field(
        900, ge=30, le=86_400, description="Lifetime of client_credentials tokens."
    )
    user_token_ttl_seconds: int = Field(
        8 * 3600, ge=60, le=7 * 86_400, description="Lifetime of password-grant tokens."
    )
    principal_check_seconds: float = Field(
        5, ge=0, le=60, description="How long a token's principal check is cached (revocation)."
    )
    oidc_issuer: str = Field("", description="Trusted external OIDC issuer (`iss`).")
    oidc_jwks: str = Field("", description="That issuer's JWKS: a file path or an https URL.")
    oidc_audience: str = Field("", description="Audience expected in external tokens.")
    oidc_roles_claim: str = Field("roles", description="Claim holding `role[:env]` strings.")
    otlp_endpoint: str = Field("", description="OTLP/HTTP traces endpoint; empty disables.")
    bootstrap_client_id: str = Field("", description="Admin client created on first start.")
    bootstrap_client_secret: SecretStr = Field(
        SecretStr(""), description="Its secret; generated and printed once when empty."
    )
    github_webhook_secret: SecretStr = Field(
        SecretStr(""), description="Verifies GitHub webhooks (X-Hub-Signature-256); unset refuses."
    )
    dora_incident_link_hours: float = Field(
        24, ge=0, le=720, description="An incident within this many hours of a deployment fails it."
    )
    alertmanager_service_labels: str = Field(
        "service", description="Alert labels naming the service (comma-separated, first wins)."
    )
    alertmanager_environment_labels: str = Field(
        "env,environment", description="Alert labels naming the environment (comma-separated)."
    )
    alertmanager_severity_labels: str = Field(
        "severity", description="Alert labels giving the severity (comma-separated)."
    )
    alertmanager_deployment_labels: str = Field(
        "deployment_id", description="Alert labels or annotations naming a deployment id."
    )
    metrics_prometheus_url: str = Field(
        "", description="Prometheus for operational metrics; empty reads CODE's routers."
    )
    kubectl: str = Field(
        "", description="kubectl that renders kustomize overlays; empty: the venv's, then PATH."
    )
    max_body_bytes: int = Field(
        1_048_576, ge=1024, description="Largest request body; larger ones get 413 unread."
    )
    max_event_body_bytes: int = Field(
        10_485_760, ge=1024, description="Largest body of /api/v1/events (event batches)."
    )
    max_header_bytes: int = Field(
        32_768, ge=4096, description="Largest request line plus headers; larger get 431."
    )
    max_header_count: int = Field(100, ge=10, description="Most request headers; more get 431.")
    auth_max_concurrent_checks: int = Field(
        2, ge=1, le=64, description="Secret checks (Argon2, 64 MiB each) run at once; more: 429."
    )
    auth_free_failures: int = Field(
        5, ge=1, description="Failed sign-ins per name or address before backoff starts."
    )
    auth_lockout_failures: int = Field(
        20, ge=2, description="Failed sign-ins per name or address that lock it out."
    )
    auth_lockout_seconds: float = Field(
        900, ge=1, description="How long a lockout lasts; also the quiet time that resets a count."
    )
    cors_origins: str = Field(
        "", description="Origins allowed to call the API from a browser (comma-separated); none."
    )
    trusted_proxies: str = Field(
        "",
        description="Proxy addresses whose X-Forwarded-For/-Proto are believed (comma-separated).",
    )
    instance_user: str = Field(
        "",
        description="User local instances run as: a name, or `self`; default: a dedicated "
        "`code-instance` user when CODE runs as root.",
    )
    allowed_repo_urls: str = Field(
        "",
        description="Repositories services may use (comma-separated URL or path prefixes); "
        "empty: any an admin registers.",
    )
    dora_metrics_refresh_seconds: float = Field(
        60, ge=0, le=86_400, description="Recompute the code_dora_* gauges this often; 0: none."
    )
    dr_store: str = Field(
        "", description="Backup store: a directory or s3://bucket/prefix; default data_dir/backups."
    )
    dr_replica_store: str = Field("", description="Second backup store (cross-region replica).")
    dr_key: SecretStr = Field(
        SecretStr(""), description="Backup encryption key (32 bytes, base64)."
    )
    dr_key_file: Path | None = Field(
        None, description="File holding the backup key; dev default data_dir/dr-backup.key."
    )
    dr_spec: Path | None = Field(
        None, description="A code.yaml whose `backup:` section governs CODE's own backups."
    )
    dr_scratch_dir: Path | None = Field(
        None, description="Scratch space for drills and restore tests; default data_dir/dr-scratch."
    )
    vault_addr: str = Field(
        "", description="Vault or OpenBao address for vault:// secrets, e.g. https://vault:8200."
    )
    vault_token: SecretStr = Field(SecretStr(""), description="Token CODE reads secrets with.")
    vault_role_id: str = Field("", description="AppRole role id; set it to log in with AppRole.")
    vault_secret_id: SecretStr = Field(SecretStr(""), description="AppRole secret id.")
    vault_approle_mount: str = Field("approle", description="Mount path of the AppRole method.")
    vault_namespace: str = Field("", description="Vault Enterprise/OpenBao namespace; none.")
    vault_ca_cert: str = Field("", description="CA bundle to verify the store's TLS; system's.")
    vault_timeout_seconds: float = Field(
        10, gt=0, le=300, description="Timeout of one request to the store."
    )
    argocd_url: str = Field(
        "",
        description="Argo CD API of the Kubernetes environments, e.g. https://argocd.example.com.",
    )
    argocd_token: SecretStr = Field(
        SecretStr(""), description="Bearer token of an Argo CD account for that API."
    )
    argocd_insecure: bool = Field(
        False, description="Accept an Argo CD certificate that does not verify (a lab only)."
    )
    policy_paths: str = Field(
        "",
        description="Operator-wide Rego policies for every service (comma-separated "
        "`PATH` or `PATH#QUERY`, default query data.code.deny).",
    )
    policy_timeout_seconds: float = Field(
        1.0, gt=0, le=60, description="Longest a policy may evaluate; longer refuses the action."
    )

    @field_validator("data_dir", "jwt_keys_dir", "dr_key_file", "dr_spec", mode="after")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @field_validator("dora_metrics_refresh_seconds", mode="after")
    @classmethod
    def _refresh_zero_or_one_second(cls, value: float) -> float:
        if 0 < value < 1:
            raise ValueError("must be 0 (no code_dora_* gauges) or at least 1 second")
        return value

    @model_validator(mode="after")
    def _refuse_weak_secrets_outside_dev(self) -> Settings:
        if self.env == "dev":
            return self
        if self.jwt_key_passphrase.get_secret_value() in WEAK_SECRETS:
            raise ValueError(
                "CODE_JWT_KEY_PASSPHRASE must be set to a strong value when CODE_ENV is not 'dev'"
            )
        secret = self.bootstrap_client_secret.get_secret_value()
        if self.bootstrap_client_id and (secret in WEAK_SECRETS or len(secret) < 16):
            raise ValueError(
                "CODE_BOOTSTRAP_CLIENT_SECRET must be at least 16 characters outside CODE_ENV=dev"
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'code.db'}"

    @property
    def keys_dir(self) -> Path:
        return self.jwt_keys_dir or self.data_dir / "keys"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"
