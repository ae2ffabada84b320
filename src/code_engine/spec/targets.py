"""Where an environment runs: local supervised processes or a Kubernetes namespace."""

from __future__ import annotations

import shlex
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from code_engine.spec.base import (
    DnsLabel,
    NonBlank,
    SpecModel,
    matching,
    pattern_schema,
    rule_error,
)
from code_engine.spec.duration import PositiveDuration

PORT_PLACEHOLDER = "{port}"
ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"


def _check_command(command: str) -> str:
    try:
        words = shlex.split(command)
    except ValueError as exc:
        raise PydanticCustomError(
            "command", "cannot split command: {reason}", {"reason": str(exc)}
        ) from None
    if not words:
        raise PydanticCustomError("command", "command must not be empty")
    if PORT_PLACEHOLDER not in command:
        # each instance gets its own port behind the router, so the command must take it
        raise PydanticCustomError("command", "command must contain {port}, e.g. '--port {port}'")
    return command


def _check_path(path: str) -> str:
    if not path.startswith("/"):
        raise PydanticCustomError("path", "{path} must start with '/'", {"path": repr(path)})
    return path


EnvName = Annotated[
    str,
    matching(ENV_NAME_PATTERN, "env_name", "{value} is not an environment variable name"),
    pattern_schema(ENV_NAME_PATTERN),
]


class RouterLimits(SpecModel):
    """Timeouts and request limits of the environment's router (builtin and HAProxy)."""

    connect_timeout: PositiveDuration = Field(
        default=timedelta(seconds=5),
        description="Time to open a connection to an instance; failing counts as a "
        "connection error (502) against its release.",
    )
    response_timeout: PositiveDuration = Field(
        default=timedelta(seconds=30),
        description="Time an instance has to send the head of its response; after it the "
        "router answers 504 and counts a timeout against the release.",
    )
    read_timeout: PositiveDuration = Field(
        default=timedelta(seconds=60),
        description="Longest silence of an instance while it sends a response body; after "
        "it the response is cut and counted as a timeout.",
    )
    client_header_timeout: PositiveDuration = Field(
        default=timedelta(seconds=10),
        description="Time a client has to send a whole request head (from its connection "
        "or its previous request); slower clients get 408 and are disconnected, so slow "
        "senders cannot hold connections open.",
    )
    client_idle_timeout: PositiveDuration = Field(
        default=timedelta(seconds=75),
        description="How long an idle keep-alive client connection stays open.",
    )
    max_header_bytes: int = Field(
        default=32768,
        ge=1024,
        le=1048576,
        description="Largest request head (request line and headers) in bytes; larger "
        "ones get 431.",
    )
    max_headers: int = Field(
        default=100, ge=8, le=1000, description="Most header lines in a request; more get 431."
    )


class LocalTarget(SpecModel):
    """Run the release as supervised processes on this host, behind a weighted router."""

    kind: Literal["local"] = Field(description="Selects this target.")
    command: Annotated[str, AfterValidator(_check_command)] = Field(
        description="Command line that starts one instance; `{port}` is replaced by the "
        "port the instance must listen on.",
        examples=["uvicorn app:app --host 127.0.0.1 --port {port}"],
    )
    instances: int = Field(default=1, ge=1, description="Number of processes per release.")
    health_path: Annotated[str, AfterValidator(_check_path)] = Field(
        default="/healthz",
        description="HTTP path that answers 2xx when an instance is ready for traffic.",
    )
    env: dict[EnvName, str] = Field(
        default={},
        description="Environment variables given to every instance.",
        # names outside the pattern are errors, as the validator treats them
        json_schema_extra={"additionalProperties": False},
    )
    router: Literal["builtin", "haproxy"] = Field(
        default="builtin",
        description="Traffic router that splits requests between releases: CODE's own "
        "(`builtin`) or an HAProxy it configures (`haproxy`).",
    )
    port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Stable port the router listens on; unset picks a free one and keeps it.",
    )
    preview_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Stable port of the router's preview listener, which sends all its "
        "requests to the release a blue-green rollout previews (503 when none is); unset "
        "picks a free one and keeps it.",
    )

    ready_timeout: PositiveDuration = Field(
        default=timedelta(seconds=60),
        description="Time each instance has, once started, to answer 2xx on `health_path`; "
        "the release is failed with the last health answer otherwise. Building the "
        "release's virtualenv comes before and is not counted.",
    )
    router_limits: RouterLimits = Field(
        default=RouterLimits(), description="Timeouts and request limits of the router."
    )

    @model_validator(mode="after")
    def _distinct_ports(self) -> LocalTarget:
        if self.preview_port is not None and self.preview_port == self.port:
            raise rule_error("preview_port must differ from port", "preview_port")
        return self

    def argv(self, port: int) -> list[str]:
        """The command line of one instance listening on `port`."""
        return [word.replace(PORT_PLACEHOLDER, str(port)) for word in shlex.split(self.command)]


KUBERNETES_VERSION_PATTERN = r"^1\.[0-9]{2}$"
DEFAULT_PROMETHEUS = "http://prometheus-operated.monitoring.svc:9090"


KubernetesVersion = Annotated[
    str,
    matching(
        KUBERNETES_VERSION_PATTERN,
        "kubernetes_version",
        "{value} is not a Kubernetes minor version such as '1.30'",
    ),
    pattern_schema(KUBERNETES_VERSION_PATTERN),
]


class GitOps(SpecModel):
    """The Git repository Argo CD syncs: CODE commits the rendered manifests there."""

    repo: NonBlank = Field(
        description="URL or local path of the GitOps repository CODE clones and pushes to.",
        examples=["git@github.com:acme/gitops.git"],
    )
    branch: NonBlank = Field(
        default="main",
        description="Branch Argo CD follows; when it refuses direct pushes CODE pushes a "
        "`code/deploy-<id>` branch instead and says so.",
    )
    path: NonBlank = Field(
        description="Directory of this environment in the GitOps repository; CODE writes "
        "`<path>/manifests.yaml` there and the Argo CD Application points at it.",
        examples=["apps/shop/prod"],
    )


class KubernetesTarget(SpecModel):
    """Deliver the service to a Kubernetes namespace the GitOps way.

    CODE renders the kustomize overlay with the release's image, turns its Deployment into
    an Argo Rollouts `Rollout`, validates every object and commits the result to the GitOps
    repository that Argo CD syncs; it never applies to the cluster itself.
    """

    kind: Literal["kubernetes"] = Field(description="Selects this target.")
    namespace: DnsLabel = Field(description="Namespace the service is deployed to.")
    context: NonBlank | None = Field(
        default=None, description="kubeconfig context to use; unset uses the current context."
    )
    manifests: NonBlank = Field(
        default="deploy/k8s",
        description="Directory holding the kustomize `base/` and `overlays/`, relative to "
        "the repository root.",
    )
    overlay: NonBlank | None = Field(
        default=None,
        description="Overlay directory under `<manifests>/overlays/`; unset uses the "
        "environment's name.",
    )
    gitops: GitOps | None = Field(
        default=None,
        description="GitOps repository, branch and directory the environment is delivered "
        "through; unset allows `codectl render` but refuses deployments.",
    )
    application: DnsLabel | None = Field(
        default=None,
        description="Name of the Argo CD Application that syncs this environment; unset is "
        "`<service>-<environment>`.",
    )
    image: NonBlank | None = Field(
        default=None,
        description="Image repository of the service as the manifests name it, e.g. "
        "`ghcr.io/acme/shop`; the release's version becomes its tag (and its digest is "
        "pinned when known). Unset is the service's name.",
        examples=["ghcr.io/acme/shop"],
    )
    kubernetes_version: KubernetesVersion = Field(
        default="1.30",
        description="Kubernetes minor version whose schemas every rendered object is "
        "validated against (1.25 to 1.37).",
    )
    prometheus: NonBlank = Field(
        default=DEFAULT_PROMETHEUS,
        description="Prometheus address the generated Argo Rollouts AnalysisTemplates query "
        "from inside the cluster.",
    )

    def application_name(self, service: str, environment: str) -> str:
        """The Argo CD Application of this environment."""
        return self.application or f"{service}-{environment}"

    def image_name(self, service: str) -> str:
        """The image repository whose tag a release sets."""
        return self.image or service

    def overlay_dir(self, environment: str) -> str:
        """The overlay directory relative to the repository root."""
        return f"{self.manifests.rstrip('/')}/overlays/{self.overlay or environment}"


Target = Annotated[LocalTarget | KubernetesTarget, Field(discriminator="kind")]
"""One of the target kinds, chosen by `kind`."""
