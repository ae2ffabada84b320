"""`docs/assess-checks.md`, generated from the check registry (a test keeps the two equal)."""

from __future__ import annotations

from code_engine.assess.gitfacts import CONVENTIONAL_TYPES, RECENT_COMMITS
from code_engine.assess.model import MAX_LEVEL, Category
from code_engine.assess.registry import CHECKS, PREFIXES, checks_of
from code_engine.assess.report import SCHEMA_FILE, SCHEMA_VERSION
from code_engine.assess.secrets import GATES

DOC_PATH = "docs/assess-checks.md"

_INTRO = f"""# `codectl assess` checks

<!-- Generated from src/code_engine/assess/registry.py by
     `python -m code_engine.assess.docs > {DOC_PATH}`; do not edit by hand. -->

`codectl assess [PATH]` measures a repository's DevOps maturity from Level 0 to Level {MAX_LEVEL}
in nine categories. A category reaches level N only when every check of level N and below
passes; the repository's level is its lowest category level.

Each check ends in one of four verdicts, and every output format counts each of them:

| verdict | meaning | effect on the level |
|---|---|---|
| `pass` | the evidence shows the practice | met |
| `fail` | the practice is missing, or its file exists but does nothing | not met |
| `not-applicable` | the check does not apply (no Dockerfile: no image to scan) | met |
| `unknown` | what it needs is not there (no commits; a shallow clone's history) | not met |

A not-applicable check does not lower the level; an unknown one is never counted as a pass.
 `--fail-under LEVEL` exits 1 below that level; a path that is not a git work tree, or
a file that cannot be read, exits 2.

How files are read: the file list comes from `git ls-files` (tracked plus untracked files that
are not ignored); YAML, JSON, TOML, HCL (python-hcl2), Dockerfiles (dockerfile-parse),
Makefiles, Markdown (markdown-it) and Python (`ast`) are parsed, each file at most once. A
file that does not parse fails the check that needed it, with the parser's line as evidence.

Hostile repositories: a symbolic link that leaves the repository, a device, a FIFO or a
socket is never opened; a file over the byte cap (256 KiB for configuration, 2 MiB for
source) is skipped; YAML over the alias, nesting-depth or size limits (a "billion laughs"
file) is refused before it is expanded; invalid UTF-8 is decoded with replacement characters;
an HCL file that does not parse is reported. Each such file is listed under "findings" in
the report with the reason, and nothing is read through it.

Evidence is judged, not searched for: a workflow counts only when it is triggered by push or
pull request of the default branch (`main` or `master`) and has a job that can run (not
`if: false` or `if: ${{{{ false }}}}`, not needing such a job, no `continue-on-error: true`).
A command counts only on a line that runs it: comments, `echo`/`printf`, quoted text, lines
ending in `|| true` and every line after `set +e` do not count, nor Make recipe lines whose
failure make ignores (`-cmd`). The evidence is the line that runs the tool. A backup script
must run a command (not only `exit`), a drill record dated after today does not count, code
owners must be real handles (not `@org/team` or `@your-username`), a Rego file must hold
rules, and a pre-commit hook whose `entry` is a no-op (`true`, `echo ...`) does not count.
CI commands are read from `.github/workflows/*.yml` and followed into what they execute, in
the directory they run in (a step's `working-directory`, else the job's or the workflow's
`defaults.run.working-directory`, then any `cd DIR` earlier in the same shell): jobs of a
called reusable workflow (`uses: ./.github/workflows/x.yml`), steps of a local composite action
(`uses: ./.github/actions/x`), `make` targets (`-C DIR`, `-f FILE`, prerequisites, recipe
lines with the Makefile's variables expanded), repository scripts, `pre-commit run`, tox
environments (`tox.ini`, `setup.cfg`, `legacy_tox_ini`; `-e` or the `envlist`; a `- cmd` whose
failure tox ignores does not count), nox sessions (`session.run(...)` of `-s` sessions and
those they notify; not with `success_codes` other than 0) and package.json scripts
(`npm test`, `npm run X`, `yarn X`, `pnpm X`, with `pre`/`post` scripts). Test runners
recognised: pytest, unittest, `go test`, jest, vitest, mocha, `node --test`. GitLab CI counts
too: the jobs of `.gitlab-ci.yml` and its `include: local` files, with `extends` resolved; a
job counts when the pipeline runs (`workflow: rules` not all `when: never`) and the job runs
on its own (not hidden, not `when: manual`/`never`, not only on tags) without
`allow_failure: true`; its `before_script` and `script` lines count, `after_script` does not.
Monorepos: a repository of two or more packages judges each package-scoped check once per
package and rolls the verdicts up (see "Monorepos" below).
Git facts come from the last {RECENT_COMMITS} non-merge commits; Conventional Commits types
are {", ".join(CONVENTIONAL_TYPES)}.
Secrets are found by detect-secrets with these detectors: {", ".join(sorted(GATES))}.
A finding does not count when it is in a test fixture (a file under `tests/`, `test/`,
`testdata/`, `fixtures/`, `__tests__/` or `spec/`, or named `test_*.py`, `*_test.py`,
`*_test.go`, `*.test.ts`, `*.spec.js`, `conftest.py`), when its value names itself a
placeholder (`EXAMPLE`, `dummy`, `fake`, `changeme`, `xxx`, `${{VAR}}`, ...), or, for a
keyword assignment (`password = "..."`), when the value does not look random (shorter than 8
characters, only words, or under 3 bits of entropy per character); the result says how many
were set aside. Suppress a reviewed false positive on its line with
`pragma: allowlist secret` in a comment (`# pragma: allowlist secret`,
`// pragma: allowlist secret`), or list it in `.secrets.baseline`
(`detect-secrets scan --baseline .secrets.baseline`); an entry audited as a real secret
(`is_secret: true`) still fails.

Output formats: `table` (default), `json` (schema version {SCHEMA_VERSION}, JSON Schema in
`src/code_engine/assess/{SCHEMA_FILE}`), `markdown` (for a pull-request comment) and `sarif`
(SARIF 2.1.0 for GitHub code scanning: one rule per check, whose `helpUri` is its section
here; one result per failing check, located at its first evidence file that exists in the
repository with a percent-encoded URI, otherwise a repository-level result with no location;
in a monorepo one result per failing package, located at the package's manifest).
`--category` takes a category id or its check prefix.
"""


_SCORECARD = """## Side by side with OpenSSF Scorecard

These checks keep the meaning of the OpenSSF Scorecard check of the same name. Scorecard gives
each a score from 0 to 10; CODE gives a verdict, and passes only what Scorecard scores 10.

| Scorecard | CODE | what passes | not applicable / unknown |
|---|---|---|---|
"""
_SCORECARD_ROWS = (  # Scorecard check, CODE check, what passes, not applicable / unknown
    (
        "Dangerous-Workflow",
        "sec.dangerous-workflow",
        "no `pull_request_target`/`workflow_run` workflow checks out the PR head; no untrusted "
        "`${{ github.event.* }}` text (issue, PR, comment, review, commit message, head ref) "
        "inside `run:`",
        "no workflows",
    ),
    (
        "Token-Permissions",
        "sec.token-permissions",
        "every workflow has top-level `permissions:` that is read-only (`read-all`, `{}`, only "
        "`read`/`none`); no job has `write-all`",
        "no workflows",
    ),
    (
        "Pinned-Dependencies",
        "sec.pinned-dependencies",
        "actions pinned to a full commit SHA, Dockerfile `FROM` by `@sha256:` digest, every line "
        "of `requirements*.txt`/`.lock` with `--hash=`, no `pip install PKG` in a workflow "
        "without hashes",
        "nothing to pin",
    ),
    (
        "Binary-Artifacts",
        "sec.binary-artifacts",
        "no tracked file with a binary suffix (`.exe`, `.so`, `.jar`, `.pyc`, `.whl`, ...; the "
        "Gradle wrapper excepted)",
        "—",
    ),
    (
        "Dependency-Update-Tool",
        "sec.dependency-update-tool",
        "`.github/dependabot.yml` with at least one `updates:` entry, or a Renovate configuration "
        "that is not disabled",
        "—",
    ),
    (
        "License",
        "scm.license",
        "a non-empty `LICENSE`/`LICENCE`/`COPYING` at the root (or `LICENSES/`); the SPDX id is "
        "named when recognised",
        "—",
    ),
    (
        "Security-Policy",
        "sec.security-policy",
        "`SECURITY.md` (root, `.github/` or `docs/`) naming a contact: an e-mail address or a URL",
        "—",
    ),
    (
        "Branch-Protection",
        "scm.branch-protection",
        "through the GitHub API: the default branch requires a pull request with an approval and "
        "blocks force pushes and deletion (branch protection or rulesets)",
        "not applicable when `origin` is not on GitHub; unknown without `--github-token` or when "
        "the API does not answer",
    ),
    (
        "Code-Review",
        "scm.code-review",
        "through the GitHub API: each of the last 30 non-merge commits came from a merged pull "
        "request approved by someone other than its author",
        "as Branch-Protection",
    ),
)


_MONOREPOS = """## Monorepos

A package is a `pyproject.toml` with a `[project]` table, a `go.mod` or a `package.json`,
outside tests, examples, docs and vendored code (`vendor/`, `node_modules/`, `testdata/`).
With two or more packages, each package-scoped check below is judged for each package, with
the package's directory as the root of its files (a file belongs to its nearest package of the
same language), while the repository's CI still counts for every package. The check passes
only when every package it applies to passes; packages it does not apply to do not count
(all of them: the check is not applicable). The result reads "2/3 packages; failing: NAME"
and names each failing package; the JSON report lists the packages (`packages`) and, per
package-scoped check, each package's verdict and evidence; the table and Markdown add a
matrix of package-scoped checks by package; SARIF reports each failing package at its
manifest. A repository with one package is judged exactly as before, as a whole.

Which CI commands run a package's tests, linters and coverage. A command counts for a
package when the tool belongs to the package's language (pytest, unittest, ruff, flake8,
pylint, mypy, pyright, coverage for Python; `go test`, `go vet`, golangci-lint, staticcheck
for Go; jest, vitest, mocha, ava, `node --test`, eslint, biome, tsc, c8, nyc for
JavaScript; `pre-commit`, `codectl ci` and other tools for any language) and one of its
targets is inside the package or is a directory above it that the tool walks into. The
targets are the command's path arguments that exist in the repository, resolved from the
directory the command runs in (`working-directory`, `defaults.run`, `cd DIR &&`, `make -C`,
the directory of the `package.json`, tox or nox file that holds it); without path arguments,
that directory itself, or for pytest run in the directory of its configuration (`pytest.ini`,
`[tool.pytest.ini_options]` in `pyproject.toml`, `[pytest]` in `tox.ini`, `[tool:pytest]` in
`setup.cfg`) the `testpaths` it lists. So `cd pkg/a && pytest` and a step with
`working-directory: pkg/a` run pkg/a's tests; a root-level `pytest` runs the tests of every
Python package below the root unless `testpaths` points elsewhere; `go test ./...` stops at
a nested `go.mod` (Go modules are separate) unless a `go.work` above it `use`s the module;
mocha and ava look only in their own `test/` directory; hadolint and actionlint lint no
package.

Not applicable per package: locking, when the manifest declares no dependency and nothing
locks it; the CI checks, when the package holds no source file of its language (tool configuration
aside); metrics,
structured logging and tracing, when it holds no application code (tests, tool
configuration such as `*.config.js`, dotfiles, `setup.py` and `noxfile.py` do not count: a
workspace root that only configures its members is not instrumented).

"""


def _scopes() -> str:
    package = [c for c in CHECKS if c.scope == "package"]
    repository = [c for c in CHECKS if c.scope == "repository"]
    lines = ["Package-scoped checks:", ""]
    lines += [f"- [`{c.id}`](#{anchor(c.id)}): {_PACKAGE_RULES[c.id]}" for c in package]
    lines += ["", "Repository-scoped checks (judged once for the whole repository):", ""]
    lines.append(", ".join(f"[`{c.id}`](#{anchor(c.id)})" for c in repository) + ".")
    lines += ["", "Why some checks that might look per package are repository-scoped:", ""]
    lines += [f"- {text}" for text in _REPOSITORY_RULES]
    return "\n".join(lines) + "\n"


_PACKAGE_RULES = {
    "dev.dependencies": "the package's manifest parses and names the package (and, for "
    "`go.mod`, its module).",
    "dev.locked-dependencies": "a lock file beside the manifest or, for a Python or JavaScript "
    "workspace, in a directory above it; for Python also a fully pinned requirements file "
    "beside it.",
    "ci.tests": "a CI test command reaches the package (rule above).",
    "ci.quality-jobs": "a lint and a test command reach the package; the security and build "
    "jobs count for the whole repository (a scanner or an image build covers the tree).",
    "ci.coverage": "a coverage command reaches the package.",
    "obs.metrics": "the package's own application code imports a metrics library of its language.",
    "obs.structured-logging": "the package's own application code imports a structured "
    "logging library of its language.",
    "obs.tracing": "the package's own application code imports a tracing library or vendor "
    "SDK of its language.",
}
_REPOSITORY_RULES = (
    "`dev.pre-commit`, `dev.pre-commit-coverage`: pre-commit has one configuration per "
    "repository; whether each package is linted is judged by `ci.quality-jobs` per package.",
    "`ci.dependency-scan`, `ci.sast`: the scanners (`pip-audit`, `osv-scanner`, `trivy fs`, "
    "`bandit -r`, CodeQL) are run over the repository.",
    "`ctr.*`: every Dockerfile in the repository is already judged, one by one; a package is "
    "not necessarily a service (a library ships no image), so no Dockerfile is required per "
    "package.",
    "a health endpoint: no check judges one today.",
)


def _scorecard_table() -> str:
    rows = [
        f"| {name} | [`{check}`](#{anchor(check)}) | {passes} | {other} |"
        for name, check, passes, other in _SCORECARD_ROWS
    ]
    return _SCORECARD + "\n".join(rows) + "\n"


def anchor(check_id: str) -> str:
    """The HTML anchor of a check's section (`ci.tests` -> `ci-tests`)."""
    return check_id.replace(".", "-")


def render_docs() -> str:
    prefixes = {category: prefix for prefix, category in PREFIXES.items()}
    parts = [_INTRO, _MONOREPOS + _scopes(), _scorecard_table()]
    for category in Category:
        checks = checks_of(category)
        parts.append(f"## {category.label} (`{category.value}`, prefix `{prefixes[category]}`)\n")
        parts.append("| id | level | check |\n|---|---|---|")
        parts.extend(f"| `{c.id}` | {c.level} | {c.title} |" for c in checks)
        parts.append("")
        for check in checks:
            parts.append(f'<a id="{anchor(check.id)}"></a>\n')
            parts.append(f"### `{check.id}` — level {check.level}\n")
            parts.append(f"**{check.title}.** {check.why}\n")
            if check.scope == "package":
                parts.append("Judged per package in a monorepo ([Monorepos](#monorepos)).\n")
            parts.append(f"How to fix (`{check.target}`): {check.fix}\n")
    return "\n".join(parts).rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover - the generator's command line
    import sys

    sys.stdout.write(render_docs())
