"""Security & compliance: no secrets in git, authentication, a secret manager, policy as code."""

from __future__ import annotations

import re

from code_engine.assess import manifests, pysource, secrets
from code_engine.assess.checks import Checks, errors_as_evidence, limit
from code_engine.assess.manifests import WORKLOAD_KINDS, Manifest, dig, pod_spec
from code_engine.assess.model import Category, Evidence, Outcome, failed, not_applicable, passed
from code_engine.assess.repo import RepoView, stem
from code_engine.assess.substance import rego_rules

checks = Checks(Category.SECURITY, "sec")
AUTH_LIBS = (
    "jwt",
    "authlib",
    "jose",
    "fastapi.security",
    "fastapi_users",
    "django.contrib.auth",
    "flask_login",
    "flask_jwt_extended",
)
SECRET_KINDS = (
    "ExternalSecret",
    "SecretStore",
    "ClusterSecretStore",
    "VaultStaticSecret",
    "VaultDynamicSecret",
)
_PACKAGE = re.compile(r"^package\s+[\w.\[\]\"]+", re.MULTILINE)
_CONTACT = re.compile(
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|https?://\S+|security/advisories/new", re.IGNORECASE
)
_TEST_RULE = re.compile(r"^test_\w+\s*(?:if\b|\{|:?=)", re.MULTILINE)


@checks.add(
    "no-secrets",
    1,
    "No secrets are committed",
    target=".secrets.baseline",
    why="A secret in git is a leaked secret: every clone, fork and backup has it.",
    fix="Move the value to the secret manager, rotate it, and scan with detect-secrets in "
    "pre-commit; mark a reviewed false positive on its line with `# pragma: allowlist "
    "secret` (any comment syntax) or in `.secrets.baseline`.",
)
def no_secrets(view: RepoView) -> Outcome:
    found, errors = view.memo("secrets", lambda: secrets.scan(view))
    findings = [f for f in found if f.dismissed is None]
    dismissed = len(found) - len(findings)
    aside = f"; {dismissed} in test fixtures or placeholders not counted" if dismissed else ""
    if findings or errors:
        evidence = [Evidence(f.file, f.line, f.kind) for f in findings]
        return failed(
            f"{len(findings)} potential secrets{aside}"
            if findings
            else "the baseline does not parse",
            *limit(evidence),
            *errors_as_evidence(errors),
        )
    return passed(
        f"detect-secrets found no secrets{aside}",
        Evidence(note=f"{len(view.files)} files scanned"),
    )


@checks.add(
    "security-policy",
    1,
    "A security policy says how to report vulnerabilities, to whom (Security-Policy)",
    target="SECURITY.md",
    why="Reporters need a private channel, or the first report is a public issue.",
    fix="Add `SECURITY.md` with the supported versions and a private reporting contact: an "
    "e-mail address or the URL of the repository's private vulnerability reporting.",
)
def security_policy(view: RepoView) -> Outcome:
    name = view.first("SECURITY.md", ".github/SECURITY.md", "docs/SECURITY.md")
    text = (view.text(name) or "") if name is not None else ""
    if name is None or not text.strip():
        return failed("no SECURITY.md")
    contact = _CONTACT.search(text)
    if contact is None:
        return failed(
            "the security policy names no contact (e-mail address or URL)", Evidence(name, 1)
        )
    line = text.count("\n", 0, contact.start()) + 1
    return passed("security policy with a contact", Evidence(name, line, contact.group(0)))


@checks.add(
    "authentication",
    2,
    "The application authenticates its callers",
    target="pyproject.toml",
    why="Every endpoint that changes state must know who is calling and what they may do.",
    fix="Protect the API with OAuth2/JWT (`fastapi.security` with PyJWT or Authlib) and check "
    "roles per route.",
)
def authentication(view: RepoView) -> Outcome:
    found = pysource.imports(view, *AUTH_LIBS)
    if not found:
        return failed("no application module imports an authentication library")
    return passed("authentication in the application", *limit(found))


@checks.add(
    "secrets-manager",
    2,
    "Secrets come from a secret manager",
    target="deploy/k8s/base/external-secret.yaml",
    why="A manager rotates, audits and scopes secrets; files and env defaults do none of that.",
    fix="Add an External Secrets Operator `ExternalSecret` with a `SecretStore` for Vault (or "
    "read Vault with `hvac`).",
)
def secrets_manager(view: RepoView) -> Outcome:
    found, errors = manifests.find(view, *SECRET_KINDS)
    if found:
        return passed(
            "secret manager manifests",
            *limit(Evidence(m.file, m.line, f"{m.kind} {m.name}") for m in found),
        )
    clients = pysource.imports(view, "hvac")
    if clients:
        return passed("the application reads Vault", *limit(clients))
    vault = _vault_in_hcl(view)
    if vault:
        return passed("Vault in the infrastructure code", vault)
    return failed("no ExternalSecret, Vault client or Vault provider", *errors_as_evidence(errors))


def _vault_in_hcl(view: RepoView) -> Evidence | None:
    for name in view.with_suffix(".tf", ".tofu"):
        text = view.text(name)
        if text is None or "vault" not in text:
            continue
        doc = view.hcl(name)
        if not isinstance(doc, dict):
            continue
        kinds = [k for key in ("provider", "resource", "data") for b in doc.get(key, []) for k in b]
        used = [k for k in kinds if k == "vault" or k.startswith("vault_")]
        if used:
            return Evidence(name, None, used[0])
    return None


def _rego(view: RepoView) -> tuple[list[str], list[str]]:
    files = view.with_suffix(".rego")
    tests = [f for f in files if stem(f).endswith("_test")]
    return [f for f in files if f not in tests], tests


@checks.add(
    "policies",
    3,
    "Policies are written as code (Rego)",
    target="policies/deploy.rego",
    why="Rules like 'no root containers in prod' are enforced the same way every time.",
    fix="Write deployment and admission rules as Rego v1 in `policies/*.rego`.",
)
def policies(view: RepoView) -> Outcome:
    files, _ = _rego(view)
    found: list[Evidence] = []
    empty: list[Evidence] = []
    for name in files:
        text = view.text(name) or ""
        package = _line(text, _PACKAGE)
        rules = rego_rules(text)
        if package and rules:
            found.append(Evidence(name, rules[0], f"{len(rules)} rules"))
        elif package:
            empty.append(Evidence(name, package, "a package with no rules"))
    if not found:
        return failed("no Rego policy with a package declaration and rules", *limit(empty))
    return passed(f"{len(found)} Rego policies", *limit(found))


@checks.add(
    "policy-tests",
    3,
    "Policies have tests",
    target="policies/deploy_test.rego",
    why="An untested policy either blocks good deployments or lets bad ones through.",
    fix="Add `policies/<name>_test.rego` with `test_...` rules and run `opa test policies/`.",
)
def policy_tests(view: RepoView) -> Outcome:
    _, tests = _rego(view)
    found = [Evidence(f, _line(view.text(f) or "", _TEST_RULE), "test rule") for f in tests]
    found = [e for e in found if e.line]
    if not found:
        return failed("no Rego test file with test_ rules")
    return passed(f"{len(found)} Rego test files", *limit(found))


def _line(text: str, pattern: re.Pattern[str]) -> int | None:
    match = pattern.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else None


@checks.add(
    "pod-security",
    3,
    "Workloads run as non-root and unprivileged",
    target="deploy/k8s/base/deployment.yaml",
    why="Kubernetes runs what the image says unless the pod forbids root and privilege.",
    fix="Set `securityContext: {runAsNonRoot: true}` on every pod template and never "
    "`privileged: true` on a container.",
)
def pod_security(view: RepoView) -> Outcome:
    workloads, errors = manifests.find(view, *WORKLOAD_KINDS)
    if not workloads:
        return not_applicable("no Kubernetes workloads")
    bad = [e for w in workloads if (e := _insecure(w))]
    if bad or errors:
        return failed(
            "workloads may run as root or privileged", *limit(bad), *errors_as_evidence(errors)
        )
    return passed(f"{len(workloads)} workloads run as non-root")


def _insecure(workload: Manifest) -> Evidence | None:
    spec = pod_spec(workload)
    if spec is None:
        return Evidence(
            workload.file, workload.line, f"{workload.kind} {workload.name}: no pod spec"
        )
    containers = [c for c in (spec.get("containers") or []) if isinstance(c, dict)]
    pod_non_root = dig(spec, "securityContext", "runAsNonRoot") is True
    for container in containers:
        context = container.get("securityContext") or {}
        if context.get("privileged") is True:
            return Evidence(workload.file, workload.line, f"{container.get('name')}: privileged")
        if not pod_non_root and context.get("runAsNonRoot") is not True:
            return Evidence(
                workload.file, workload.line, f"{container.get('name')}: may run as root"
            )
    return None


CHECKS = tuple(checks.all)
