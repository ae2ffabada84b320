"""`codectl dr`: back up, list, verify, restore, drill and prune (see docs/dr.md).

Exit codes: 0 ok · 1 a verification, check or drill failed · 2 bad input (key, date, id,
source, target) · 3 the environment failed (store unreachable, disk full, a tool) · 130.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import date, datetime
from pathlib import Path
from typing import Any

import typer

from code_engine.cli.context import DatabaseOpening, load_settings, open_database
from code_engine.cli.output import OutputFormat, console, print_json, render_rows
from code_engine.dr import DrContext, load_config, service
from code_engine.dr import drill as run_drill
from code_engine.dr.drill import require_passed
from code_engine.dr.keys import generate_key_file
from code_engine.dr.prune import prune as run_prune
from code_engine.errors import UserError

dr_app = typer.Typer(help="Disaster recovery: backups, restores, drills (docs/dr.md).")
key_app = typer.Typer(help="The backup encryption key.")
dr_app.add_typer(key_app, name="key")
pitr_app = typer.Typer(help="Point-in-time recovery of PostgreSQL sources through pgBackRest.")
dr_app.add_typer(pitr_app, name="pitr")
OUTPUT = typer.Option(OutputFormat.table, "--output", "-o", help="table or json.")
SOURCE = typer.Option(None, "--source", "-s", help="One source [default: all].")


def register(app: typer.Typer) -> None:
    """Add the `dr` command group."""
    app.add_typer(dr_app, name="dr")


@contextmanager
def _context(output: OutputFormat, record: bool = True) -> Iterator[DrContext]:
    settings = load_settings()
    config = load_config(settings)
    opening = DatabaseOpening(settings) if record else None
    ctx = DrContext(
        config, opening=opening.get if opening else None, principal=f"local:{getpass.getuser()}"
    )
    shown: AbstractContextManager[Any] = nullcontext()
    if output is not OutputFormat.json:  # rich's progress is loaded only when it is shown
        shown = _show_progress(ctx)
    if opening is not None:
        _open_once_data_moves(ctx, opening)
    try:
        with shown:
            yield ctx
    finally:
        if opening is not None:
            opening.close()


def _open_once_data_moves(ctx: DrContext, opening: DatabaseOpening) -> None:
    """CODE's database (SQLAlchemy, the tables, the migration check) opens on a thread from
    the first bytes a backup or restore moves, while the command waits on `pg_dump`, on
    `pg_restore` or on the disk; evidence is written once it is open. Before that the
    command's own start (the source's client, a new database) has the interpreter to itself;
    a command that moves no data opens it when it first needs it."""
    shown = ctx.on_bytes

    def on_bytes(count: int) -> None:
        opening.start()  # once: later calls return at once
        if shown is not None:
            shown(count)

    ctx.on_bytes = on_bytes


def _show_progress(ctx: DrContext) -> AbstractContextManager[Any]:
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TransferSpeedColumn,
    )

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=console(stderr=True),
        transient=True,
    )
    task = progress.add_task("", total=None)

    def step(message: str) -> None:
        progress.update(task, description=message)
        progress.console.print(message, highlight=False)

    ctx.on_bytes = lambda n: progress.advance(task, n)
    ctx.on_step = step
    return progress


@dr_app.command("backup")
def backup(
    source: str = SOURCE,
    store: str = typer.Option(None, "--store", help="Another store than the configured one."),
    output: OutputFormat = OUTPUT,
) -> None:
    """Take a snapshot of each source (compressed, encrypted, manifest last)."""
    with _context(output) as ctx:
        done = service.backup(ctx, source, store)
    rows = [
        {
            "id": m.id,
            "source": m.source,
            "kind": m.kind,
            "raw_bytes": m.raw_bytes,
            "stored_bytes": m.stored_bytes,
            "seconds": m.duration_seconds,
            "key_id": m.key_id,
        }
        for m in done
    ]
    render_rows(rows, ["id", "source", "kind", "raw_bytes", "stored_bytes", "seconds"], output)


@dr_app.command("list")
def list_(output: OutputFormat = OUTPUT) -> None:
    """Every snapshot, oldest first, with the stores holding it."""
    with _context(output) as ctx:
        listed, problems = service.list_all(ctx)
    rows = [
        {
            "id": item.manifest.id,
            "source": item.manifest.source,
            "kind": item.manifest.kind,
            "taken_at": item.manifest.taken_at.isoformat(),
            "raw_bytes": item.manifest.raw_bytes,
            "stored_bytes": item.manifest.stored_bytes,
            "release": item.manifest.release,
            "key_id": item.manifest.key_id,
            "verified": item.verified,
            "stores": list(item.stores),
        }
        for item in listed
    ]
    columns = ["id", "source", "taken_at", "stored_bytes", "verified", "stores"]
    render_rows(rows, columns, output)
    for problem in problems:
        console(stderr=True).print(f"warning: {problem}", highlight=False)


@dr_app.command("verify")
def verify(
    snapshot_id: str = typer.Argument(None, metavar="[ID]", help="One snapshot."),
    all_: bool = typer.Option(False, "--all", help="Every snapshot of the primary store."),
    restore_test: bool = typer.Option(
        False, "--restore-test", help="Also restore into scratch and run the integrity checks."
    ),
    output: OutputFormat = OUTPUT,
) -> None:
    """Read back and checksum every object; optionally prove the restore."""
    if (snapshot_id is None) == (not all_):
        raise UserError("give one snapshot ID or --all")
    with _context(output) as ctx:
        results = service.verify(ctx, snapshot_id, restore_test)
    for row in results:
        row["status"] = "ok"
    render_rows(results, ["id", "source", "objects", "stored_bytes", "status"], output)


def _date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"--date {value!r}: expected YYYY-MM-DD") from None


def _time(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"--to-time {value!r}: expected an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise UserError(f"--to-time {value!r}: give the offset, e.g. 2024-01-15T10:00:00Z")
    return moment


@dr_app.command("restore")
def restore(
    snapshot_id: str = typer.Option(None, "--id", help="The snapshot to restore."),
    on_date: str = typer.Option(None, "--date", help="The newest snapshot of this UTC day."),
    to_time: str = typer.Option(None, "--to-time", help="The newest snapshot at or before T."),
    source: str = SOURCE,
    target: str = typer.Option(None, "--target", help="A new path or database name."),
    force: bool = typer.Option(
        False, "--force", help="Restore in place, after a safety snapshot of the live data."
    ),
    output: OutputFormat = OUTPUT,
) -> None:
    """Restore beside the live data (default), into --target, or in place with --force."""
    given = [v for v in (snapshot_id, on_date, to_time) if v is not None]
    if len(given) != 1:
        raise UserError("give exactly one of --id, --date or --to-time")
    with _context(output) as ctx:
        results = service.restore(
            ctx,
            snapshot_id=snapshot_id,
            day=_date(on_date),
            to_time=_time(to_time),
            source=source,
            target=target,
            force=force,
        )
    render_rows(results, ["id", "source", "taken_at", "target", "in_place"], output)


@dr_app.command("drill")
def drill(output: OutputFormat = OUTPUT) -> None:
    """Restore the newest snapshot of each source into scratch; measure RTO and RPO; record."""
    with _context(output) as ctx:
        result = run_drill(ctx)
    data = result.as_dict()
    if output is OutputFormat.json:
        print_json(data)
    else:
        rows = [
            {"source": name, **{k: v for k, v in info.items() if k != "checks"}}
            for name, info in result.sources.items()
        ]
        render_rows(
            rows, ["source", "status", "snapshot", "restore_seconds", "rpo_seconds"], output
        )
        console().print(
            f"drill {data['status']}: RTO {data['rto_seconds']}s (objective "
            f"{data['rto_objective_seconds']:.0f}s), RPO {data['rpo_seconds']}s (objective "
            f"{data['rpo_objective_seconds']:.0f}s)",
            highlight=False,
        )
    require_passed(result)


@dr_app.command("prune")
def prune(
    yes: bool = typer.Option(False, "--yes", help="Remove; without it, only show the plan."),
    output: OutputFormat = OUTPUT,
) -> None:
    """Apply keep_daily/weekly/monthly and max_age; the newest verified snapshot stays."""
    with _context(output) as ctx:
        plan = run_prune(ctx, apply=yes)
    rows: list[dict[str, Any]] = [
        {
            "id": d.manifest.id,
            "source": d.manifest.source,
            "taken_at": d.manifest.taken_at.isoformat(),
            "action": "keep" if d.keep else ("removed" if yes else "would remove"),
            "reasons": ", ".join(d.reasons),
        }
        for d in plan
    ]
    render_rows(rows, ["id", "source", "taken_at", "action", "reasons"], output)


@key_app.command("generate")
def key_generate(
    path: Path = typer.Argument(..., help="Where to write the new key (must not exist)."),
) -> None:
    """Write a new random backup key (32 bytes, base64, mode 0600); keep it away from backups."""
    try:
        key = generate_key_file(path)
    except FileExistsError:
        raise UserError(f"{path}: exists; a key is never overwritten") from None
    console().print(f"key {key.id} written to {path}; set CODE_DR_KEY_FILE={path}")


def recovery_warning(status: dict[str, Any]) -> str | None:
    """The line `codectl status` prints when no restorable point is younger than the RPO."""
    if not status.get("rpo_breached"):
        return None
    late = []
    for s in status["sources"]:
        if s["rpo_breached"]:
            age = s["age_seconds"]
            late.append(f"{s['source']} ({'never' if age is None else f'{age / 3600:.1f} h ago'})")
    rpo = status["rpo_objective_seconds"] / 3600
    return f"recovery: no restorable point younger than the RPO of {rpo:g} h: {', '.join(late)}"


def _pitr_source(source: str) -> tuple[Any, Any]:
    from code_engine.dr.pitr import PitrSetup

    config = load_config(load_settings())
    setup: PitrSetup | None = config.pitr.get(source)
    if setup is None:
        known = ", ".join(config.pitr) or "none"
        raise UserError(
            f"source {source!r} has no `pitr: true` in code.yaml (pitr sources: {known})"
        )
    return config, setup


@pitr_app.command("setup")
def pitr_setup(
    source: str = typer.Option(..., "--source", "-s", help="A postgres source with pitr: true."),
) -> None:
    """Write pgBackRest's configuration, set archive_command, create and check the stanza."""
    import psycopg

    from code_engine.dr import pitr
    from code_engine.dr.sources.postgres import PostgresSource

    config, setup = _pitr_source(source)
    pitr.write_config(setup)
    item = config.source(source)
    assert isinstance(item, PostgresSource)  # noqa: S101 - pitr sources are postgres  # nosec B101
    with psycopg.connect(item.conninfo("postgres"), autocommit=True) as conn:
        for name, value in pitr.server_settings(setup).items():
            conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")  # noqa: S608 - our names
        conn.execute("SELECT pg_reload_conf()")
        mode = conn.execute("SHOW archive_mode").fetchone()
    if mode is None or mode[0] != "on":
        console().print(
            f"archive_command set for {source}; restart PostgreSQL to turn archive_mode on, "
            "then run `codectl dr pitr setup` again"
        )
        return
    pitr.create_stanza(setup)
    _audit_pitr("dr.pitr.setup", source, {"stanza": setup.stanza, "config": str(setup.config_path)})
    console().print(f"stanza {setup.stanza} created and checked ({setup.config_path})")


def _audit_pitr(action: str, source: str, detail: dict[str, Any]) -> None:
    settings = load_settings()
    db = open_database(settings)
    try:
        ctx = DrContext(load_config(settings), db=db, principal=f"local:{getpass.getuser()}")
        ctx.audit(action, source, "ok", detail)
    finally:
        db.dispose()


@pitr_app.command("backup")
def pitr_backup(
    source: str = typer.Option(..., "--source", "-s", help="A postgres source with pitr: true."),
    kind: str = typer.Option("incr", "--type", help="full, diff or incr."),
    output: OutputFormat = OUTPUT,
) -> None:
    """Take a pgBackRest backup; WAL between backups is archived continuously."""
    from code_engine.dr import pitr

    _, setup = _pitr_source(source)
    data = pitr.backup(setup, kind)
    _audit_pitr("dr.pitr.backup", source, {"type": kind})
    rows = [
        {"label": b["label"], "type": b["type"], "stop": b["timestamp"]["stop"]}
        for b in data.get("backup", [])
    ]
    render_rows(rows, ["label", "type", "stop"], output)
