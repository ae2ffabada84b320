"""`codectl worker` (the rollout controllers), `codectl demo` (hello delivered to dev) and
`codectl down` (stop what the local target runs)."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from types import FrameType

import httpx
import typer

from code_engine.cli.context import load_settings, open_database
from code_engine.cli.output import OutputFormat, console, render_rows
from code_engine.clock import utc_now
from code_engine.deploy.controller.local_target import ProviderFactory
from code_engine.deploy.controller.routing import Router
from code_engine.deploy.kubernetes.argocd import argocd_of
from code_engine.deploy.local.identity import resolve_instance_user
from code_engine.deploy.rollout import MetricProvider
from code_engine.errors import UserError
from code_engine.secrets.resolver import SecretResolver, default_backends
from code_engine.settings import Settings
from code_engine.store.datadir import secure_data_dir
from code_engine.worker import Worker, WorkerConfig, start_worker_thread

POLL = typer.Option(0.5, "--poll", min=0.05, help="Seconds between two controller ticks.")
PROMETHEUS = typer.Option(
    None,
    "--prometheus-url",
    envvar="CODE_PROMETHEUS_URL",
    help="Judge canaries from this Prometheus instead of the router's statistics.",
)
EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "hello"


def prometheus_factory(url: str | None) -> ProviderFactory | None:
    """Canary metrics from Prometheus (per service and version), when a URL is given."""
    if not url:
        return None

    def factory(_router: Router, service: str) -> MetricProvider:
        from code_engine.deploy.rollout.prometheus import PrometheusProvider

        return PrometheusProvider(url, service)

    return factory


def worker_config(settings: Settings, poll: float, prometheus_url: str | None) -> WorkerConfig:
    """The worker's settings; the instances' user, and a data directory it cannot read."""
    user = resolve_instance_user(settings.instance_user, environment=settings.env)
    secure_data_dir(settings.data_dir, None if user is None else user.gid)

    return WorkerConfig(
        data_dir=settings.data_dir,
        poll=poll,
        provider_factory=prometheus_factory(prometheus_url),
        instance_user=user,
        secrets=SecretResolver(default_backends(settings)).resolve,
        argocd=lambda: argocd_of(settings),
        kubectl=settings.kubectl,
    )


def worker(poll: float = POLL, prometheus_url: str = PROMETHEUS) -> None:
    """Run the rollout controllers: supervise every environment, drive every deployment."""
    from code_engine.observe.logging import configure_logging

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    db = open_database(settings)
    stop = threading.Event()

    def stop_on(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, stop_on)
    signal.signal(signal.SIGINT, stop_on)
    console(stderr=True).print(f"CODE worker running (data: {settings.data_dir})")
    from code_engine.dr.schedule import start_from_settings

    start_from_settings(db, settings, stop)  # backup and drill schedules (docs/dr.md)
    Worker(db, worker_config(settings, poll, prometheus_url)).run(stop)


def _wait_for_server(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise UserError(f"no CODE server answers at {url}: start codectl server, or use --with-worker")


def demo(
    example: Path = typer.Option(
        Path("examples/hello"), "--example", help="The hello example's directory."
    ),
    port: int = typer.Option(18080, "--port", help="Port the demo's router listens on."),
    with_worker: bool = typer.Option(
        False, "--with-worker", help="Run a worker here instead of waiting for codectl server."
    ),
    wait: float = typer.Option(60.0, "--wait", help="Seconds to wait for the server."),
) -> None:
    """Deliver the hello example to dev: a release, a healthy canary, then a bad canary
    that is rolled back automatically. Runs next to `codectl server`."""
    from code_engine.deploy.demo import run_demo

    if not (example / "app.py").is_file() and example == Path("examples/hello"):
        example = EXAMPLE  # run from elsewhere than the source tree's root
    if not (example / "app.py").is_file():
        raise UserError(f"{example}: not the hello example (no app.py); give --example")
    settings = load_settings()
    if not with_worker:
        _wait_for_server(f"http://{settings.host}:{settings.port}", wait)
    db = open_database(settings, migrate=with_worker)
    stop = None
    if with_worker:
        _, stop = start_worker_thread(db, worker_config(settings, 0.5, None))
    out = console()
    try:
        for event in run_demo(db, settings.data_dir, example, utc_now, port):
            where = f" ({event.url})" if event.url else ""
            out.print(f"hello {event.version}: {event.status}{where} {event.message}".rstrip())
    finally:
        if stop is not None:
            stop.set()


def down(
    service: str = typer.Argument(None, help="Only this service [default: every one]."),
    environment: str = typer.Option(None, "--env", "-e", help="Only this environment."),
    grace: float = typer.Option(10.0, "--grace", min=0.0, help="Seconds before SIGKILL."),
    output: OutputFormat = typer.Option(
        OutputFormat.table, "--output", "-o", help="table, wide or json."
    ),
) -> None:
    """Stop the instances and routers the local target runs in the data directory. They
    outlive the server and the worker on purpose; stop those first, or they start them
    again."""
    from code_engine.deploy.controller.local_down import stop_local

    settings = load_settings()
    stopped = stop_local(settings.data_dir, service, environment, grace)
    rows = [
        {
            "service": s.service,
            "environment": s.environment,
            "versions": ", ".join(s.versions) or None,
            "router": "stopped" if s.router else None,
        }
        for s in stopped
        if s.versions or s.router
    ]
    if not rows and output is not OutputFormat.json:
        console(stderr=True).print(f"nothing runs in {settings.data_dir}")
        return
    render_rows(rows, ("service", "environment", "versions", "router"), output, title="stopped")


def register(app: typer.Typer) -> None:
    """Add `worker`, `demo` and `down`."""
    app.command("worker")(worker)
    app.command("demo")(demo)
    app.command("down")(down)
