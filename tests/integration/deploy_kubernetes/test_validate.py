"""Validation with the real schemas: Kubernetes (kubernetes-validate) and the vendored CRDs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from code_engine.deploy.kubernetes import ManifestInvalid, render_environment, validate_rendered
from code_engine.deploy.kubernetes.crds import VENDORED, crd_schema, versions
from code_engine.deploy.kubernetes.validate import supported_versions, validate_objects
from code_engine.errors import UserError
from code_engine.spec import ServiceSpec

ROOT = Path(__file__).resolve().parents[3]
REMOTE_REF = {"key": "db", "property": "url"}


def problems(excinfo: pytest.ExceptionInfo[ManifestInvalid]) -> list[str]:
    return list(excinfo.value.problems)


def test_an_invalid_field_is_refused_with_file_object_and_path(
    service: Path, spec: ServiceSpec
) -> None:
    deployment = service / "deploy/k8s/base/deployment.yaml"
    text = deployment.read_text().replace("containerPort: 8000", "containerPort: http")
    deployment.write_text(text.replace("replicas: 2", "replicas: 2\n  replica: 3"))
    rendered = render_environment(service, spec, "staging", "1.0.0")
    with pytest.raises(ManifestInvalid) as excinfo:
        validate_rendered(rendered, "1.30")
    assert problems(excinfo) == [
        "deploy/k8s/base/deployment.yaml: Rollout/shop: spec.replica: unknown field 'replica'",
        "deploy/k8s/base/deployment.yaml: Rollout/shop: "
        "spec.template.spec.containers[0].ports[0].containerPort: 'http' is not of type 'integer'",
    ]
    assert str(excinfo.value).startswith("2 invalid manifest problems:\n")
    assert excinfo.value.exit_code == 2


def test_core_objects_are_checked_strictly_against_the_declared_version(
    service: Path, spec: ServiceSpec
) -> None:
    service_file = service / "deploy/k8s/base/service.yaml"
    service_file.write_text(service_file.read_text().replace("targetPort: http", "tagetPort: http"))
    rendered = render_environment(service, spec, "staging", "1.0.0")
    with pytest.raises(ManifestInvalid) as excinfo:
        validate_rendered(rendered, "1.30")
    assert problems(excinfo) == [
        "deploy/k8s/base/service.yaml: Service/shop: spec.ports[0].tagetPort: unknown field "
        "'tagetPort'"
    ]


def test_an_unknown_kind_is_an_error() -> None:
    obj = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    with pytest.raises(ManifestInvalid) as excinfo:
        validate_objects([obj], ["widgets.yaml"], "1.30")
    assert problems(excinfo) == [
        "widgets.yaml: Widget/w: apiVersion: unknown kind Widget example.com/v1: no Kubernetes "
        "1.30 schema and no vendored CRD schema"
    ]


def test_a_removed_api_version_of_the_declared_kubernetes_is_refused() -> None:
    # policy/v1beta1 PodDisruptionBudget was removed in Kubernetes 1.25
    obj = {"apiVersion": "policy/v1beta1", "kind": "PodDisruptionBudget", "metadata": {"name": "p"}}
    with pytest.raises(ManifestInvalid, match="unknown kind PodDisruptionBudget policy/v1beta1"):
        validate_objects([obj], ["pdb.yaml"], "1.30")


def test_crd_objects_are_checked_against_their_vendored_schema() -> None:
    rollout = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": "shop"},
        "spec": {
            "selector": {"matchLabels": {"app": "shop"}},
            "template": {"metadata": {"labels": {"app": "shop"}}, "spec": {"containers": []}},
            "strategy": {"canary": {"steps": [{"setWeight": "ten"}, {"pauze": {}}]}},
        },
    }
    with pytest.raises(ManifestInvalid) as excinfo:
        validate_objects([rollout], ["rollout.yaml"], "1.30")
    assert problems(excinfo) == [
        "rollout.yaml: Rollout/shop: spec.strategy.canary.steps[0].setWeight: 'ten' is not of "
        "type 'integer'",
        "rollout.yaml: Rollout/shop: spec.strategy.canary.steps[1].pauze: unknown field 'pauze'",
    ]


def test_an_api_version_a_vendored_crd_does_not_serve_is_refused() -> None:
    obj = {"apiVersion": "argoproj.io/v1beta9", "kind": "Application", "metadata": {"name": "a"}}
    with pytest.raises(ManifestInvalid, match="served .*argoproj.io/v1alpha1"):
        validate_objects([obj], ["app.yaml"], "1.30")


def test_external_secrets_validate_against_the_vendored_copy() -> None:
    secret = {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": {"name": "db"},
        "spec": {
            "secretStoreRef": {"name": "vault", "kind": "SecretStore"},
            "refreshInterval": "1h",
            "target": {"name": "db"},
            "data": [{"secretKey": "url", "remoteRef": REMOTE_REF}],  # pragma: allowlist secret
        },
    }
    validate_objects([secret], ["secret.yaml"], "1.30")
    secret["spec"]["data"][0]["remoteRef"] = {"kee": "db"}  # type: ignore[index]
    with pytest.raises(ManifestInvalid, match=r"spec.data\[0\].remoteRef"):
        validate_objects([secret], ["secret.yaml"], "1.30")
    assert set(versions("external-secrets.io", "ExternalSecret")) >= {"v1"}
    assert crd_schema("external-secrets.io", "SecretStore", "v1") is not None
    assert len(VENDORED) == 6


def test_an_unsupported_kubernetes_version_is_bad_input() -> None:
    obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}}
    assert supported_versions()[0] == "1.25"
    with pytest.raises(UserError, match="no Kubernetes schemas for version 1.99"):
        validate_objects([obj], ["ns.yaml"], "1.99")
    validate_objects([obj], ["ns.yaml"], "1.37")


def test_code_s_own_argocd_objects_are_valid() -> None:
    for path in sorted((ROOT / "deploy/argocd").glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        documents = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
        validate_objects(documents, [path.name] * len(documents), "1.30")
