"""Continuous deployment: manifests, per-environment overlays and Argo CD with self-healing."""

from __future__ import annotations

from pathlib import PurePosixPath

from code_engine.assess import manifests
from code_engine.assess.checks import Checks, errors_as_evidence, limit
from code_engine.assess.manifests import WORKLOAD_KINDS, Manifest, dig
from code_engine.assess.model import Category, Evidence, Outcome, failed, passed
from code_engine.assess.parsers import ParseError
from code_engine.assess.repo import RepoView, basename, stem

checks = Checks(Category.CONTINUOUS_DEPLOYMENT, "cd")
KUSTOMIZATIONS = ("kustomization.yaml", "kustomization.yml", "Kustomization")
ENVIRONMENTS = {
    "dev": ("dev", "development"),
    "staging": ("staging", "stage"),
    "prod": ("prod", "production"),
}
_OVERLAY_PARENTS = ("overlays", "environments", "envs")
ARGO_KINDS = ("Application", "ApplicationSet")


@checks.add(
    "manifests",
    1,
    "Deployment manifests are in the repository",
    target="deploy/k8s/base/deployment.yaml",
    why="A deployment described in files can be reviewed, repeated and rolled back.",
    fix="Add Kubernetes manifests (a `Deployment` in `deploy/k8s/base/` with a "
    "`kustomization.yaml`) or a Helm chart (`Chart.yaml`).",
)
def deploy_manifests(view: RepoView) -> Outcome:
    found, errors = manifests.find(view, *WORKLOAD_KINDS)
    if found:
        first = found[0]
        return passed(
            f"{len(found)} workload manifests", Evidence(first.file, first.line, first.kind)
        )
    charts = view.named("Chart.yaml")
    if charts:
        return passed("a Helm chart", Evidence(charts[0], 1))
    return failed("no Kubernetes workload manifest or Helm chart", *errors_as_evidence(errors))


@checks.add(
    "environment-overlays",
    2,
    "dev, staging and prod have their own overlays",
    target="deploy/k8s/overlays/prod/kustomization.yaml",
    why="One base with a small overlay per environment keeps environments alike but separate.",
    fix="Add kustomize overlays `deploy/k8s/overlays/{dev,staging,prod}/kustomization.yaml`, "
    "each with `resources: [../../base]`.",
)
def environment_overlays(view: RepoView) -> Outcome:
    found: dict[str, Evidence] = {}
    errors: list[ParseError] = []
    for name in view.named(*KUSTOMIZATIONS):
        parts = PurePosixPath(name).parts
        if len(parts) < 3 or parts[-3] not in _OVERLAY_PARENTS:
            continue
        env = _environment(parts[-2])
        doc = view.yaml_doc(name)
        if isinstance(doc, ParseError):
            errors.append(doc)
        elif env and env not in found:
            found[env] = Evidence(name, 1, f"{env} overlay")
    for name in view.yaml_files():
        if not basename(name).startswith(("values-", "values.")):
            continue
        env = _environment(stem(name).replace("values-", "").replace("values.", ""))
        if env and env not in found:
            found[env] = Evidence(name, 1, f"{env} Helm values")
    missing = [env for env in ENVIRONMENTS if env not in found]
    if errors or missing:
        return failed(
            f"missing overlays: {', '.join(missing)}" if missing else "an overlay does not parse",
            *found.values(),
            *errors_as_evidence(errors),
            remediation=(
                f"Add `deploy/k8s/overlays/<env>/kustomization.yaml` for {', '.join(missing)}."
                if missing
                else None
            ),
        )
    return passed("dev, staging and prod overlays", *found.values())


def _environment(name: str) -> str | None:
    return next((env for env, names in ENVIRONMENTS.items() if name.lower() in names), None)


def _argo_apps(view: RepoView) -> tuple[list[Manifest], list[ParseError]]:
    found, errors = manifests.find(view, *ARGO_KINDS)
    return [m for m in found if m.api_version.startswith("argoproj.io/")], errors


def _sync_policy(app: Manifest) -> object:
    if app.kind == "ApplicationSet":
        return dig(app.doc, "spec", "template", "spec", "syncPolicy")
    return dig(app.doc, "spec", "syncPolicy")


@checks.add(
    "gitops-application",
    2,
    "An Argo CD Application deploys from git",
    target="deploy/argocd/application.yaml",
    why="With GitOps the cluster follows git: every deployment is a reviewed commit.",
    fix="Add an Argo CD `Application` (apiVersion `argoproj.io/v1alpha1`) in "
    "`deploy/argocd/` pointing at the overlay path of each environment.",
)
def gitops_application(view: RepoView) -> Outcome:
    apps, errors = _argo_apps(view)
    if not apps:
        return failed("no Argo CD Application or ApplicationSet", *errors_as_evidence(errors))
    return passed(
        f"{len(apps)} Argo CD applications",
        *limit(Evidence(a.file, a.line, f"{a.kind} {a.name}") for a in apps),
    )


@checks.add(
    "automated-sync",
    3,
    "Argo CD syncs automatically with prune and self-heal",
    target="deploy/argocd/application.yaml",
    why="Automated sync with self-heal reverts drift; prune removes what git no longer has.",
    fix="Set `spec.syncPolicy.automated: {prune: true, selfHeal: true}` on every Argo CD "
    "Application.",
)
def automated_sync(view: RepoView) -> Outcome:
    apps, errors = _argo_apps(view)
    if not apps:
        return failed("no Argo CD Application", *errors_as_evidence(errors))
    bad: list[Evidence] = []
    for app in apps:
        automated = dig(_sync_policy(app), "automated")
        if not isinstance(automated, dict):
            bad.append(Evidence(app.file, app.line, f"{app.name}: no syncPolicy.automated"))
            continue
        off = [k for k in ("prune", "selfHeal") if automated.get(k) is not True]
        if off:
            bad.append(Evidence(app.file, app.line, f"{app.name}: {', '.join(off)} not true"))
    if bad:
        return failed("automated sync without prune and self-heal", *limit(bad))
    return passed("every application syncs automatically with prune and self-heal")


@checks.add(
    "sync-retry",
    3,
    "Argo CD retries failed syncs with backoff",
    target="deploy/argocd/application.yaml",
    why="Transient API errors should not leave an environment half-synced until someone notices.",
    fix="Set `spec.syncPolicy.retry: {limit: 5, backoff: {duration: 5s, factor: 2, "
    "maxDuration: 3m}}` on every Argo CD Application.",
)
def sync_retry(view: RepoView) -> Outcome:
    apps, errors = _argo_apps(view)
    if not apps:
        return failed("no Argo CD Application", *errors_as_evidence(errors))
    bad = [
        Evidence(app.file, app.line, f"{app.name}: no retry limit with backoff")
        for app in apps
        if not dig(_sync_policy(app), "retry", "limit")
        or not dig(_sync_policy(app), "retry", "backoff", "duration")
    ]
    if bad:
        return failed("sync retries without limit and backoff", *limit(bad))
    return passed("every application retries with backoff")


CHECKS = tuple(checks.all)
