"""Rendering with the real kubectl kustomize: the release's image, Argo Rollouts, sources."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from code_engine.deploy.kubernetes import (
    KustomizeMissing,
    OverlayNotFound,
    RenderError,
    render_environment,
    validate_rendered,
)
from code_engine.deploy.kubernetes.kustomize import find_kubectl
from code_engine.errors import UserError
from code_engine.spec import ServiceSpec
from code_engine.spec.loader import load_spec

DIGEST = "sha256:" + "ab" * 32


def by_kind(objects: Any, kind: str) -> list[dict[str, Any]]:
    return [obj for obj in objects if obj["kind"] == kind]


def test_the_release_image_is_set_in_the_overlay_and_the_repository_is_untouched(
    service: Path, spec: ServiceSpec
) -> None:
    before = (service / "deploy/k8s/overlays/staging/kustomization.yaml").read_text()
    rendered = render_environment(service, spec, "staging", "1.4.2", DIGEST)
    (rollout,) = by_kind(rendered.objects, "Rollout")
    container = rollout["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == f"ghcr.io/acme/shop:1.4.2@{DIGEST}"
    assert rendered.image == container["image"]
    assert f"image: ghcr.io/acme/shop:1.4.2@{DIGEST}" in rendered.text
    assert (service / "deploy/k8s/overlays/staging/kustomization.yaml").read_text() == before
    # without a digest, the tag alone
    plain = render_environment(service, spec, "staging", "1.4.3")
    assert "image: ghcr.io/acme/shop:1.4.3\n" in plain.text


def test_each_object_names_the_file_it_came_from(service: Path, spec: ServiceSpec) -> None:
    rendered = render_environment(service, spec, "staging", "1.0.0")
    sources = {
        (obj["kind"], obj["metadata"]["name"]): rendered.sources[i]
        for i, obj in enumerate(rendered.objects)
    }
    assert sources[("Namespace", "shop-staging")] == "deploy/k8s/overlays/staging/namespace.yaml"
    assert sources[("Rollout", "shop")] == "deploy/k8s/base/deployment.yaml"
    assert sources[("Service", "shop")] == "deploy/k8s/base/service.yaml"
    config = next(key for key in sources if key[0] == "ConfigMap")
    assert sources[config] == "deploy/k8s/base/kustomization.yaml"
    assert all(
        "config.kubernetes.io/origin" not in obj["metadata"].get("annotations", {})
        for obj in rendered.objects
    )
    assert "config.kubernetes.io/origin" not in rendered.text


def test_canary_steps_map_one_to_one_with_prometheus_analysis(
    service: Path, spec: ServiceSpec
) -> None:
    rendered = render_environment(service, spec, "staging", "2.0.0")
    assert not by_kind(rendered.objects, "Deployment")
    (rollout,) = by_kind(rendered.objects, "Rollout")
    assert rollout["apiVersion"] == "argoproj.io/v1alpha1"
    assert rollout["metadata"]["namespace"] == "shop-staging"
    assert rollout["spec"]["replicas"] == 2 and rollout["spec"]["revisionHistoryLimit"] == 5
    steps = rollout["spec"]["strategy"]["canary"]["steps"]
    assert steps == [
        {"setWeight": 20},
        {
            "analysis": {
                "templates": [{"templateName": "shop-analysis-1"}],
                "args": [
                    {"name": "service", "value": "shop"},
                    {"name": "version", "value": "2.0.0"},
                ],
            }
        },
        {"pause": {"duration": "300s"}},
        {"setWeight": 60},
        {"pause": {}},
    ]
    (template,) = by_kind(rendered.objects, "AnalysisTemplate")
    assert template["metadata"] == {
        "name": "shop-analysis-1",
        "labels": {"app.kubernetes.io/name": "shop"},
        "namespace": "shop-staging",
    }
    metrics = {m["name"]: m for m in template["spec"]["metrics"]}
    assert set(metrics) == {"requests", "error-rate-percent", "p95-latency-ms"}
    for metric in metrics.values():
        assert (metric["interval"], metric["count"]) == ("60s", 5)
        assert (metric["failureLimit"], metric["inconclusiveLimit"]) == (1, 1)
        assert metric["provider"]["prometheus"]["address"].startswith("http://prometheus")
    error_rate = metrics["error-rate-percent"]
    assert error_rate["successCondition"].endswith("result[0] <= 0.5")
    assert error_rate["failureCondition"].endswith("result[0] > 0.5")
    query = error_rate["provider"]["prometheus"]["query"]
    assert 'service="{{args.service}}",version="{{args.version}}"' in query
    assert "[60s]" in query and 'code=~"5.."' in query
    assert metrics["p95-latency-ms"]["successCondition"].endswith("result[0] <= 250")
    assert "histogram_quantile(0.95" in metrics["p95-latency-ms"]["provider"]["prometheus"]["query"]
    assert metrics["requests"]["successCondition"].endswith("result[0] >= 100")
    assert metrics["requests"]["failureCondition"] == "false"
    (hpa,) = by_kind(rendered.objects, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "name": "shop",
    }
    validate_rendered(rendered, "1.30")


def test_blue_green_maps_to_blue_green_with_pre_promotion_analysis(
    service: Path, spec: ServiceSpec
) -> None:
    rendered = render_environment(service, spec, "prod", "2.0.0")
    (rollout,) = by_kind(rendered.objects, "Rollout")
    assert rollout["spec"]["replicas"] == 3
    blue_green = rollout["spec"]["strategy"]["blueGreen"]
    assert blue_green == {
        "activeService": "shop",
        "previewService": "shop-preview",
        "autoPromotionEnabled": True,
        "scaleDownDelaySeconds": 30,
        "autoPromotionSeconds": 120,
        "prePromotionAnalysis": {
            "templates": [{"templateName": "shop-pre-promotion"}],
            "args": [{"name": "service", "value": "shop"}, {"name": "version", "value": "2.0.0"}],
        },
    }
    services = {s["metadata"]["name"]: s for s in by_kind(rendered.objects, "Service")}
    assert services["shop-preview"]["spec"]["selector"] == services["shop"]["spec"]["selector"]
    (template,) = by_kind(rendered.objects, "AnalysisTemplate")
    assert {m["count"] for m in template["spec"]["metrics"]} == {3}
    validate_rendered(rendered, "1.30")


def test_all_at_once_is_a_rollout_without_steps(service: Path) -> None:
    text = (
        (service / "code.yaml")
        .read_text()
        .replace(
            "      kind: blue_green\n      preview_duration: 2m\n"
            "      analysis: {interval: 30s, count: 3, min_requests: 50}\n",
            "      kind: all_at_once\n",
        )
    )
    (service / "code.yaml").write_text(text)
    rendered = render_environment(service, load_spec(service / "code.yaml"), "prod", "1.0.0")
    (rollout,) = by_kind(rendered.objects, "Rollout")
    assert rollout["spec"]["strategy"] == {"canary": {"steps": []}}
    assert not by_kind(rendered.objects, "AnalysisTemplate")


def test_a_missing_overlay_is_named(service: Path, spec: ServiceSpec) -> None:
    (service / "deploy/k8s/overlays/staging/kustomization.yaml").unlink()
    with pytest.raises(OverlayNotFound, match="overlay deploy/k8s/overlays/staging has no kust"):
        render_environment(service, spec, "staging", "1.0.0")
    with pytest.raises(OverlayNotFound, match="overlay deploy/k8s/overlays/qa does not exist"):
        render_environment(service, with_overlay(spec, "qa"), "staging", "1.0.0")


def with_overlay(spec: ServiceSpec, overlay: str) -> ServiceSpec:
    environments = list(spec.environments)
    staging = environments[1]
    target = staging.target.model_copy(update={"overlay": overlay})
    environments[1] = staging.model_copy(update={"target": target})
    return spec.model_copy(update={"environments": environments})


def test_a_missing_kubectl_is_named(service: Path, spec: ServiceSpec, tmp_path: Path) -> None:
    with pytest.raises(KustomizeMissing, match="CODE_KUBECTL=.*no-kubectl: no executable kubectl"):
        render_environment(
            service, spec, "staging", "1.0.0", kubectl=find_kubectl(tmp_path / "no-kubectl")
        )
    with pytest.raises(KustomizeMissing, match="kubectl is not installed, so kustomize cannot"):
        find_kubectl(path=str(tmp_path), beside=tmp_path)


def test_kustomize_errors_name_the_overlay(service: Path, spec: ServiceSpec) -> None:
    (service / "deploy/k8s/base/service.yaml").unlink()
    with pytest.raises(
        RenderError, match="deploy/k8s/overlays/staging: kustomize failed: .*service.yaml"
    ):
        render_environment(service, spec, "staging", "1.0.0")


def test_a_version_that_cannot_be_a_tag_is_bad_input(service: Path, spec: ServiceSpec) -> None:
    with pytest.raises(UserError, match="cannot be an image tag"):
        render_environment(service, spec, "staging", "1.0 beta")
    with pytest.raises(UserError, match="is not sha256"):
        render_environment(service, spec, "staging", "1.0.0", "md5:00")


def test_a_local_environment_cannot_be_rendered(service: Path, spec: ServiceSpec) -> None:
    with pytest.raises(UserError, match="environment 'dev' targets local"):
        render_environment(service, spec, "dev", "1.0.0")


def test_an_explicit_kubectl_that_is_not_executable_is_missing(tmp_path: Path) -> None:
    fake = tmp_path / "kubectl"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o644)
    if os.access(fake, os.X_OK):
        pytest.fail("a file without x bits is executable")
    with pytest.raises(KustomizeMissing, match="no executable kubectl there"):
        find_kubectl(str(fake))


def test_an_overlay_outside_the_manifests_is_refused(service: Path, spec: ServiceSpec) -> None:
    (service / "elsewhere").mkdir()
    (service / "elsewhere/kustomization.yaml").write_text("resources: []\n")
    with pytest.raises(OverlayNotFound, match=r"overlay .*elsewhere is outside deploy/k8s"):
        render_environment(service, with_overlay(spec, "../../../elsewhere"), "staging", "1.0.0")
