"""Argo Rollouts objects from `code.yaml`, on plain objects (no kustomize)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from code_engine.deploy.kubernetes.errors import RenderError
from code_engine.deploy.kubernetes.rollouts import Context, progressive
from code_engine.spec import (
    AllAtOnceStrategy,
    Analysis,
    BlueGreenStrategy,
    CanaryStrategy,
    Pause,
    PauseStep,
    SetWeightStep,
    Slos,
    Strategy,
)


def deployment(name: str, image: str) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "ns"},
        "spec": {
            "replicas": 2,
            "strategy": {"type": "RollingUpdate"},
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": image}]},
            },
        },
    }


def context(strategy: Strategy) -> Context:
    return Context("shop", "prod", "1.0.0", "ghcr.io/acme/shop", strategy, Slos(), "http://prom")


def test_only_deployments_of_the_service_image_become_rollouts() -> None:
    placed = [
        (deployment("shop", "ghcr.io/acme/shop:1.0.0"), "deployment.yaml"),
        (deployment("redis", "redis:7"), "redis.yaml"),
    ]
    result = progressive(placed, context(AllAtOnceStrategy(kind="all_at_once")))
    kinds = [(obj["kind"], obj["metadata"]["name"], source) for obj, source in result]
    assert kinds == [("Rollout", "shop", "deployment.yaml"), ("Deployment", "redis", "redis.yaml")]
    rollout = result[0][0]
    assert rollout["spec"]["strategy"] == {"canary": {"steps": []}}
    assert rollout["spec"]["replicas"] == 2 and rollout["metadata"]["namespace"] == "ns"


def test_canary_steps_and_templates() -> None:
    strategy = CanaryStrategy(
        kind="canary",
        steps=[
            SetWeightStep(set_weight=5),
            PauseStep(pause=Pause(duration=timedelta(seconds=90))),
            SetWeightStep(set_weight=30),
        ],
    )
    ((rollout, _),) = progressive(
        [(deployment("shop", "ghcr.io/acme/shop"), "d.yaml")], context(strategy)
    )
    assert rollout["spec"]["strategy"]["canary"]["steps"] == [
        {"setWeight": 5},
        {"pause": {"duration": "90s"}},
        {"setWeight": 30},
    ]


def test_blue_green_needs_a_service_selecting_the_pods() -> None:
    strategy = BlueGreenStrategy(kind="blue_green", analysis=Analysis())
    with pytest.raises(RenderError, match="blue_green needs a Service selecting the pods of"):
        progressive([(deployment("shop", "ghcr.io/acme/shop"), "d.yaml")], context(strategy))
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"app": "shop"},
            "clusterIP": "10.0.0.1",
            "ports": [{"port": 80, "nodePort": 30080}],
        },
    }
    result = progressive(
        [(deployment("shop", "ghcr.io/acme/shop"), "d.yaml"), (service, "s.yaml")],
        context(strategy),
    )
    names = [(obj["kind"], obj["metadata"]["name"]) for obj, _ in result]
    assert names == [
        ("Rollout", "shop"),
        ("Service", "web-preview"),
        ("AnalysisTemplate", "shop-pre-promotion"),
        ("Service", "web"),
    ]
    preview = result[1][0]
    assert "clusterIP" not in preview["spec"] and "nodePort" not in preview["spec"]["ports"][0]
    assert service["spec"]["clusterIP"] == "10.0.0.1"  # the active Service is untouched
    blue_green = result[0][0]["spec"]["strategy"]["blueGreen"]
    assert blue_green["activeService"] == "web" and blue_green["previewService"] == "web-preview"
    assert "autoPromotionSeconds" not in blue_green
