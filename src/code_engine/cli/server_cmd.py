"""`codectl server` and `codectl db ...`."""

from __future__ import annotations

import typer

from code_engine.auth.principals import bootstrap_admin
from code_engine.cli.context import load_settings, open_database
from code_engine.cli.output import console
from code_engine.clock import utc_now
from code_engine.store.migrate import current_revision

db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)


def server(
    host: str = typer.Option(None, help="Listen address [default: CODE_HOST or 127.0.0.1]."),
    port: int = typer.Option(None, help="Listen port [default: CODE_PORT or 8080]."),
    no_worker: bool = typer.Option(
        False, "--no-worker", help="Do not run the rollout controllers here (run codectl worker)."
    ),
    prometheus_url: str = typer.Option(
        None,
        "--prometheus-url",
        envvar="CODE_PROMETHEUS_URL",
        help="Judge canaries from this Prometheus instead of the router's statistics.",
    ),
) -> None:
    """Serve the API, dashboard, health and metrics (migrates the database first), and run
    the rollout controllers on a background thread unless --no-worker."""
    import uvicorn

    from code_engine.observe.logging import configure_logging
    from code_engine.server import create_app
    from code_engine.transport import server_options

    settings = load_settings(host=host, port=port)
    configure_logging(settings.log_level, settings.log_format)
    db = open_database(settings)
    credentials = bootstrap_admin(
        db,
        utc_now,
        settings.bootstrap_client_id,
        settings.bootstrap_client_secret.get_secret_value(),
    )
    if credentials is not None:
        out = console(stderr=True)
        out.print("First start: created an admin client (shown once, store it now):")
        out.print(f"  client id:     {credentials.client_id}")
        if not settings.bootstrap_client_secret.get_secret_value():
            out.print(f"  client secret: {credentials.client_secret}")
        out.print(
            f"  codectl login --server http://{settings.host}:{settings.port}"
            f" --client-id {credentials.client_id} --client-secret <secret>"
        )
    app = create_app(settings, database=db, migrate=False)
    background = None
    if not no_worker:
        from code_engine.cli.worker_cmd import worker_config
        from code_engine.worker import start_worker_thread

        background = start_worker_thread(db, worker_config(settings, 0.5, prometheus_url))
    console(stderr=True).print(
        f"CODE listening on http://{settings.host}:{settings.port} (data: {settings.data_dir})"
    )
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        **server_options(settings),
    )
    if background is not None:  # leases are given back; instances and routers keep running
        thread, stop = background
        stop.set()
        thread.join(timeout=15)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema."""
    settings = load_settings()
    db = open_database(settings, migrate=True)
    console().print(f"database at revision {current_revision(db.engine)}")


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision of the database."""
    db = open_database(load_settings(), migrate=False)
    console().print(current_revision(db.engine) or "not migrated")


def register(app: typer.Typer) -> None:
    app.command("server")(server)
    app.add_typer(db_app, name="db")
