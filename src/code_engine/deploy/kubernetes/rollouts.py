"""Argo Rollouts objects from `code.yaml`: one rollout definition drives both targets.

Each Deployment running the service's image becomes a `Rollout` with the same pod template:
- canary steps map one to one: `set_weight` -> `setWeight`, `pause` -> `pause` (with its
  duration, or open), `analysis` -> an analysis step running an `AnalysisTemplate`;
- `blue_green` -> `blueGreen` with the Deployment's Service as the active one, a generated
  `<service>-preview` Service, and the analysis as `prePromotionAnalysis`;
- `all_at_once` -> a canary without steps (every pod replaced once the new ones are ready).
AnalysisTemplates use the Prometheus provider with the same queries (`observe.promql`) and
SLO thresholds as the local analysis: enough requests, error rate and p95 latency.
A HorizontalPodAutoscaler that scaled the Deployment scales the Rollout instead.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from code_engine.deploy.kubernetes.errors import RenderError
from code_engine.deploy.kubernetes.images import repository_of
from code_engine.observe import promql
from code_engine.spec import (
    AllAtOnceStrategy,
    Analysis,
    AnalysisStep,
    BlueGreenStrategy,
    CanaryStrategy,
    PauseStep,
    SetWeightStep,
    Slos,
    Strategy,
)

ROLLOUTS_API = "argoproj.io/v1alpha1"
ANALYSIS_ARGS = ("service", "version")
# a Deployment's spec is a Rollout's but for its strategy; unknown fields are carried over so
# that validation reports them instead of losing them
DEPLOYMENT_ONLY = ("strategy",)
Placed = tuple[dict[str, Any], str]  # an object and the file it came from


@dataclass(frozen=True)
class Context:
    """What the generated objects depend on besides the rendered manifests."""

    service: str
    environment: str
    version: str
    image: str
    strategy: Strategy
    slos: Slos
    prometheus: str


def progressive(placed: list[Placed], context: Context) -> list[Placed]:
    """The objects with the service's Deployments replaced by Rollouts (and their analysis)."""
    result: list[Placed] = []
    rolled: dict[str, str] = {}
    for obj, source in placed:
        if obj.get("kind") == "Deployment" and _runs_image(obj, context.image):
            name = str(obj["metadata"]["name"])
            rollout, extra = _rollout(obj, placed, context)
            rolled[name] = str(obj.get("metadata", {}).get("namespace", ""))
            result.append((rollout, source))
            result.extend((item, source) for item in extra)
        else:
            result.append((obj, source))
    return [(_retarget(obj, rolled), source) for obj, source in result]


def _runs_image(deployment: Mapping[str, Any], image: str) -> bool:
    pod = deployment.get("spec", {}).get("template", {}).get("spec", {})
    containers = [*(pod.get("containers") or []), *(pod.get("initContainers") or [])]
    return any(
        isinstance(c, Mapping) and repository_of(str(c.get("image", ""))) == image
        for c in containers
    )


def _rollout(
    deployment: Mapping[str, Any], placed: list[Placed], context: Context
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    metadata = copy.deepcopy(dict(deployment["metadata"]))
    spec = deployment.get("spec", {})
    rollout_spec = {k: copy.deepcopy(v) for k, v in spec.items() if k not in DEPLOYMENT_ONLY}
    strategy = context.strategy
    name = str(metadata["name"])
    namespace = metadata.get("namespace")
    extra: list[dict[str, Any]] = []
    if isinstance(strategy, CanaryStrategy):
        steps: list[dict[str, Any]] = []
        for index, step in enumerate(strategy.steps):
            if isinstance(step, SetWeightStep):
                steps.append({"setWeight": step.set_weight})
            elif isinstance(step, PauseStep):
                duration = step.pause.duration
                steps.append(
                    {"pause": {} if duration is None else {"duration": _seconds(duration)}}
                )
            elif isinstance(step, AnalysisStep):
                template = f"{name}-analysis-{index}"
                extra.append(_template(template, namespace, step.analysis, context))
                steps.append({"analysis": _analysis_ref(template, context)})
        rollout_spec["strategy"] = {"canary": {"steps": steps}}
    elif isinstance(strategy, BlueGreenStrategy):
        active = _service_for(spec, placed, name)
        preview = _preview_service(active)
        extra.append(preview)
        blue_green: dict[str, Any] = {
            "activeService": active["metadata"]["name"],
            "previewService": preview["metadata"]["name"],
            "autoPromotionEnabled": strategy.auto_promote,
            "scaleDownDelaySeconds": round(strategy.scale_down_delay.total_seconds()),
        }
        if strategy.preview_duration is not None and strategy.auto_promote:
            blue_green["autoPromotionSeconds"] = round(strategy.preview_duration.total_seconds())
        if strategy.analysis is not None:
            template = f"{name}-pre-promotion"
            extra.append(_template(template, namespace, strategy.analysis, context))
            blue_green["prePromotionAnalysis"] = _analysis_ref(template, context)
        rollout_spec["strategy"] = {"blueGreen": blue_green}
    else:
        assert isinstance(strategy, AllAtOnceStrategy)  # noqa: S101 - exhaustive union
        rollout_spec["strategy"] = {"canary": {"steps": []}}
    rollout = {"apiVersion": ROLLOUTS_API, "kind": "Rollout", "metadata": metadata}
    rollout["spec"] = rollout_spec
    return rollout, extra


def _analysis_ref(template: str, context: Context) -> dict[str, Any]:
    return {
        "templates": [{"templateName": template}],
        "args": [
            {"name": "service", "value": context.service},
            {"name": "version", "value": context.version},
        ],
    }


def _template(name: str, namespace: Any, analysis: Analysis, context: Context) -> dict[str, Any]:
    """An AnalysisTemplate judging a version like the local analysis: SLOs from `slos`."""
    window = analysis.interval
    selector = promql.SERVICE_VERSION

    def query(template: str) -> str:
        return (
            template.replace("{window}", promql.promql_duration(window))
            .replace("{service}", "{{args.service}}")
            .replace("{version}", "{{args.version}}")
        )

    slos = context.slos
    limits = {
        "interval": _seconds(window),
        "count": analysis.count,
        "failureLimit": analysis.failure_limit,
        "inconclusiveLimit": analysis.inconclusive_limit,
    }
    present = "len(result) > 0 && !isNaN(result[0])"
    metrics = [
        {
            "name": "requests",
            **limits,
            # too little traffic is inconclusive, never a failure
            "successCondition": f"{present} && result[0] >= {analysis.min_requests}",
            "failureCondition": "false",
            "provider": _prometheus(context, query(promql.requests_total(selector))),
        },
        {
            "name": "error-rate-percent",
            **limits,
            "successCondition": f"{present} && result[0] <= {slos.error_rate_percent:g}",
            "failureCondition": f"{present} && result[0] > {slos.error_rate_percent:g}",
            "provider": _prometheus(context, query(promql.error_rate_percent(selector))),
        },
        {
            "name": "p95-latency-ms",
            **limits,
            "successCondition": f"{present} && result[0] <= {slos.p95_latency_ms:g}",
            "failureCondition": f"{present} && result[0] > {slos.p95_latency_ms:g}",
            "provider": _prometheus(context, query(f"1000 * {promql.p95_seconds(selector)}")),
        },
    ]
    metadata: dict[str, Any] = {"name": name, "labels": {"app.kubernetes.io/name": context.service}}
    if namespace:
        metadata["namespace"] = namespace
    return {
        "apiVersion": ROLLOUTS_API,
        "kind": "AnalysisTemplate",
        "metadata": metadata,
        "spec": {"args": [{"name": arg} for arg in ANALYSIS_ARGS], "metrics": metrics},
    }


def _prometheus(context: Context, query: str) -> dict[str, Any]:
    return {"prometheus": {"address": context.prometheus, "query": query}}


def _service_for(spec: Mapping[str, Any], placed: list[Placed], name: str) -> dict[str, Any]:
    """The Service whose selector picks the pods of the Deployment (blue-green's active one)."""
    labels = spec.get("template", {}).get("metadata", {}).get("labels") or {}
    for obj, _ in placed:
        selector = obj.get("spec", {}).get("selector") or {}
        if obj.get("kind") == "Service" and selector and selector.items() <= labels.items():
            return obj
    raise RenderError(
        f"blue_green needs a Service selecting the pods of Deployment {name}; none does"
    )


def _preview_service(active: Mapping[str, Any]) -> dict[str, Any]:
    preview = copy.deepcopy(dict(active))
    preview["metadata"]["name"] = f"{active['metadata']['name']}-preview"
    for field in ("clusterIP", "clusterIPs", "healthCheckNodePort"):
        preview["spec"].pop(field, None)
    for port in preview["spec"].get("ports") or []:
        port.pop("nodePort", None)
    return preview


def _retarget(obj: dict[str, Any], rolled: Mapping[str, str]) -> dict[str, Any]:
    """An autoscaler of a replaced Deployment scales its Rollout."""
    if obj.get("kind") != "HorizontalPodAutoscaler":
        return obj
    ref = obj.get("spec", {}).get("scaleTargetRef") or {}
    if ref.get("kind") == "Deployment" and ref.get("name") in rolled:
        ref["kind"] = "Rollout"
        ref["apiVersion"] = ROLLOUTS_API
    return obj


def _seconds(duration: timedelta) -> str:
    return f"{max(1, round(duration.total_seconds()))}s"
