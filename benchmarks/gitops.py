"""A Kubernetes deployment's GitOps path: render + validate + commit + push, beside kustomize.

Builds a service of about 20 objects (Deployment, Service, HPA, PDB, ServiceAccount, RBAC,
ConfigMaps, NetworkPolicy; its canary adds a Rollout and AnalysisTemplates) and a bare GitOps
remote in a temporary directory, then times, alternately and `--runs` times each:
- the floor: `kubectl kustomize` of the overlay alone (a subprocess, as CODE runs it);
- a deployment: render (copy, set image, kustomize, Rollouts) + validate (Kubernetes 1.30 and
  CRD schemas) + commit + push of a new version to the remote.
The first deployment (schemas loaded, repository cloned) is reported apart as `cold`.
Target: a deployment < 1 s and <= 3x the floor (medians).

    python benchmarks/gitops.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from code_engine.deploy.kubernetes import Rendered, render_environment, validate_rendered
from code_engine.deploy.kubernetes.gitops import GitOpsRepo
from code_engine.deploy.kubernetes.kustomize import find_kubectl
from code_engine.deploy.kubernetes.message import Author, DeployMessage
from code_engine.spec import GitOps
from code_engine.spec.loader import load_spec

TARGET_SECONDS = 1.0
TARGET_RATIO = 3.0
SPEC = """\
service: shop
repo: .
environments:
  - name: prod
    target:
      kind: kubernetes
      namespace: shop
      image: ghcr.io/acme/shop
      gitops: {repo: REMOTE, path: apps/shop/prod}
rollout:
  kind: canary
  steps:
    - set_weight: 10
    - analysis: {interval: 1m, count: 5}
    - set_weight: 50
    - analysis: {interval: 1m, count: 5}
    - pause: {}
"""
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: shop, labels: {app: shop}}
spec:
  replicas: 3
  selector: {matchLabels: {app: shop}}
  template:
    metadata: {labels: {app: shop}}
    spec:
      serviceAccountName: shop
      containers:
        - name: shop
          image: ghcr.io/acme/shop
          ports: [{name: http, containerPort: 8000}]
          envFrom: [{configMapRef: {name: shop-config}}]
          resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {memory: 256Mi}}
          readinessProbe: {httpGet: {path: /readyz, port: http}}
"""
OTHERS = """\
apiVersion: v1
kind: Service
metadata: {name: shop}
spec: {selector: {app: shop}, ports: [{name: http, port: 80, targetPort: http}]}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: shop}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: shop}
  minReplicas: 3
  maxReplicas: 10
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: shop}
spec: {minAvailable: 2, selector: {matchLabels: {app: shop}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: shop}
spec:
  podSelector: {matchLabels: {app: shop}}
  policyTypes: [Ingress]
  ingress: [{ports: [{port: 8000}]}]
"""
RBAC = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: shop-reader-NAME}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: shop-reader-NAME}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: shop-reader-NAME}
subjects: [{kind: ServiceAccount, name: shop}]
"""


def write_service(root: Path, remote: Path) -> None:
    base = root / "deploy/k8s/base"
    overlay = root / "deploy/k8s/overlays/prod"
    base.mkdir(parents=True)
    overlay.mkdir(parents=True)
    (base / "deployment.yaml").write_text(DEPLOYMENT)
    (base / "others.yaml").write_text(OTHERS)
    (base / "rbac.yaml").write_text("---\n".join(RBAC.replace("NAME", str(n)) for n in range(4)))
    (base / "kustomization.yaml").write_text(
        "resources: [deployment.yaml, others.yaml, rbac.yaml]\n"
        "configMapGenerator:\n"
        + "".join(f"  - name: shop-{n}\n    literals: [KEY={n}]\n" for n in range(3))
        + "  - name: shop-config\n    literals: [LOG_LEVEL=info]\n"
    )
    (overlay / "kustomization.yaml").write_text("namespace: shop\nresources: [../../base]\n")
    (root / "code.yaml").write_text(SPEC.replace("REMOTE", str(remote)))
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)


def median_line(name: str, seconds: list[float], **extra: object) -> dict[str, object]:
    line = {
        "figure": name,
        "median_s": round(statistics.median(seconds), 4),
        "min_s": round(min(seconds), 4),
        "runs": len(seconds),
        **extra,
    }
    print(json.dumps(line))
    return line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    kubectl = find_kubectl()
    with tempfile.TemporaryDirectory(prefix="code-bench-gitops-") as scratch:
        root, remote = Path(scratch) / "shop", Path(scratch) / "gitops.git"
        write_service(root, remote)
        spec = load_spec(root / "code.yaml")
        gitops = spec.environment("prod").target.gitops  # type: ignore[union-attr]
        assert gitops is not None
        repo = GitOpsRepo.under(Path(scratch) / "data", "prod", GitOps(**gitops.model_dump()))
        author = Author("Bench", "bench@example.test")
        overlay = root / "deploy/k8s/overlays/prod"

        def deploy(version: str) -> int:
            counted: list[int] = []

            def render() -> Rendered:  # what a deployment hands to publish
                rendered = render_environment(root, spec, "prod", version, kubectl=kubectl)
                validate_rendered(rendered, "1.30")
                counted.append(len(rendered.objects))
                return rendered

            message = DeployMessage.deploy("shop", "prod", version, version, "0" * 40)
            published = repo.publish("prod", render, message, author)
            assert published.pushed, published.message
            return counted[-1]

        start = time.perf_counter()
        objects = deploy("0.0.1")
        cold = time.perf_counter() - start
        print(
            json.dumps({"figure": "deploy_cold_s", "seconds": round(cold, 4), "objects": objects})
        )
        floor: list[float] = []
        full: list[float] = []
        for run in range(args.runs):
            start = time.perf_counter()
            subprocess.run(
                [str(kubectl), "kustomize", str(overlay)], capture_output=True, check=True
            )
            floor.append(time.perf_counter() - start)
            start = time.perf_counter()
            deploy(f"1.0.{run}")
            full.append(time.perf_counter() - start)
        base = median_line("kubectl_kustomize_s", floor)
        line = median_line("render_validate_commit_push_s", full, objects=objects)
    ratio = float(line["median_s"]) / float(base["median_s"])  # type: ignore[arg-type]
    met = float(line["median_s"]) < TARGET_SECONDS and ratio <= TARGET_RATIO  # type: ignore[arg-type]
    print(
        json.dumps(
            {
                "summary": "gitops deploy vs kubectl kustomize",
                "ratio": round(ratio, 2),
                "target": f"< {TARGET_SECONDS:g} s and <= {TARGET_RATIO:g}x the floor",
                "met": met,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
