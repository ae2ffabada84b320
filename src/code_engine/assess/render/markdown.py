"""The report as Markdown for a pull-request comment or a CI job summary."""

from __future__ import annotations

from code_engine.assess.model import MAX_LEVEL, CheckResult, Report, Status
from code_engine.assess.render import MATRIX_PACKAGES, level_bar, package_matrix

_ICON = {Status.PASS: "✅", Status.FAIL: "❌", Status.NOT_APPLICABLE: "➖", Status.UNKNOWN: "❔"}


def render_markdown(report: Report) -> str:
    bar = level_bar(report.level, "🟩", "⬜")
    lines = [
        f"## DevOps maturity: Level {report.level} / {MAX_LEVEL} {bar}",
        "",
        ", ".join(f"{_count(report, s)} {s.value}" for s in _ICON),
        "",
        "| Category | Level | Failing checks |",
        "|---|---|---|",
    ]
    for category in report.categories:
        failing = ", ".join(f"`{r.id}`" for r in category.failing) or "—"
        bar = level_bar(category.level, "🟩", "⬜")
        lines.append(f"| {category.category.label} | {bar} {category.level} | {failing} |")
    failing_results = [r for r in report.results if r.status is Status.FAIL]
    if failing_results:
        lines += ["", f"### Failing checks ({len(failing_results)})", ""]
        lines += [_item(r) for r in sorted(failing_results, key=lambda r: r.level)]
    passing = [r for r in report.results if r.status is not Status.FAIL]
    if passing:
        lines += ["", f"<details><summary>Passing checks ({len(passing)})</summary>", ""]
        lines += [f"- {_ICON[r.status]} `{r.id}` {_escape(r.title)}" for r in passing]
        lines += ["", "</details>"]
    if any(r.packages for r in report.results):
        lines += _packages(report)
    if report.findings:
        lines += ["", f"### Files not read ({len(report.findings)})", ""]
        lines += [f"- `{_escape(f.render())}`" for f in report.findings]
    commit = f" at `{report.commit[:12]}`" if report.commit else ""
    lines += [
        "",
        f"<sub>codectl assess{commit}, {report.generated_at:%Y-%m-%d %H:%M} UTC</sub>",
        "",
    ]
    return "\n".join(lines)


def _packages(report: Report) -> list[str]:
    """Monorepo: each package-scoped check's verdict per package."""
    names, rows = package_matrix(report)
    lines = ["", f"### Packages ({len(names)})", ""]
    if len(names) > MATRIX_PACKAGES:
        lines += ["| Check | Packages |", "|---|---|"]
        lines += [f"| `{r.id}` | {_ICON[r.status]} {_escape(r.message)} |" for r, _ in rows]
        return lines
    lines.append("| Check | " + " | ".join(f"`{_escape(n)}`" for n in names) + " |")
    lines.append("|---|" + "---|" * len(names))
    for result, statuses in rows:
        cells = " | ".join(_ICON[s] if s else "" for s in statuses)
        lines.append(f"| `{result.id}` | {cells} |")
    return lines


def _count(report: Report, status: Status) -> int:
    return sum(1 for r in report.results if r.status is status)


def _item(result: CheckResult) -> str:
    text = f"- ❌ **`{result.id}`** (level {result.level}) {_escape(result.title)}: "
    text += _escape(result.message)
    for evidence in result.evidence[:3]:
        text += (
            f"\n  - `{evidence.render()}`" if evidence.file else f"\n  - {_escape(evidence.note)}"
        )
    return text + f"\n  - **Fix:** {result.remediation}"


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;")
