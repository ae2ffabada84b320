"""`codectl validate` and `codectl schema`: check a code.yaml, print its JSON Schema."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from code_engine.cli.output import OutputFormat, print_json, render_rows
from code_engine.errors import InvalidFileError
from code_engine.secrets.plaintext import find_plain_secrets
from code_engine.spec import (
    SPEC_FILENAME,
    CanaryStrategy,
    Environment,
    LocalTarget,
    ServiceSpec,
    SetWeightStep,
    Strategy,
    json_schema,
    load_spec,
    locate_in_file,
)


class SpecProblemsError(InvalidFileError):
    """An invalid spec whose problems are already printed; the error line only sums them up."""

    def __str__(self) -> str:
        count = len(self.problems)
        file = self.problems[0].file if self.problems else SPEC_FILENAME
        # the CLI boundary prints this through Rich markup, where `[` starts a tag
        return f"{file} is not valid: {count} problem{'' if count == 1 else 's'}"


def validate(
    file: Annotated[str, typer.Argument(metavar="FILE", help="The spec to check.")] = SPEC_FILENAME,
    output: Annotated[
        OutputFormat, typer.Option("--output", "-o", help="Output format.")
    ] = OutputFormat.table,
) -> None:
    """Check a code.yaml; print each problem as FILE:LINE:COLUMN: FIELD: MESSAGE (exit 2).

    A plain `env:` value that looks like a secret is a problem too: move it to `secrets:`."""
    try:
        spec = load_spec(file)
        plain = [locate_in_file(file, p.field, p.advice) for p in find_plain_secrets(spec)]
        if plain:  # committed with code.yaml: refused like any other invalid field
            raise InvalidFileError(problems=plain)
    except InvalidFileError as exc:
        if output is OutputFormat.json:
            problems = [asdict(problem) for problem in exc.problems]
            print_json({"file": file, "valid": False, "problems": problems})
        else:
            for problem in exc.problems:
                typer.echo(problem.render(), err=True)
        raise SpecProblemsError(problems=exc.problems) from exc
    check_policies(spec, Path(file).parent)
    rows = [_environment_row(spec, environment) for environment in spec.environments]
    if output is OutputFormat.json:
        print_json({"file": file, "valid": True, "service": spec.service, "environments": rows})
        return
    typer.echo(f"{file}: valid spec of service {spec.service}")
    render_rows(rows, ["environment", "target", "strategy", "protection"], output)


def check_policies(spec: ServiceSpec, root: Path) -> None:
    """The `policies:` files must load: PolicyLoadError names each problem's file:line."""
    if not spec.policies:
        return  # the Rego engine is not even imported: `validate` stays light
    from code_engine.policy.sources import check_sets, from_directory

    check_sets(from_directory(root / b.path, b.query, "service") for b in spec.policies)


def schema() -> None:
    """Print the JSON Schema (draft 2020-12) of code.yaml."""
    print_json(json_schema())


def register(app: typer.Typer) -> None:
    """Add `validate` and `schema` to the application."""
    app.command("validate")(validate)
    app.command("schema")(schema)


def _environment_row(spec: ServiceSpec, environment: Environment) -> dict[str, Any]:
    target = environment.target
    if isinstance(target, LocalTarget):
        where = f"local, {target.instances} instance{'' if target.instances == 1 else 's'}"
    else:
        where = f"kubernetes {target.namespace}"
    rules = environment.protection
    protection = [
        *(["requires previous"] if rules.requires_previous else []),
        *(["approval"] if rules.approval else []),
        *(["requires pipeline"] if environment.requires_pipeline else []),
        *([f"deployers: {', '.join(rules.deployers)}"] if rules.deployers else []),
    ]
    return {
        "environment": environment.name,
        "target": where,
        "strategy": _strategy_text(spec.strategy_for(environment.name)),
        "protection": "; ".join(protection) or "-",
    }


def _strategy_text(strategy: Strategy) -> str:
    if not isinstance(strategy, CanaryStrategy):
        return strategy.kind
    weights = [step.set_weight for step in strategy.steps if isinstance(step, SetWeightStep)]
    return "canary " + ", ".join(f"{weight}%" for weight in [*weights, 100])
