"""Infrastructure as code: OpenTofu/Terraform with pinned providers, modules, locked state."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from code_engine.assess.checks import Checks, errors_as_evidence
from code_engine.assess.model import Category, Evidence, Outcome, failed, passed
from code_engine.assess.parsers import ParseError
from code_engine.assess.repo import RepoView, directories, stem

checks = Checks(Category.INFRASTRUCTURE_AS_CODE, "iac")
TARGET = "infra/main.tf"
LOCKING_BACKENDS = ("gcs", "azurerm", "consul", "pg", "kubernetes", "remote", "oci")
_ENVS = ("dev", "staging", "prod")


def _hcl_files(view: RepoView) -> list[str]:
    return sorted(view.with_suffix(".tf", ".tofu"))


def _parsed(
    view: RepoView, hint: str, *, roots_only: bool = False
) -> Iterator[tuple[str, dict[str, Any] | ParseError]]:
    """Parsed HCL files whose text matches `hint`; the others are never parsed (HCL is slow)."""
    pattern = re.compile(hint)
    for name in _hcl_files(view):
        if roots_only and "modules" in directories(name):
            continue
        text = view.text(name)
        if text is not None and pattern.search(text):
            parsed = view.hcl(name)
            if parsed is not None:
                yield name, parsed


def _line(view: RepoView, name: str, pattern: str) -> int | None:
    """The line where `pattern` first occurs: evidence only, the decision came from the parse."""
    text = view.text(name) or ""
    match = re.search(pattern, text)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _backend_line(view: RepoView, name: str, kind: str) -> int | None:
    return _line(view, name, rf'backend\s+"{kind}"' if kind != "cloud" else r"\bcloud\s*\{")


def _blocks(doc: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    blocks = doc.get(kind, [])
    return [b for b in blocks if isinstance(b, dict)] if isinstance(blocks, list) else []


def _backends(view: RepoView) -> tuple[list[tuple[str, str, dict[str, Any]]], list[ParseError]]:
    found: list[tuple[str, str, dict[str, Any]]] = []
    errors: list[ParseError] = []
    for name, doc in _parsed(view, r'\bbackend\s+"|\bcloud\s*\{'):
        if isinstance(doc, ParseError):
            errors.append(doc)
            continue
        for block in _blocks(doc, "terraform"):
            for backend in block.get("backend", []):
                for kind, settings in backend.items():
                    found.append((name, kind, settings if isinstance(settings, dict) else {}))
            if block.get("cloud"):
                found.append((name, "cloud", {}))
    return found, errors


@checks.add(
    "terraform",
    1,
    "Infrastructure is described in OpenTofu/Terraform",
    target=TARGET,
    why="Infrastructure in code is reviewed, versioned and rebuilt the same way every time.",
    fix="Describe the infrastructure in `infra/*.tf` with `resource` or `module` blocks.",
)
def terraform(view: RepoView) -> Outcome:
    errors: list[ParseError] = []
    for name, doc in _parsed(view, r'\b(?:resource|module)\s+"'):
        if isinstance(doc, ParseError):
            errors.append(doc)
        elif _blocks(doc, "resource") or _blocks(doc, "module"):
            return passed("OpenTofu/Terraform configuration", Evidence(name, 1))
    if errors:
        return failed("an HCL file does not parse", *errors_as_evidence(errors))
    return failed("no .tf file with a resource or module")


@checks.add(
    "provider-pins",
    1,
    "The OpenTofu/Terraform and provider versions are pinned",
    target="infra/versions.tf",
    why="Unpinned providers change behaviour under you on the next `init`.",
    fix="In the root configuration's `terraform {}` block set `required_version` and give "
    "every entry of `required_providers` a `source` and a `version` constraint.",
)
def provider_pins(view: RepoView) -> Outcome:
    pinned: list[Evidence] = []
    loose: list[Evidence] = []
    for name, doc in _parsed(view, r"\brequired_(?:providers|version)\b", roots_only=True):
        if isinstance(doc, ParseError):
            loose.extend(errors_as_evidence([doc]))
            continue
        for block in _blocks(doc, "terraform"):
            if block.get("required_version"):
                line = _line(view, name, r"\brequired_version\b")
                pinned.append(Evidence(name, line, f"required_version {block['required_version']}"))
            for group in block.get("required_providers", []):
                for provider, spec in group.items():
                    line = _line(view, name, rf"\b{re.escape(provider)}\s*=")
                    if isinstance(spec, dict) and spec.get("version"):
                        pinned.append(Evidence(name, line, f"{provider} {spec['version']}"))
                    else:
                        loose.append(Evidence(name, line, f"provider {provider} has no version"))
    if not any(e.note.startswith("required_version") for e in pinned):
        loose.append(Evidence(note="no terraform block sets required_version"))
    if loose:
        return failed("versions are not pinned", *loose)
    return passed("required_version and provider versions pinned", *pinned)


@checks.add(
    "modules",
    2,
    "Infrastructure is composed of reusable modules",
    target="infra/modules/app/main.tf",
    why="Modules turn copy-pasted resources into one reviewed component used everywhere.",
    fix='Move resources into `infra/modules/<name>/` and call them with `module "<name>" '
    '{ source = "./modules/<name>" }`.',
)
def modules(view: RepoView) -> Outcome:
    errors: list[ParseError] = []
    for name, doc in _parsed(view, r'\bmodule\s+"'):
        if isinstance(doc, ParseError):
            errors.append(doc)
            continue
        for block in _blocks(doc, "module"):
            for module, spec in block.items():
                if isinstance(spec, dict) and spec.get("source"):
                    line = _line(view, name, rf'module\s+"{re.escape(module)}"')
                    note = f"module {module}: {spec['source']}"
                    return passed("modules are used", Evidence(name, line, note))
    return failed("no module block with a source", *errors_as_evidence(errors))


@checks.add(
    "remote-state",
    2,
    "State lives in a remote backend",
    target="infra/backend.tf",
    why="Local state is lost with the laptop and cannot be shared by CI or a team.",
    fix='Add `terraform { backend "s3" { bucket = ..., key = ..., region = ... } }` '
    "(or gcs/azurerm/pg).",
)
def remote_state(view: RepoView) -> Outcome:
    backends, errors = _backends(view)
    remote = [(n, k) for n, k, _ in backends if k != "local"]
    if not remote:
        return failed("no remote state backend", *errors_as_evidence(errors))
    name, kind = remote[0]
    return passed(f"{kind} backend", Evidence(name, _backend_line(view, name, kind), kind))


@checks.add(
    "state-locking",
    3,
    "The state backend locks concurrent runs",
    target="infra/backend.tf",
    why="Two applies on unlocked state corrupt it; locking makes the second one wait.",
    fix='For the s3 backend set `dynamodb_table = "<lock table>"` (or `use_lockfile = true`); '
    "gcs, azurerm, pg and kubernetes backends lock by themselves.",
)
def state_locking(view: RepoView) -> Outcome:
    backends, errors = _backends(view)
    for name, kind, settings in backends:
        if kind in LOCKING_BACKENDS or kind == "cloud":
            line = _backend_line(view, name, kind)
            return passed(f"{kind} backend locks", Evidence(name, line, f"backend {kind}"))
        if kind == "s3" and (settings.get("dynamodb_table") or settings.get("use_lockfile")):
            how = "dynamodb_table" if settings.get("dynamodb_table") else "use_lockfile"
            line = _line(view, name, rf"\b{how}\b")
            return passed("s3 backend with locking", Evidence(name, line, f"backend s3: {how}"))
    unlocked = [
        Evidence(n, _backend_line(view, n, k), f"backend {k} without locking")
        for n, k, _ in backends
    ]
    return failed("no backend with state locking", *unlocked, *errors_as_evidence(errors))


@checks.add(
    "workspaces",
    3,
    "Environments are separate workspaces",
    target="infra/main.tf",
    why="One configuration per environment through workspaces keeps dev, staging and prod alike.",
    fix='Select names and sizes by `terraform.workspace` (e.g. `"app-${terraform.workspace}"`) '
    "and create `dev`, `staging` and `prod` workspaces, or add `<env>.tfvars` per environment.",
)
def workspaces(view: RepoView) -> Outcome:
    for name, doc in _parsed(view, r"\bterraform\.workspace\b"):
        if not isinstance(doc, ParseError) and _mentions(doc, "terraform.workspace"):
            line = _line(view, name, r"terraform\.workspace")
            return passed("configuration keyed by terraform.workspace", Evidence(name, line))
    tfvars = {stem(f): f for f in view.with_suffix(".tfvars")}
    if all(env in tfvars for env in _ENVS):
        return passed("a .tfvars file per environment", *(Evidence(tfvars[e], 1) for e in _ENVS))
    return failed("no per-environment workspaces or .tfvars")


def _mentions(value: Any, needle: str) -> bool:
    if isinstance(value, str):
        return needle in value
    if isinstance(value, dict):
        return any(_mentions(v, needle) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, needle) for v in value)
    return False


CHECKS = tuple(checks.all)
