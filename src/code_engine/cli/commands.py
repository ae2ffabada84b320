"""The list of command groups of `codectl`."""

from __future__ import annotations

import typer

from code_engine.cli import (
    assess_cmd,
    auth_cmd,
    ci_cmd,
    deploy_cmd,
    deps_cmd,
    dora_cmd,
    dr_cmd,
    load_cmd,
    logs_cmd,
    policy_cmd,
    release_cmd,
    render_cmd,
    resources_cmd,
    restart_cmd,
    server_cmd,
    spec_cmd,
    worker_cmd,
)


def register(app: typer.Typer) -> None:
    """Add every command group to the application, in help order."""
    for module in (
        server_cmd,
        worker_cmd,
        auth_cmd,
        resources_cmd,
        spec_cmd,
        release_cmd,
        deploy_cmd,
        restart_cmd,
        render_cmd,
        load_cmd,
        logs_cmd,
        assess_cmd,
        ci_cmd,
        dora_cmd,
        dr_cmd,
        deps_cmd,
        policy_cmd,
    ):
        module.register(app)
