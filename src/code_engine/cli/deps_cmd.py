"""`codectl deps scan`: pinned packages against an OSV advisory database."""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import typer

from code_engine.cli.output import OutputFormat, console, print_json, render_rows
from code_engine.errors import CheckFailedError, UserError
from code_engine.pipeline.lockfile import Pin, environment_pins, read_lock
from code_engine.pipeline.osv import ScanReport, scan
from code_engine.pipeline.osv_db import OSV_API, AdvisorySource, LocalDatabase, OsvDevClient

deps_app = typer.Typer(help="Dependencies: vulnerability scan against OSV advisories.")
COLUMNS = ("package", "version", "id", "severity", "fixed", "aliases")


@deps_app.command("scan")
def scan_command(
    lock: Path = typer.Option(
        None,
        "--lock",
        help="Lock file: requirements*.txt/.lock pins, uv.lock or poetry.lock.",
    ),
    environment: bool = typer.Option(
        False, "--environment", help="Scan the packages installed in this interpreter."
    ),
    osv_db: Path = typer.Option(
        None,
        "--osv-db",
        help="Local OSV database (vulns/<package>/*.yaml|json); without it, osv.dev.",
    ),
    osv_api: str = typer.Option(
        OSV_API, "--osv-api", envvar="CODE_OSV_API", help="osv.dev API, used without --osv-db."
    ),
    ignore: list[str] = typer.Option(
        [], "--ignore", help="Advisory id or alias reviewed and accepted (repeatable)."
    ),
    report: Path = typer.Option(None, "--report", help="Also write the JSON report here."),
    output: OutputFormat = typer.Option(
        OutputFormat.table, "--output", "-o", help="table or json."
    ),
) -> None:
    """Match every pinned package against OSV advisories (ECOSYSTEM ranges and version
    lists, severity from CVSS v3). Exit 1 when a vulnerability is found, 2 when no
    database can be read."""
    pins = _pins(lock, environment)
    source: AdvisorySource = LocalDatabase(osv_db) if osv_db else OsvDevClient(osv_api)
    quiet = output is OutputFormat.json
    status = console(stderr=True).status(
        f"matching {len(pins)} packages against {osv_db or osv_api}", spinner="dots"
    )
    with nullcontext() if quiet else status:
        advisories, database = source.lookup(pins)
    result = scan(pins, advisories, database, ignore)
    if report is not None:
        try:
            write_report(report, result.to_dict())
        except OSError as exc:
            raise UserError(f"--report {report}: cannot write the report: {exc}") from exc
    if quiet:
        print_json(result.to_dict())
    else:
        _render(result, output)
    if result.findings:
        counts = ", ".join(f"{n} {s}" for s, n in result.counts().items() if n)
        raise CheckFailedError(f"{len(result.findings)} known vulnerabilities ({counts})")


def _pins(lock: Path | None, environment: bool) -> list[Pin]:
    if (lock is None) == (not environment):
        raise UserError("give either --lock FILE or --environment")
    return environment_pins() if environment else read_lock(lock)  # type: ignore[arg-type]


def _render(result: ScanReport, output: OutputFormat) -> None:
    rows = [
        {**f.to_dict(), "fixed": ", ".join(f.fixed) or "-", "aliases": ", ".join(f.aliases)}
        for f in result.findings
    ]
    db = result.database
    if rows:
        render_rows(rows, COLUMNS, output, title="known vulnerabilities")
    console().print(
        f"scanned {result.scanned} packages against {db.path} "
        f"({db.advisories} advisories, newest {db.modified or 'unknown'}): "
        f"{len(result.findings)} vulnerabilities",
        highlight=False,
    )


def write_report(path: Path, data: dict[str, Any]) -> None:
    """Write the report whole or not at all (a temporary file renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def register(app: typer.Typer) -> None:
    """Add the `deps` group."""
    app.add_typer(deps_app, name="deps")
