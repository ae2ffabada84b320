"""Source control & collaboration: ignore rules, code owners, commit conventions, releases."""

from __future__ import annotations

import re

from code_engine.assess.checks import Checks, limit
from code_engine.assess.gitfacts import RECENT_COMMITS, Commit
from code_engine.assess.model import Category, Evidence, Outcome, failed, passed, unknown
from code_engine.assess.parsers import ParseError
from code_engine.assess.repo import RepoView
from code_engine.assess.substance import placeholder_owner

checks = Checks(Category.SOURCE_CONTROL, "scm")
THRESHOLD = 0.9
CODEOWNERS_PATHS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
_OWNER = re.compile(r"^(?:@[\w.-]+(?:/[\w.-]+)?|[^@\s]+@[^@\s]+\.[^@\s]+)$")
CHANGELOG_FILES = ("CHANGELOG.md", "CHANGELOG.rst", "CHANGELOG", "CHANGES.md", "HISTORY.md")
CHANGELOG_CONFIGS = (
    "cliff.toml",
    "release-please-config.json",
    ".release-please-manifest.json",
    ".cz.toml",
    ".releaserc",
    ".releaserc.json",
    ".releaserc.yaml",
    ".releaserc.yml",
)
_PYPROJECT_TOOLS = ("commitizen", "git-cliff", "semantic_release", "towncrier")


@checks.add(
    "gitignore",
    1,
    "Generated files are kept out of git",
    target=".gitignore",
    why="Virtualenvs, caches and build output in git bloat history and leak local state.",
    fix="Add a `.gitignore` at the repository root listing `.venv/`, `__pycache__/`, `build/`.",
)
def gitignore(view: RepoView) -> Outcome:
    text = view.text(".gitignore")
    if text is None:
        return failed("no .gitignore at the repository root")
    rules = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if not rules:
        return failed(".gitignore has no patterns", Evidence(".gitignore", 1, "empty"))
    return passed(f".gitignore has {len(rules)} patterns", Evidence(".gitignore", 1))


@checks.add(
    "codeowners",
    2,
    "CODEOWNERS names an owner for every pattern",
    target=".github/CODEOWNERS",
    why="Code owners are requested as reviewers automatically; a pattern without one is unowned.",
    fix="Add `.github/CODEOWNERS` with lines like `* @org/team`; every pattern needs an owner.",
)
def codeowners(view: RepoView) -> Outcome:
    name = view.first(*CODEOWNERS_PATHS)
    if name is None:
        return failed("no CODEOWNERS in .github/, the root or docs/")
    rules = 0
    unowned: list[Evidence] = []
    for number, raw in enumerate((view.text(name) or "").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        rules += 1
        pattern, *owners = line.split()
        bad = [o for o in owners if not _OWNER.match(o) or placeholder_owner(o)]
        if not owners or bad:
            detail = f"not a real owner: {' '.join(bad)}" if bad else "no owner"
            unowned.append(Evidence(name, number, f"`{pattern}`: {detail}"))
    if unowned:
        return failed(
            f"{len(unowned)} CODEOWNERS patterns without a valid owner",
            *limit(unowned),
            remediation=f"Name an owner (`@user`, `@org/team` or an email) on each line of {name}.",
        )
    if rules == 0:
        return failed(f"{name} has no rules", Evidence(name, 1, "empty"))
    return passed(f"{rules} CODEOWNERS rules, each with an owner", Evidence(name, 1))


def _recent(view: RepoView) -> list[Commit]:
    return [c for c in view.git.commits if not c.merge]


def _history_missing(view: RepoView) -> Outcome | None:
    """`unknown` when the history cannot be judged: no commits, or a shallow clone."""
    if view.git.head is None:
        return unknown("the repository has no commits yet", Evidence(note="git log: no commits"))
    if view.git.shallow:
        note = "git rev-parse --is-shallow-repository: true; fetch the full history"
        return unknown("a shallow clone: the history is cut", Evidence(note=note))
    return None


def _ratio_outcome(what: str, good: list[Commit], total: list[Commit]) -> Outcome:
    if not total:
        return unknown("no non-merge commits to judge", Evidence(note="git log: no commits"))
    ratio = len(good) / len(total)
    fact = Evidence(
        note=f"{len(good)}/{len(total)} of the last {RECENT_COMMITS} non-merge commits {what}"
    )
    if ratio >= THRESHOLD:
        return passed(f"{ratio:.0%} of recent commits {what}", fact)
    offenders = [c for c in total if c not in good][:3]
    examples = [Evidence(note=f"commit {c.sha[:12]}: {c.subject!r}") for c in offenders]
    return failed(f"only {ratio:.0%} of recent commits {what} (needs 90%)", fact, *examples)


@checks.add(
    "conventional-commits",
    2,
    "Recent commits follow Conventional Commits",
    target=".pre-commit-config.yaml",
    why="Typed commit messages drive the changelog, semantic versions and the DORA change log.",
    fix="Write commit subjects as `type(scope): summary` (feat, fix, docs, ...); enforce them "
    "with a `commitizen` commit-msg hook in `.pre-commit-config.yaml`.",
)
def conventional_commits(view: RepoView) -> Outcome:
    missing = _history_missing(view)
    if missing is not None:
        return missing
    total = _recent(view)
    return _ratio_outcome(
        "follow Conventional Commits", [c for c in total if c.conventional], total
    )


@checks.add(
    "signed-commits",
    3,
    "Recent commits are signed",
    target=".github/settings.yml",
    why="A signature ties each change to a verified identity, as branch protection can require.",
    fix="Sign commits: `git config commit.gpgsign true` with a GPG or SSH `user.signingkey`, "
    "and require signed commits in the branch protection rule.",
)
def signed_commits(view: RepoView) -> Outcome:
    missing = _history_missing(view)
    if missing is not None:
        return missing
    total = _recent(view)
    return _ratio_outcome("are signed", [c for c in total if c.signed], total)


@checks.add(
    "changelog",
    3,
    "The changelog is generated from commits",
    target="CHANGELOG.md",
    why="A generated changelog is complete and costs nothing at release time.",
    fix="Configure git-cliff (`cliff.toml`), commitizen (`[tool.commitizen]` in pyproject.toml) "
    "or release-please, and commit the generated `CHANGELOG.md`.",
)
def changelog(view: RepoView) -> Outcome:
    log = view.first(*CHANGELOG_FILES)
    if log is None:
        return failed("no CHANGELOG.md at the repository root")
    generator = _changelog_generator(view)
    if isinstance(generator, ParseError):
        return failed(
            "pyproject.toml cannot be read",
            Evidence(generator.file, generator.line, generator.message),
        )
    if not generator:
        return failed(
            f"{log} exists but no changelog generator is configured",
            Evidence(log, 1),
            remediation="Add `cliff.toml` (git-cliff) or `[tool.commitizen]` to pyproject.toml.",
        )
    return passed(f"{log} generated by a configured tool", Evidence(log, 1), *generator)


def _changelog_generator(view: RepoView) -> tuple[Evidence, ...] | ParseError:
    config = view.first(*CHANGELOG_CONFIGS)
    if config is not None:
        return (Evidence(config, 1, "changelog generator configuration"),)
    pyproject = view.toml("pyproject.toml")
    if isinstance(pyproject, ParseError):
        return pyproject
    tools = (pyproject or {}).get("tool", {})
    found = [t for t in _PYPROJECT_TOOLS if isinstance(tools, dict) and t in tools]
    return tuple(Evidence("pyproject.toml", None, f"[tool.{t}]") for t in found)


@checks.add(
    "release-tags",
    3,
    "Releases are tagged with semantic versions",
    target="CHANGELOG.md",
    why="A version tag marks exactly what was released and is what rollbacks go back to.",
    fix="Tag each release `vMAJOR.MINOR.PATCH` (`cz bump` or `git tag -a v1.0.0`) and push tags.",
)
def release_tags(view: RepoView) -> Outcome:
    tags = view.git.semver_tags
    missing = None if tags else _history_missing(view)
    if missing is not None:
        return missing
    if not tags:
        other = f" ({len(view.git.tags)} tags, none semantic)" if view.git.tags else ""
        return failed(f"no release tag like v1.2.3{other}", Evidence(note="git tag: none matching"))
    return passed(
        f"{len(tags)} semantic version tags", Evidence(note=f"git tag: {', '.join(tags[-3:])}")
    )


CHECKS = tuple(checks.all)
