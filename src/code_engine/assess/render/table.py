"""The report as a Rich table grouped by category, with a level bar and failing checks first."""

from __future__ import annotations

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from code_engine.assess.model import MAX_LEVEL, Report, Status
from code_engine.assess.render import MATRIX_PACKAGES, failing_first, level_bar, package_matrix

_MARK = {
    Status.PASS: ("✔ pass", "green"),
    Status.FAIL: ("✘ fail", "red"),
    Status.NOT_APPLICABLE: ("- n/a", "dim"),
    Status.UNKNOWN: ("? unknown", "yellow"),
}


def render_table(report: Report) -> Group:
    """A renderable: a header with the repository level, then one table per category."""
    header = Text.assemble(
        ("DevOps maturity ", "bold"),
        (f"Level {report.level}/{MAX_LEVEL} ", "bold cyan"),
        (level_bar(report.level), "cyan"),
        f"  {report.path}  ",
        (_counts(report), "dim"),
    )
    parts: list[Text | Table] = [header]
    for category in report.categories:
        table = Table(
            title=f"{category.category.label}  {level_bar(category.level)}  "
            f"level {category.level}/{MAX_LEVEL}",
            title_justify="left",
            expand=True,
        )
        table.add_column("status", no_wrap=True)
        table.add_column("check", no_wrap=True)
        table.add_column("L", justify="right")
        table.add_column("result")
        for result in failing_first(category.results):
            mark, style = _MARK[result.status]
            detail = Text(result.message)
            for evidence in result.evidence[:3]:
                detail.append(f"\n  {evidence.render()}", style="dim")
            if result.status is Status.FAIL:
                detail.append(f"\n  fix: {result.remediation}", style="yellow")
            table.add_row(Text(mark, style=style), result.id, str(result.level), detail)
        parts.append(table)
    if any(r.packages for r in report.results):
        parts.append(_packages(report))
    if report.findings:
        notes = Text(f"Files not read ({len(report.findings)})", style="bold yellow")
        for finding in report.findings:
            notes.append(f"\n  {finding.render()}", style="yellow")
        parts.append(notes)
    return Group(*parts)


def _packages(report: Report) -> Table:
    """Monorepo: each package-scoped check's verdict per package; past `MATRIX_PACKAGES`
    packages, one line a check with its count and failing packages instead of a matrix."""
    names, rows = package_matrix(report)
    title = f"Packages ({len(names)}): package-scoped checks"
    table = Table(title=title, title_justify="left")
    table.add_column("check", no_wrap=True)
    if len(names) > MATRIX_PACKAGES:
        table.add_column("packages")
        for result, _ in rows:
            mark, style = _MARK[result.status]
            table.add_row(result.id, Text(f"{mark.split()[0]} {result.message}", style=style))
        return table
    for name in names:
        table.add_column(name, no_wrap=True)
    for result, statuses in rows:
        cells = [
            Text(_MARK[s][0].split()[0], style=_MARK[s][1]) if s else Text("") for s in statuses
        ]
        table.add_row(result.id, *cells)
    return table


def _counts(report: Report) -> str:
    statuses = [r.status for r in report.results]
    return ", ".join(f"{statuses.count(s)} {s.value}" for s in _MARK)


def print_table(report: Report, console: Console) -> None:
    console.print(render_table(report))
