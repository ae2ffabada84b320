"""Containers: a small, pinned, multi-stage image that runs as non-root and is scanned."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import PurePosixPath

from code_engine.assess import tools
from code_engine.assess.checks import Checks, errors_as_evidence
from code_engine.assess.model import Category, Evidence, Outcome, failed, not_applicable, passed
from code_engine.assess.parsers import ParseError, Stage
from code_engine.assess.pipelines import all_commands
from code_engine.assess.repo import RepoView, basename

checks = Checks(Category.CONTAINERS, "ctr")
MINIMAL_BASES = re.compile(
    r"(^|/)(distroless/|chainguard/|wolfi-base)|^scratch$|(^|/)alpine(:|@|$)|-alpine\b"
    r"|[:-]slim\b|ubi-(micro|minimal)"
)
_ROOT_USERS = {"", "root", "0", "0:0", "root:root"}


def dockerfiles(view: RepoView) -> list[str]:
    """The service's Dockerfiles (the devcontainer's own image is a tool, not the product)."""
    return view.memo("dockerfiles", lambda: _dockerfiles(view))


def _dockerfiles(view: RepoView) -> list[str]:
    names = view.named("Dockerfile", "Containerfile")
    names += [f for f in view.files if "Dockerfile." in f and basename(f).startswith("Dockerfile.")]
    names += view.with_suffix(".dockerfile")
    return sorted({n for n in names if not n.startswith(".devcontainer/")})


def _parsed(view: RepoView) -> tuple[dict[str, tuple[Stage, ...]], list[ParseError]]:
    found: dict[str, tuple[Stage, ...]] = {}
    errors: list[ParseError] = []
    for name in dockerfiles(view):
        stages = view.dockerfile(name)
        if isinstance(stages, ParseError):
            errors.append(stages)
        elif stages:
            found[name] = stages
    return found, errors


def _each(view: RepoView, judge: Callable[[str, tuple[Stage, ...]], Evidence | None]) -> Outcome:
    """Pass when `judge` finds nothing wrong in every Dockerfile (it returns the problem)."""
    found, errors = _parsed(view)
    if not found:
        return failed("no Dockerfile", *errors_as_evidence(errors))
    problems = [p for name, stages in found.items() if (p := judge(name, stages))]
    if problems or errors:
        return failed(
            problems[0].note if problems else "a Dockerfile does not parse",
            *problems,
            *errors_as_evidence(errors),
        )
    return passed(", ".join(found), *(Evidence(n, s[-1].line) for n, s in found.items()))


@checks.add(
    "dockerfile",
    1,
    "The service builds from a Dockerfile",
    target="Dockerfile",
    why="An image is the unit every environment runs; the Dockerfile is its recipe in git.",
    fix="Add a `Dockerfile` at the repository root that builds and runs the service.",
)
def dockerfile(view: RepoView) -> Outcome:
    return _each(view, lambda _name, _stages: None)


@checks.add(
    "dockerignore",
    1,
    "A .dockerignore keeps the build context small",
    target=".dockerignore",
    why="Without it `.git`, virtualenvs and secrets in the work tree are sent into the build.",
    fix="Add `.dockerignore` beside the Dockerfile excluding `.git`, `.venv`, `**/__pycache__`.",
)
def dockerignore(view: RepoView) -> Outcome:
    for name in dockerfiles(view):
        parent = str(PurePosixPath(name).parent)
        ignore = ".dockerignore" if parent == "." else f"{parent}/.dockerignore"
        text = view.text(ignore) or view.text(f"{name}.dockerignore")
        if text and any(line.strip() and not line.startswith("#") for line in text.splitlines()):
            return passed("build context is filtered", Evidence(ignore, 1))
    return failed("no .dockerignore with patterns beside a Dockerfile")


@checks.add(
    "multi-stage",
    2,
    "The image is built in stages",
    target="Dockerfile",
    why="Compilers and build caches stay in the builder stage; the runtime image ships less.",
    fix="Split the Dockerfile into a `FROM ... AS build` stage and a runtime stage that "
    "`COPY --from=build` only what runs.",
)
def multi_stage(view: RepoView) -> Outcome:
    def judge(name: str, stages: tuple[Stage, ...]) -> Evidence | None:
        final = stages[-1]
        copies = [
            i for i in final.instructions if i.name in ("COPY", "ADD") and "--from=" in i.value
        ]
        if len(stages) < 2 or not copies:
            return Evidence(name, final.line, "the final stage copies nothing from a build stage")
        return None

    return _each(view, judge)


@checks.add(
    "non-root",
    2,
    "The container runs as a non-root user",
    target="Dockerfile",
    why="A process running as root turns a container escape into a host compromise.",
    fix="End the final stage with `USER 65532` (or a named non-root user; distroless "
    "`:nonroot` images already do).",
)
def non_root(view: RepoView) -> Outcome:
    def judge(name: str, stages: tuple[Stage, ...]) -> Evidence | None:
        final = stages[-1]
        users = [i for i in final.instructions if i.name == "USER"]
        if users and users[-1].value.strip() not in _ROOT_USERS:
            return None
        if not users and re.search(r":(debug-)?nonroot\b", final.base):
            return None
        line = users[-1].line if users else final.line
        return Evidence(name, line, "the final stage runs as root")

    return _each(view, judge)


@checks.add(
    "pinned-base",
    2,
    "Base images are pinned by digest or version",
    target="Dockerfile",
    why="`latest` or an untagged base changes under a rebuild; a pin makes builds repeatable.",
    fix="Pin every `FROM` to a version tag (`python:3.12-slim`) or a digest (`@sha256:...`).",
)
def pinned_base(view: RepoView) -> Outcome:
    def judge(name: str, stages: tuple[Stage, ...]) -> Evidence | None:
        aliases = {s.alias for s in stages if s.alias}
        for stage in stages:
            image = stage.base
            if image in aliases or image == "scratch" or "@sha256:" in image:
                continue
            tag = image.rsplit("/", 1)[-1].partition(":")[2]
            if not tag or tag == "latest" or "$" in image:
                return Evidence(name, stage.line, f"{image} is not pinned")
        return None

    return _each(view, judge)


@checks.add(
    "minimal-base",
    3,
    "The runtime image is distroless or minimal",
    target="Dockerfile",
    why="Fewer packages in the runtime image means fewer CVEs and a smaller attack surface.",
    fix="Base the final stage on `gcr.io/distroless/python3-debian12` (or a `-slim`, alpine or "
    "chainguard image).",
)
def minimal_base(view: RepoView) -> Outcome:
    def judge(name: str, stages: tuple[Stage, ...]) -> Evidence | None:
        final = stages[-1]
        if MINIMAL_BASES.search(final.base):
            return None
        return Evidence(name, final.line, f"runtime base {final.base} is not minimal")

    return _each(view, judge)


@checks.add(
    "image-scan",
    3,
    "CI scans the built image",
    target=".github/workflows/ci.yml",
    why="Base images collect CVEs after they are built; scanning the image catches them.",
    fix="Add a CI step `trivy image <image>` (or `aquasecurity/trivy-action` with `image-ref`, "
    "or grype) after the image build.",
)
def image_scan(view: RepoView) -> Outcome:
    if not _dockerfiles(view):
        return not_applicable("no Dockerfile: no image to scan")
    evidence = tools.first_match(all_commands(view), tools.IMAGE_SCAN)
    if evidence is None:
        return failed("no image scanner in CI")
    return passed("CI scans the image", evidence)


CHECKS = tuple(checks.all)
