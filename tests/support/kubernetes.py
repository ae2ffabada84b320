"""A service with a real kustomize tree and a GitOps remote, for tests of the Kubernetes target."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.components import missing
from tests.support.git import git

from code_engine.deploy.kubernetes.errors import KustomizeMissing
from code_engine.deploy.kubernetes.kustomize import find_kubectl

IMAGE = "ghcr.io/acme/shop"

SPEC = """\
service: shop
repo: .
environments:
  - name: dev
    target: {kind: local, command: "python -m http.server {port}"}
  - name: staging
    target:
      kind: kubernetes
      namespace: shop-staging
      image: ghcr.io/acme/shop
      gitops: {repo: "GITOPS", branch: main, path: apps/shop/staging}
  - name: prod
    target:
      kind: kubernetes
      namespace: shop-prod
      image: ghcr.io/acme/shop
      gitops: {repo: "GITOPS", branch: main, path: apps/shop/prod}
    strategy:
      kind: blue_green
      preview_duration: 2m
      analysis: {interval: 30s, count: 3, min_requests: 50}
rollout:
  kind: canary
  steps:
    - set_weight: 20
    - analysis: {interval: 1m, count: 5, failure_limit: 1, inconclusive_limit: 1}
    - pause: {duration: 5m}
    - set_weight: 60
    - pause: {}
slos:
  p95_latency_ms: 250
  error_rate_percent: 0.5
"""

FILES = {
    "deploy/k8s/base/kustomization.yaml": """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [deployment.yaml, service.yaml, hpa.yaml]
configMapGenerator:
  - name: shop-config
    literals: [LOG_LEVEL=info]
images:
  - name: ghcr.io/acme/shop
    newTag: "0.0.1"
""",
    "deploy/k8s/base/deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
  labels: {app: shop}
spec:
  replicas: 2
  revisionHistoryLimit: 5
  selector:
    matchLabels: {app: shop}
  template:
    metadata:
      labels: {app: shop}
    spec:
      containers:
        - name: shop
          image: ghcr.io/acme/shop
          ports: [{name: http, containerPort: 8000}]
          envFrom: [{configMapRef: {name: shop-config}}]
""",
    "deploy/k8s/base/service.yaml": """\
apiVersion: v1
kind: Service
metadata:
  name: shop
spec:
  selector: {app: shop}
  ports: [{name: http, port: 80, targetPort: http}]
""",
    "deploy/k8s/base/hpa.yaml": """\
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: shop
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: shop}
  minReplicas: 2
  maxReplicas: 5
  metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}
""",
    "deploy/k8s/overlays/staging/kustomization.yaml": """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: shop-staging
resources: [../../base, namespace.yaml]
""",
    "deploy/k8s/overlays/staging/namespace.yaml": """\
apiVersion: v1
kind: Namespace
metadata:
  name: shop-staging
""",
    "deploy/k8s/overlays/prod/kustomization.yaml": """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: shop-prod
resources: [../../base]
replicas:
  - name: shop
    count: 3
""",
}


def kubectl() -> Path:
    """The kubectl the code finds, or `missing("kubectl", ...)`."""
    try:
        return find_kubectl()
    except KustomizeMissing as exc:
        missing("kubectl", str(exc))


def write_service(root: Path, gitops: str = "unused", spec: str = SPEC) -> Path:
    """A service repository at `root` (code.yaml + kustomize tree); returns `root`."""
    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / "code.yaml").write_text(spec.replace("GITOPS", gitops), encoding="utf-8")
    return root


def bare_remote(path: Path, *, seed: bool = True) -> Path:
    """A bare GitOps remote at `path`, with a first commit on main when `seed`."""
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True)
    if seed:
        work = path.with_name(path.name + "-seed")
        subprocess.run(["git", "clone", "-q", str(path), str(work)], check=True)
        (work / "README.md").write_text("GitOps repository\n", encoding="utf-8")
        git(work, "add", "README.md")
        git(work, "commit", "-q", "-m", "chore: start")
        git(work, "push", "-q", "origin", "HEAD:main")
    return path


def commit_elsewhere(remote: Path, name: str, text: str = "x\n") -> str:
    """Another committer pushes a commit touching `name`; returns its sha."""
    work = remote.with_name(f"{remote.name}-other")
    if not work.exists():
        subprocess.run(["git", "clone", "-q", str(remote), str(work)], check=True)
    git(work, "pull", "-q", "--rebase", "origin", "main")
    (work / name).parent.mkdir(parents=True, exist_ok=True)
    (work / name).write_text(text, encoding="utf-8")
    git(work, "add", name)
    git(work, "commit", "-q", "-m", f"chore: {name}")
    git(work, "push", "-q", "origin", "HEAD:main")
    return git(work, "rev-parse", "HEAD")
