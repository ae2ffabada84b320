"""`codectl policy eval|test`: what the policies would decide, and their Rego unit tests."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from code_engine.cli.client import ApiClient
from code_engine.cli.deploy_cmd import SERVICE, SPEC, service_name
from code_engine.cli.options import SERVER
from code_engine.cli.output import OutputFormat, console, print_json, render_rows
from code_engine.errors import CheckFailedError
from code_engine.policy.unittests import run

policy_app = typer.Typer(help="Policies: evaluate a decision, run the Rego unit tests.")
OUTPUT = typer.Option(OutputFormat.table, "--output", "-o", help="table or json.")


@policy_app.command("eval")
def evaluate(
    action: Annotated[
        str,
        typer.Option(
            "--action", "-a", help="deploy, promote, rollback, abort, approve or create_release."
        ),
    ] = "deploy",
    env: Annotated[str | None, typer.Option("--env", "-e", help="Environment.")] = None,
    version: Annotated[
        str | None, typer.Option("--version", "-v", help="Release [default: latest].")
    ] = None,
    service: str | None = SERVICE,
    spec: Path = SPEC,
    server: str | None = SERVER,
    output: OutputFormat = OUTPUT,
) -> None:
    """Show the input document and the decision, without acting (exit 1 when refused)."""
    body = {"service": service_name(service, spec), "action": action, "environment": env}
    if version:
        body["version"] = version
    decision: dict[str, Any] = ApiClient(server).post("/api/v1/policy/evaluate", body)
    if output is OutputFormat.json:
        print_json(decision)
    else:
        print_json(decision["input"])
        rows = [
            {
                "policy": p["policy"],
                "query": p["query"],
                "result": "error" if p["error"] else ("deny" if p["messages"] else "allow"),
                "messages": "\n".join([*p["messages"], *([p["error"]] if p["error"] else [])]),
            }
            for p in decision["policies"]
        ]
        render_rows(rows, ["policy", "query", "result", "messages"], output)
        verdict = "allowed" if decision["allowed"] else "refused"
        took, digest = decision["duration_ms"], decision["input_hash"][:12]
        console().print(f"{action}: {verdict} ({took} ms, input {digest})")
    if not decision["allowed"]:
        raise typer.Exit(1)


@policy_app.command("test")
def test(
    directories: Annotated[
        list[Path] | None, typer.Argument(help="Directories [default: policies].")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print every test.")] = False,
    output: OutputFormat = OUTPUT,
) -> None:
    """Run the Rego unit tests (`test_*` rules) like `opa test` (exit 1 on a failure)."""
    results = [r for d in directories or [Path("policies")] for r in run([d])]
    failed = [r for r in results if not r.passed]
    if output is OutputFormat.json:
        print_json(
            [
                {
                    "name": r.name,
                    "passed": r.passed,
                    "duration_ms": r.duration_ms,
                    "detail": r.detail,
                }
                for r in results
            ]
        )
    else:
        for result in results:
            if verbose or not result.passed:
                status = "PASS" if result.passed else "FAIL"
                detail = f" ({result.detail})" if result.detail else ""
                typer.echo(f"{result.name}: {status} ({result.duration_ms:.3f}ms){detail}")
        typer.echo("-" * 80)
        typer.echo(f"PASS: {len(results) - len(failed)}/{len(results)}")
        if failed:
            typer.echo(f"FAIL: {len(failed)}/{len(results)}")
    if failed or not results:
        raise CheckFailedError(
            "no Rego test rules found" if not results else f"{len(failed)} Rego test(s) failed"
        )


def register(app: typer.Typer) -> None:
    app.add_typer(policy_app, name="policy")
