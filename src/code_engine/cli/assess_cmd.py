"""`codectl assess`: a repository's DevOps maturity level, with evidence and fixes."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from enum import Enum
from pathlib import Path

import typer

from code_engine.assess import assess_repository, report_to_dict
from code_engine.assess.hosting import DEFAULT_API, HttpGitHub
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
    report_to: str | None = typer.Option(
        None, "--report-to", metavar="URL", help="Store the report on this CODE server."
    ),
    record: bool = typer.Option(
        False, "--record", help="Store the report on the server of `codectl login`."
    ),
    service: str | None = typer.Option(
        None, "--service", help="Service to store it under [default: from code.yaml]."
    ),
    github_token: str | None = typer.Option(
        None,
        "--github-token",
        envvar="GITHUB_TOKEN",
        show_envvar=True,
        help="Read branch protection and code review from the GitHub API [default: unknown].",
    ),
    github_api: str = typer.Option(
        DEFAULT_API, "--github-api", envvar="GITHUB_API_URL", help="GitHub (Enterprise) API URL."
    ),
) -> None:
    """Measure the repository's DevOps maturity (Level 0-3) across the nine categories."""
    github = HttpGitHub(github_token, github_api) if github_token else None
    try:
        report = assess_repository(
            path,
            categories=_categories(category) or None,
            drills=recorded_drills(),
            github=github,
        )
    finally:
        if github is not None:
            github.close()
    if output is AssessOutput.json:
        print_json(report_to_dict(report))
    elif output is AssessOutput.sarif:
        sys.stdout.write(json.dumps(report_to_sarif(report), indent=2) + "\n")
    elif output is AssessOutput.markdown:
        sys.stdout.write(render_markdown(report))
    else:
        print_table(report, console())
    if report_to or record:
        stored = _store(report_to, service or _service_name(path), report_to_dict(report))
        console(stderr=True).print(
            f"recorded assessment {stored['id']} (level {stored['level']}) for "
            f"{service or _service_name(path)}"
        )
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


def _service_name(path: Path) -> str:
    """The service named by the repository's code.yaml, else the directory name."""
    from code_engine.spec import load_spec

    spec_file = path / "code.yaml"
    if spec_file.is_file():
        return load_spec(spec_file).service
    return path.resolve().name


def _store(server: str | None, service: str, report: dict[str, object]) -> dict[str, object]:
    from code_engine.cli.client import ApiClient

    stored: dict[str, object] = ApiClient(server).post(
        f"/api/v1/services/{service}/assessments", report
    )
    return stored


def recorded_drills() -> list[datetime] | None:
    """Passed drills in this engine's database; None when it keeps no DR records (yet)."""
    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url

    from code_engine.cli.context import load_settings, open_database
    from code_engine.clock import utc_now
    from code_engine.dr.records import passed_drill_times

    settings = load_settings()
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        return None
    try:
        db = open_database(settings, migrate=False)
    except Exception:  # noqa: BLE001 - no reachable database: assess from the files alone
        return None
    try:
        if not inspect(db.engine).has_table("dr_drills"):
            return None
        with db.session() as session:
            return list(passed_drill_times(session, utc_now()))
    except Exception:  # noqa: BLE001 - an unreachable database is no evidence either way
        return None
    finally:
        db.dispose()
