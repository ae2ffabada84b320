"""`docs/assess-checks.md`, generated from the check registry (a test keeps the two equal)."""

from __future__ import annotations

from code_engine.assess.gitfacts import CONVENTIONAL_TYPES, RECENT_COMMITS
from code_engine.assess.model import MAX_LEVEL, Category
from code_engine.assess.registry import PREFIXES, checks_of
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
Monorepos: every package (a `pyproject.toml` with `[project]`, a `go.mod`, a `package.json`
outside tests and examples) is checked for its lock file, and `dev.locked-dependencies`
passes only when each one is locked; the evidence lists each package.
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
repository with a percent-encoded URI, otherwise a repository-level result with no location).
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
    parts = [_INTRO, _scorecard_table()]
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
            parts.append(f"How to fix (`{check.target}`): {check.fix}\n")
    return "\n".join(parts).rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover - the generator's command line
    import sys

    sys.stdout.write(render_docs())
