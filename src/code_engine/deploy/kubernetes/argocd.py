"""The Argo CD reader: what the cluster did with a GitOps commit, and the abort of a Rollout.

CODE never talks to a cluster itself. It reads the Argo CD Application (sync status,
health, operation state, revision) and the live Argo Rollouts `Rollout` (phase, current
step, analysis runs) through the Argo CD REST API (v2.x), authenticated with a bearer
token, and aborts an in-flight Rollout through Argo CD's resource-actions API.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from code_engine.errors import NotFoundError, UserError
from code_engine.settings import Settings

ROLLOUT_GROUP = "argoproj.io"
ROLLOUT_VERSION = "v1alpha1"
FAILED_ANALYSIS = frozenset({"Failed", "Error"})


class ArgoCDError(UserError):
    """Argo CD did not answer as expected (unreachable, a server error): check its URL."""


class ArgoTokenRejected(UserError):  # noqa: N818 - reads as what happened
    """Argo CD refused the token (401): it is wrong, expired or revoked."""


class ApplicationNotFound(NotFoundError):  # noqa: N818 - reads as what happened
    """No such Argo CD Application (or the token may not see it: Argo CD answers 403)."""


@dataclass(frozen=True)
class RolloutRef:
    """A Rollout of an Application: its name and namespace in the cluster."""

    name: str
    namespace: str


@dataclass(frozen=True)
class ApplicationStatus:
    """What Argo CD says of an Application: synced to which revision, and how healthy."""

    name: str
    sync: str  # Synced, OutOfSync, Unknown
    health: str  # Healthy, Progressing, Degraded, Suspended, Missing, Unknown
    revision: str | None  # the revision the live state is compared to (status.sync.revision)
    operation: str | None  # the last sync operation's phase: Running, Succeeded, Failed, Error
    operation_revision: str | None = None
    message: str = ""


@dataclass(frozen=True)
class AnalysisRunStatus:
    name: str
    status: str  # Pending, Running, Successful, Failed, Error, Inconclusive
    message: str = ""

    @property
    def failed(self) -> bool:
        return self.status in FAILED_ANALYSIS


@dataclass(frozen=True)
class RolloutStatus:
    """The live Rollout: its phase, the step it is at and its analysis runs."""

    name: str
    phase: str  # Progressing, Paused, Healthy, Degraded
    step: int | None  # status.currentStepIndex (canary)
    steps: int | None  # how many steps its canary has
    aborted: bool
    message: str
    analysis_runs: tuple[AnalysisRunStatus, ...] = ()
    images: tuple[str, ...] = ()

    @property
    def failed_analysis(self) -> AnalysisRunStatus | None:
        return next((run for run in self.analysis_runs if run.failed), None)


class ArgoCD(Protocol):
    """The Argo CD API as CODE uses it."""

    def application(self, name: str) -> ApplicationStatus:
        """The Application `name`; ApplicationNotFound, ArgoTokenRejected or ArgoCDError."""

    def rollout(self, application: str, ref: RolloutRef) -> RolloutStatus | None:
        """The live Rollout `ref` of the Application; None while the cluster has none."""

    def abort(self, application: str, ref: RolloutRef) -> None:
        """Abort the Rollout (its traffic goes back to the stable version)."""


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def application_status(body: Mapping[str, Any]) -> ApplicationStatus:
    """An Application as `GET /api/v1/applications/{name}` returns it."""
    status = _mapping(body.get("status"))
    sync = _mapping(status.get("sync"))
    health = _mapping(status.get("health"))
    operation = _mapping(status.get("operationState"))
    result = _mapping(operation.get("syncResult"))
    return ApplicationStatus(
        name=_text(_mapping(body.get("metadata")).get("name")),
        sync=_text(sync.get("status")) or "Unknown",
        health=_text(health.get("status")) or "Unknown",
        revision=_text(sync.get("revision")) or None,
        operation=_text(operation.get("phase")) or None,
        operation_revision=_text(result.get("revision")) or None,
        message=_text(operation.get("message")) or _text(health.get("message")),
    )


def _analysis_runs(status: Mapping[str, Any]) -> tuple[AnalysisRunStatus, ...]:
    canary = _mapping(status.get("canary"))
    blue_green = _mapping(status.get("blueGreen"))
    found = [
        canary.get("currentStepAnalysisRunStatus"),
        canary.get("currentBackgroundAnalysisRunStatus"),
        blue_green.get("prePromotionAnalysisRunStatus"),
        blue_green.get("postPromotionAnalysisRunStatus"),
    ]
    return tuple(
        AnalysisRunStatus(
            _text(run.get("name")), _text(run.get("status")), _text(run.get("message"))
        )
        for run in map(_mapping, found)
        if run
    )


def rollout_status(live: Mapping[str, Any]) -> RolloutStatus:
    """A live Rollout object (the `manifest` of Argo CD's resource endpoint)."""
    spec = _mapping(live.get("spec"))
    status = _mapping(live.get("status"))
    steps = _mapping(_mapping(spec.get("strategy")).get("canary")).get("steps")
    step = status.get("currentStepIndex")
    generation = _mapping(live.get("metadata")).get("generation")
    observed = status.get("observedGeneration")
    # until the Rollouts controller has seen the new spec, its status describes the old one
    stale = generation is not None and observed is not None and str(observed) != str(generation)
    containers = _mapping(_mapping(spec.get("template")).get("spec")).get("containers")
    images = tuple(
        _text(_mapping(c).get("image")) for c in containers or () if isinstance(containers, list)
    )
    return RolloutStatus(
        name=_text(_mapping(live.get("metadata")).get("name")),
        phase="Progressing" if stale else _text(status.get("phase")) or "Progressing",
        step=step if isinstance(step, int) else None,
        steps=len(steps) if isinstance(steps, list) else None,
        aborted=status.get("abort") is True,
        message=_text(status.get("message")),
        analysis_runs=_analysis_runs(status),
        images=images,
    )


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200]
    return _text(_mapping(body).get("message")) or _text(_mapping(body).get("error"))


class HttpArgoCD:
    """The Argo CD REST API at `url` with a bearer `token`."""

    def __init__(self, url: str, token: str, *, timeout: float = 10.0, verify: bool = True) -> None:
        self.url = url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self._timeout = timeout
        self._verify = verify

    def _request(
        self,
        method: str,
        path: str,
        what: str,
        *,
        params: Mapping[str, str] | None = None,
        body: object = None,
    ) -> httpx.Response:
        try:
            with httpx.Client(
                base_url=self.url, headers=self._headers, timeout=self._timeout, verify=self._verify
            ) as client:
                response = client.request(method, path, params=params, json=body)
        except httpx.HTTPError as exc:
            raise ArgoCDError(f"Argo CD at {self.url} cannot be reached: {exc}") from exc
        if response.status_code == 401:
            raise ArgoTokenRejected(
                f"Argo CD at {self.url} rejected the token (401: {_error_message(response)}); "
                "set CODE_ARGOCD_TOKEN to a valid account token"
            )
        if response.status_code in (403, 404):
            raise ApplicationNotFound(
                f"Argo CD at {self.url} has no {what} the token may read "
                f"({response.status_code}: {_error_message(response)})"
            )
        if response.status_code >= 400:
            raise ArgoCDError(
                f"Argo CD at {self.url} answered {response.status_code} for {what}: "
                f"{_error_message(response)}"
            )
        return response

    def application(self, name: str) -> ApplicationStatus:
        path = f"/api/v1/applications/{quote(name, safe='')}"
        response = self._request("GET", path, f"Application {name!r}")
        return application_status(_mapping(response.json()))

    def _resource_params(self, ref: RolloutRef) -> dict[str, str]:
        return {
            "namespace": ref.namespace,
            "resourceName": ref.name,
            "group": ROLLOUT_GROUP,
            "version": ROLLOUT_VERSION,
            "kind": "Rollout",
        }

    def rollout(self, application: str, ref: RolloutRef) -> RolloutStatus | None:
        path = f"/api/v1/applications/{quote(application, safe='')}/resource"
        what = f"Rollout {ref.namespace}/{ref.name} in Application {application!r}"
        try:
            response = self._request("GET", path, what, params=self._resource_params(ref))
        except ApplicationNotFound:
            self.application(application)  # the Application missing is the error to give
            return None  # the Rollout is not in the cluster yet
        manifest = _mapping(response.json()).get("manifest")
        if not isinstance(manifest, str) or not manifest:
            return None
        return rollout_status(_mapping(json.loads(manifest)))

    def abort(self, application: str, ref: RolloutRef) -> None:
        path = f"/api/v1/applications/{quote(application, safe='')}/resource/actions"
        what = f"Rollout {ref.namespace}/{ref.name} in Application {application!r}"
        self._request("POST", path, what, params=self._resource_params(ref), body="abort")


def argocd_of(settings: Settings) -> ArgoCD | None:
    """The Argo CD API the settings name (`CODE_ARGOCD_*`); None when none is set."""
    if not settings.argocd_url:
        return None
    token = settings.argocd_token.get_secret_value()
    return HttpArgoCD(settings.argocd_url, token, verify=not settings.argocd_insecure)
