"""Whether a file does something: live shell lines, runnable workflows, real owners and rules.

A file that exists but does nothing must not pass a check: a step whose failure is ignored,
an echoed or quoted tool name, a disabled job, a backup script that only exits, a
placeholder owner, a policy without rules, a hook whose entry is a no-op.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

# the failure of the line is thrown away: it cannot fail the build
_IGNORED = re.compile(r"\|\|\s*(?:true|:|exit(?:\s+0)?|echo\b|printf\b)\s*(?:$|[;&|#])")
_QUOTED = re.compile(r"'[^']*'|\"(?:\\.|[^\"\\])*\"")
_SEGMENT = re.compile(r"&&|;|\|\||\|")
_NO_OP = frozenset({"echo", "printf", ":", "true", "exit", "cat", "set", "export", "cd", "#"})
_DISABLED = re.compile(r"^\s*(?:false|\$\{\{\s*false\s*\}\})\s*$", re.IGNORECASE)
PUSH_OR_PR = frozenset({"push", "pull_request", "pull_request_target"})
DEFAULT_BRANCHES = ("main", "master")


def live_lines(text: str, first_line: int) -> Iterator[tuple[int, str]]:
    """The shell lines of `text` that run something whose failure counts, quotes blanked.

    `first_line` is the file line of the text's first line. Comments, `echo`/`printf` and
    other no-ops are dropped, so are lines whose failure is ignored (`|| true`) and every
    line after `set +e`.
    """
    for offset, raw in enumerate(text.splitlines()):
        line = raw.strip()
        if re.match(r"^set\s+[-+]\w*\+e|^set\s+\+\w*e", line) or line == "set +e":
            return
        cleaned = live_command(line)
        if cleaned:
            yield first_line + offset, cleaned


def live_command(line: str) -> str | None:
    """One shell line with quoted text blanked and no-op segments dropped; None if nothing runs."""
    if not line or line.startswith("#") or _IGNORED.search(line):
        return None
    if line.startswith("-") and not line.startswith("--"):
        return None  # a make recipe line whose failure make ignores
    blanked = _QUOTED.sub("''", line.lstrip("@").split(" #", 1)[0])
    kept = [s.strip() for s in _SEGMENT.split(blanked) if _runs(s)]
    return " && ".join(kept) or None


def _runs(segment: str) -> bool:
    words = segment.split()
    if not words:
        return False
    first = words[0]
    while "=" in first and len(words) > 1 and not first.startswith("-"):
        words = words[1:]  # VAR=value command
        first = words[0]
    return first not in _NO_OP and not first.startswith("#")


def script_does_something(text: str) -> bool:
    """Whether a script has a line that runs a command (not only a shebang, `set`, `exit`)."""
    return any(True for _ in live_lines(text, 1))


def disabled(condition: Any) -> bool:
    """Whether an `if:` condition can never be true (`false`, `${{ false }}`)."""
    return condition is False or (isinstance(condition, str) and bool(_DISABLED.match(condition)))


def failure_ignored(node: Any) -> bool:
    """`continue-on-error: true` on a step or job."""
    value = node.get("continue-on-error") if isinstance(node, dict) else None
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def runs_on_default_branch(on: Any) -> bool:
    """Whether the `on:` value triggers on push or pull request of the default branch."""
    if isinstance(on, str):
        return on in PUSH_OR_PR
    if isinstance(on, list):
        return any(str(t) in PUSH_OR_PR for t in on)
    if not isinstance(on, dict):
        return False
    return any(str(event) in PUSH_OR_PR and _branch_allowed(spec) for event, spec in on.items())


def _branch_allowed(spec: Any) -> bool:
    if not isinstance(spec, dict):
        return True
    branches = spec.get("branches")
    ignored = spec.get("branches-ignore")
    if isinstance(branches, list):
        return any(_matches(str(b), name) for b in branches for name in DEFAULT_BRANCHES)
    if isinstance(ignored, list):
        return not all(any(_matches(str(b), name) for b in ignored) for name in DEFAULT_BRANCHES)
    if isinstance(spec.get("tags"), list) and branches is None:
        return False  # tags only
    return True


def _matches(pattern: str, branch: str) -> bool:
    if pattern.startswith("!"):
        return False
    regex = re.escape(pattern).replace(r"\*\*", ".*").replace(r"\*", "[^/]*")
    return re.fullmatch(regex, branch) is not None


def disabled_jobs(jobs: dict[str, Any]) -> set[str]:
    """Jobs that never run: `if: false`, or needing (transitively) a job that never runs."""
    off = {name for name, job in jobs.items() if isinstance(job, dict) and disabled(job.get("if"))}
    changed = True
    while changed:
        changed = False
        for name, job in jobs.items():
            if name in off or not isinstance(job, dict):
                continue
            needs = job.get("needs")
            needed = [needs] if isinstance(needs, str) else needs if isinstance(needs, list) else []
            if any(str(n) in off for n in needed):
                off.add(name)
                changed = True
    return off


_PLACEHOLDER_OWNERS = re.compile(
    r"^@(?:user(?:name)?|owner|owners|org|team|org/team|organi[sz]ation(?:/team)?|someone|"
    r"nobody|todo|tbd|fixme|changeme|example(?:/\S*)?|octocat|your[-_\w]*(?:/\S*)?|"
    r"[\w-]+/your[-_\w]*|my[-_]?(?:org|team|user)(?:/\S*)?)$"
    r"|@example\.(?:com|org|net)$|^<.*>$",
    re.IGNORECASE,
)


def placeholder_owner(owner: str) -> bool:
    """Whether a code owner is a template placeholder (`@org/team`, `@your-username`, ...)."""
    return bool(_PLACEHOLDER_OWNERS.search(owner))


_REGO_RULE = re.compile(
    r"^(?:default\s+)?[A-Za-z_][\w.]*(?:\[[^\]\n]*\])?(?:\s+contains\s+[^\n{]+?)?\s*"
    r"(?:if\b|:=|=|\{)",
    re.MULTILINE,
)
_REGO_KEYWORDS = ("package", "import")


def rego_rules(text: str) -> list[int]:
    """Lines where a Rego rule starts (package and import lines are not rules)."""
    lines: list[int] = []
    for match in _REGO_RULE.finditer(text):
        if match.group(0).split()[0] in _REGO_KEYWORDS:
            continue
        lines.append(text.count("\n", 0, match.start()) + 1)
    return lines


def hook_runs(hook: Any) -> bool:
    """Whether a pre-commit hook runs a tool: its `entry`, when it has one, is not a no-op."""
    if not isinstance(hook, dict):
        return False
    if str(hook.get("language", "")) == "fail":
        return True  # forbids files by design
    entry = hook.get("entry")
    if entry is None:
        return True  # a hook from a hook repository runs that repository's entry
    return live_command(str(entry)) is not None


def hook_text(hook: Any) -> str:
    """What identifies a hook's tool (id, name, entry); empty when the hook runs nothing."""
    if not hook_runs(hook):
        return ""
    keys: Iterable[str] = ("id", "name", "entry")
    return " ".join(str(hook.get(k, "")) for k in keys)
