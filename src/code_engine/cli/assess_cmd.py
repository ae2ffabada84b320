"""`codectl assess`: a repository's DevOps maturity level, with evidence and fixes."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path

import typer

from code_engine.assess import assess_repository, report_to_dict
from code_engine.assess.model import MAX_LEVEL, Category
from code_engine.assess.registry import category_named
from code_engine.assess.render.markdown import render_markdown
from code_engine.assess.render.sarif import report_to_sarif
from code_engine.assess.render.table import print_table
from code_engine.cli.output import console, print_json
from code_engine.errors import CheckFailedError, UserError


class AssessOutput(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"
    sarif = "sarif"


def register(app: typer.Typer) -> None:
    """Add the `assess` command."""
    app.command("assess")(assess)


def assess(
    path: Path = typer.Argument(Path(), help="The repository (a git work tree) to assess."),
    output: AssessOutput = typer.Option(
        AssessOutput.table, "--output", "-o", help="table, json, markdown or sarif."
    ),
    fail_under: int | None = typer.Option(
        None, "--fail-under", min=0, max=MAX_LEVEL, help="Exit 1 when the level is below this."
    ),
    category: list[str] = typer.Option(
        [], "--category", "-c", help="Only this category (id or prefix, e.g. security or sec)."
    ),
) -> None:
    """Measure the repository's DevOps maturity (Level 0-3) across the nine categories."""
    report = assess_repository(path, categories=_categories(category) or None)
    if output is AssessOutput.json:
        print_json(report_to_dict(report))
    elif output is AssessOutput.sarif:
        sys.stdout.write(json.dumps(report_to_sarif(report), indent=2) + "\n")
    elif output is AssessOutput.markdown:
        sys.stdout.write(render_markdown(report))
    else:
        print_table(report, console())
    if fail_under is not None and report.level < fail_under:
        raise CheckFailedError(f"maturity level {report.level} is below --fail-under {fail_under}")


def _categories(names: list[str]) -> list[Category]:
    chosen: list[Category] = []
    for name in names:
        found = category_named(name)
        if found is None:
            valid = ", ".join(c.value for c in Category)
            raise UserError(f"--category {name}: unknown category (one of: {valid})")
        chosen.append(found)
    return chosen
