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
passes (a not-applicable check counts as met); the repository's level is its lowest category
level. `--fail-under LEVEL` exits 1 below that level; a path that is not a git work tree, or
a file that cannot be read, exits 2.

How files are read: the file list comes from `git ls-files` (tracked plus untracked files that
are not ignored); YAML, JSON, TOML, HCL (python-hcl2), Dockerfiles (dockerfile-parse),
Makefiles, Markdown (markdown-it) and Python (`ast`) are parsed, each file at most once. A
file that does not parse fails the check that needed it, with the parser's line as evidence.
CI commands are read from `.github/workflows/*.yml`, following `make` targets, repository
scripts and `pre-commit run` into what they execute. Git facts come from the last
{RECENT_COMMITS} non-merge commits; Conventional Commits types are {", ".join(CONVENTIONAL_TYPES)}.
Secrets are found by detect-secrets with these detectors: {", ".join(sorted(GATES))}.

Output formats: `table` (default), `json` (schema version {SCHEMA_VERSION}, JSON Schema in
`src/code_engine/assess/{SCHEMA_FILE}`), `markdown` (for a pull-request comment) and `sarif`
(SARIF 2.1.0 for GitHub code scanning: one rule per check, one result per failing check).
`--category` takes a category id or its check prefix.
"""


def render_docs() -> str:
    prefixes = {category: prefix for prefix, category in PREFIXES.items()}
    parts = [_INTRO]
    for category in Category:
        checks = checks_of(category)
        parts.append(f"## {category.label} (`{category.value}`, prefix `{prefixes[category]}`)\n")
        parts.append("| id | level | check |\n|---|---|---|")
        parts.extend(f"| `{c.id}` | {c.level} | {c.title} |" for c in checks)
        parts.append("")
        for check in checks:
            parts.append(f"### `{check.id}` — level {check.level}\n")
            parts.append(f"**{check.title}.** {check.why}\n")
            parts.append(f"How to fix (`{check.target}`): {check.fix}\n")
    return "\n".join(parts).rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover - the generator's command line
    import sys

    sys.stdout.write(render_docs())
