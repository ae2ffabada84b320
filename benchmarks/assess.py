"""Benchmark `codectl assess` on a large generated repository against the file-reading floor.

The repository: 200 services of 100 files each (Python, Kubernetes YAML, OpenTofu HCL,
Markdown, JSON) plus a Level-3 skeleton at the root: 20,000+ files and 2,000+ commits,
written with `git fast-import`. The floor is `git ls-files` plus reading every listed file
once, on the same warm tree. Prints one JSON line per figure.

The same tree is then assessed as a monorepo: each service also gets a `pyproject.toml`
(200 Python packages besides the root's), so every package-scoped check is judged per package
(figures `assess_monorepo*`).

    python benchmarks/assess.py [--services 200] [--commits 2000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels: {{app: {name}}}
spec:
  replicas: 2
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      securityContext: {{runAsNonRoot: true}}
      containers:
        - name: app
          image: ghcr.io/acme/{name}:1.{i}.0
          env:
            - name: DB_PASSWORD
              valueFrom: {{secretKeyRef: {{name: {name}-db, key: password}}}}
          ports: [{{containerPort: 8080}}]
"""
SERVICE = (
    "apiVersion: v1\nkind: Service\nmetadata: {{name: {name}}}\nspec:\n  ports: [{{port: 80}}]\n"
)
CONFIGMAP = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}-{j}}}\n"
    "data:\n  LOG_LEVEL: info\n  FEATURE_{j}: 'on'\n"
)
HCL = """\
variable "name_{j}" {{
  type    = string
  default = "{name}-{j}"
}}

resource "aws_s3_bucket" "b{j}" {{
  bucket = var.name_{j}
  tags = {{
    service = "{name}"
  }}
}}
"""
PYTHON = '''"""Module {j} of {name}."""

import logging

LOG = logging.getLogger(__name__)


def handler_{j}(event: dict) -> dict:
    """Handle one event; the key names are the API's."""
    LOG.info("event %s", event.get("id"))
    return {{"status": "ok", "service": "{name}", "n": {j}}}
'''


def service_files(i: int) -> Iterator[tuple[str, str]]:
    name = f"svc{i:03d}"
    base = f"services/{name}"
    yield f"{base}/deploy/deployment.yaml", DEPLOYMENT.format(name=name, i=i)
    yield f"{base}/deploy/service.yaml", SERVICE.format(name=name)
    for j in range(28):
        yield f"{base}/deploy/config-{j}.yaml", CONFIGMAP.format(name=name, j=j)
    for j in range(20):
        yield f"{base}/infra/part{j}.tf", HCL.format(name=name, j=j)
    for j in range(30):
        yield f"{base}/src/{name}/mod{j}.py", PYTHON.format(name=name, j=j)
    for j in range(12):
        yield f"{base}/docs/page{j}.md", f"# {name} page {j}\n\nHow the service works, part {j}.\n"
    for j in range(8):
        yield f"{base}/fixtures/case{j}.json", json.dumps({"service": name, "case": j}) + "\n"


def root_files() -> Iterator[tuple[str, str]]:
    tests = Path(__file__).resolve().parents[1] / "tests" / "integration" / "assess"
    sys.path.insert(0, str(tests))
    from conftest import LEVEL3  # the fixture repository that passes every check

    yield from LEVEL3.items()


def package_files(services: int) -> Iterator[tuple[str, str]]:
    """A `pyproject.toml` per service: the tree becomes a monorepo of Python packages."""
    for i in range(services):
        name = f"svc{i:03d}"
        yield f"services/{name}/pyproject.toml", PYPROJECT.format(name=name)


PYPROJECT = '[project]\nname = "{name}"\nversion = "1.0.0"\ndependencies = ["structlog"]\n'


def fast_import(repo: Path, services: int, commits: int, packages: bool = False) -> int:
    """Write the history with `git fast-import`; returns the number of files."""
    files = [*root_files(), *(f for i in range(services) for f in service_files(i))]
    if packages:
        files.extend(package_files(services))
    stamp = 1_780_000_000
    lines: list[bytes] = []

    def commit(message: str, changes: list[tuple[str, str]], n: int) -> None:
        # fast-import chains commits on the same branch: each one's parent is the previous
        data = message.encode()
        lines.append(b"commit refs/heads/main\n")
        lines.append(f"committer Bench <bench@example.com> {stamp + n * 60} +0000\n".encode())
        lines.append(b"data %d\n%s\n" % (len(data), data))
        for path, text in changes:
            blob = text.encode()
            lines.append(f"M 100644 inline {path}\n".encode())
            lines.append(b"data %d\n%s\n" % (len(blob), blob))

    commit("feat: initial import", files, n=0)
    for n in range(1, commits):
        i = n % services
        path = f"services/svc{i:03d}/docs/page0.md"
        commit(f"docs(svc{i:03d}): revision {n}", [(path, f"# svc{i:03d}\n\nRevision {n}.\n")], n)
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=b"".join(lines), check=True)
    subprocess.run(["git", "tag", "v1.0.0"], cwd=repo, check=True)
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=repo, check=True)
    return len(files)


def floor(repo: Path) -> float:
    """`git ls-files` plus reading every file once: what any full assessment must pay."""
    start = time.perf_counter()
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=repo, capture_output=True, check=True)
    for name in listed.stdout.decode().split("\0"):
        if name:
            (repo / name).read_bytes()
    return time.perf_counter() - start


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def emit(figure: str, value: float | int, unit: str, **extra: object) -> None:
    print(
        json.dumps({"benchmark": "assess", "figure": figure, "value": value, "unit": unit, **extra})
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--keep", type=Path, help="build the repository here and keep it")
    args = parser.parse_args()
    os.environ.setdefault("GIT_CONFIG_GLOBAL", os.devnull)
    for key, value in {"GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com"}.items():
        os.environ.setdefault(key, value)
        os.environ.setdefault(key.replace("AUTHOR", "COMMITTER"), value)

    from code_engine.assess import assess_repository

    with tempfile.TemporaryDirectory() as tmp:
        repo = args.keep or Path(tmp) / "repo"
        start = time.perf_counter()
        count = fast_import(repo, args.services, args.commits)
        emit("files", count, "files", commits=args.commits)
        emit("generate", round(time.perf_counter() - start, 3), "s")
        floor(repo)  # warm the page cache for both measurements
        first = timed(
            lambda: assess_repository(repo)
        )  # includes lazy imports (hcl2, detect-secrets)
        floors = [floor(repo) for _ in range(3)]
        runs = [timed(lambda: assess_repository(repo)) for _ in range(3)]
        report = assess_repository(repo)
        emit("floor_ls_files_read_all", round(min(floors), 3), "s")
        emit("assess_first_run", round(first, 3), "s", note="includes lazy imports")
        emit(
            "assess", round(min(runs), 3), "s", level=report.level, failing=list(report.failing_ids)
        )
        emit("assess_over_floor", round(min(runs) / min(floors), 2), "x", target=3.0)
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "monorepo"
        count = fast_import(repo, args.services, args.commits, packages=True)
        floor(repo)
        assess_repository(repo)
        floors = [floor(repo) for _ in range(3)]
        runs = [timed(lambda: assess_repository(repo)) for _ in range(3)]
        report = assess_repository(repo)
        emit("monorepo_files", count, "files", packages=len(report.packages))
        emit("monorepo_floor_ls_files_read_all", round(min(floors), 3), "s")
        emit("assess_monorepo", round(min(runs), 3), "s", failing=list(report.failing_ids))
        emit("assess_monorepo_over_floor", round(min(runs) / min(floors), 2), "x", target=3.0)


if __name__ == "__main__":
    main()
