"""Monitoring & observability: metrics, structured logs, dashboards, alerts, logs, traces."""

from __future__ import annotations

from code_engine.assess import manifests, monorepo, polyglot, pysource
from code_engine.assess.checks import Checks, errors_as_evidence, limit
from code_engine.assess.manifests import dig
from code_engine.assess.model import Category, Evidence, Outcome, failed, not_applicable, passed
from code_engine.assess.parsers import ParseError, YamlMap
from code_engine.assess.polyglot import Package
from code_engine.assess.repo import RepoView

checks = Checks(Category.OBSERVABILITY, "obs")
METRICS_LIBS = (
    "prometheus_client",
    "opentelemetry.metrics",
    "opentelemetry.sdk.metrics",
    "prometheus_fastapi_instrumentator",
    "starlette_exporter",
)
LOGGING_LIBS = ("structlog", "pythonjsonlogger", "json_log_formatter", "ecs_logging", "logfire")
TRACING_LIBS = (
    "opentelemetry.trace",
    "opentelemetry.sdk.trace",
    "opentelemetry.instrumentation",
    "ddtrace",
    # vendors' SDKs that trace requests
    "sentry_sdk",
    "newrelic",
    "elasticapm",
    "aws_xray_sdk",
    "azure.monitor.opentelemetry",
    "logfire",
    "honeycomb",
)
# Go packages (import path prefixes) and JavaScript/TypeScript packages, per purpose
GO = {
    "metrics": ("github.com/prometheus/client_golang", "go.opentelemetry.io/otel/metric"),
    "logging": (
        "log/slog",
        "go.uber.org/zap",
        "github.com/sirupsen/logrus",
        "github.com/rs/zerolog",
    ),
    "tracing": (
        "go.opentelemetry.io/otel",
        "gopkg.in/DataDog/dd-trace-go.v1",
        "github.com/DataDog/dd-trace-go",
    ),
}
JS = {
    "metrics": ("prom-client", "@opentelemetry/sdk-metrics"),
    "logging": ("pino", "winston", "bunyan"),
    "tracing": (
        "@opentelemetry/sdk-node",
        "@opentelemetry/sdk-trace-node",
        "@opentelemetry/sdk-trace-base",
        "dd-trace",
        "@sentry/node",
        "newrelic",
    ),
}


def _imports_outcome(
    view: RepoView, libraries: tuple[str, ...], what: str, purpose: str
) -> Outcome:
    found = [
        *pysource.imports(view, *libraries),
        *polyglot.go_imports(view, GO[purpose]),
        *polyglot.js_imports(view, JS[purpose]),
    ]
    if not found:
        return failed(f"no application module imports {what}")
    return passed(f"{what} in {len({e.file for e in found})} modules", *limit(found))


def _package_imports(
    view: RepoView, package: Package, libraries: tuple[str, ...], what: str, purpose: str
) -> Outcome:
    """One package of a monorepo: its own application code in its own language."""

    ecosystem = package.ecosystem
    if ecosystem == "python":
        sources = monorepo.files_of(
            view, package, "application", lambda: pysource.application_files(view)
        )
        found = pysource.imports(view, *libraries, files=sources) if sources else []
    else:
        sources = monorepo.files_of(
            view, package, "application", lambda: polyglot.source_files(view, ecosystem)
        )
        imports = polyglot.go_imports if ecosystem == "go" else polyglot.js_imports
        table = GO if ecosystem == "go" else JS
        found = imports(view, table[purpose], sources) if sources else []
    if not [name for name in sources if not monorepo.TOOLING.search(name)]:
        return not_applicable(f"no {package.ecosystem} application code in the package")
    if not found:
        return failed(f"no application module imports {what}", Evidence(package.manifest, 1))
    return passed(f"{what} in {len({e.file for e in found})} modules", *limit(found))


@checks.add(
    "metrics",
    1,
    "The application exposes metrics",
    target="pyproject.toml",
    why="Request rate, errors and latency are what alerts, canary analysis and SLOs are built on.",
    fix="Instrument the app with `prometheus_client` (or OpenTelemetry metrics) and serve "
    "`/metrics`.",
)
def metrics(view: RepoView) -> Outcome:
    return _imports_outcome(view, METRICS_LIBS, "a metrics library", "metrics")


@checks.per_package("metrics")
def package_metrics(view: RepoView, package: Package) -> Outcome:
    return _package_imports(view, package, METRICS_LIBS, "a metrics library", "metrics")


@checks.add(
    "structured-logging",
    1,
    "The application logs structured JSON",
    target="pyproject.toml",
    why="JSON logs can be searched and joined to traces; free text has to be grepped.",
    fix="Log through `structlog` (or python-json-logger) with a JSON renderer to stdout.",
)
def structured_logging(view: RepoView) -> Outcome:
    return _imports_outcome(view, LOGGING_LIBS, "a structured logging library", "logging")


@checks.per_package("structured-logging")
def package_structured_logging(view: RepoView, package: Package) -> Outcome:
    return _package_imports(view, package, LOGGING_LIBS, "a structured logging library", "logging")


@checks.add(
    "dashboards",
    2,
    "Dashboards are kept as code",
    target="observability/grafana/dashboards/service.json",
    why="A dashboard in git is reviewed, versioned and provisioned the same in every environment.",
    fix="Export Grafana dashboards as JSON into `observability/grafana/dashboards/` and "
    "provision them.",
)
def dashboards(view: RepoView) -> Outcome:
    found: list[Evidence] = []
    errors: list[ParseError] = []
    for name in view.with_suffix(".json"):
        text = view.text(name)
        if text is None or '"panels"' not in text:
            continue
        data = view.json(name)
        if isinstance(data, ParseError):
            errors.append(data)
        elif isinstance(data, dict) and isinstance(data.get("panels"), list):
            found.append(Evidence(name, 1, f"{len(data['panels'])} panels"))
    if not found:
        return failed("no Grafana dashboard JSON", *errors_as_evidence(errors))
    return passed(f"{len(found)} dashboards", *limit(found))


def _rule_groups(doc: object) -> list[object]:
    groups = dig(doc, "groups")
    if groups is None and dig(doc, "kind") == "PrometheusRule":
        groups = dig(doc, "spec", "groups")
    return groups if isinstance(groups, list) else []


@checks.add(
    "alert-rules",
    2,
    "Alert rules are kept as code",
    target="observability/prometheus/alerts.yaml",
    why="Alerts in git are reviewed with the code they watch and never silently edited away.",
    fix="Add Prometheus alerting rules (`groups: [{name, rules: [{alert, expr, for}]}]`) in "
    "`observability/prometheus/alerts.yaml` or a `PrometheusRule`.",
)
def alert_rules(view: RepoView) -> Outcome:
    found: list[Evidence] = []
    errors: list[ParseError] = []
    for name in view.yaml_files():
        text = view.text(name)
        if text is None or "alert" not in text or "groups" not in text:
            continue
        docs = view.yaml(name)
        if isinstance(docs, ParseError):
            errors.append(docs)
            continue
        for doc in docs or []:
            for group in _rule_groups(doc):
                found.extend(
                    Evidence(name, rule.line, f"alert {rule['alert']}")
                    for rule in dig(group, "rules") or []
                    if isinstance(rule, YamlMap) and rule.get("alert") and rule.get("expr")
                )
    if not found:
        return failed("no Prometheus alerting rule", *errors_as_evidence(errors))
    return passed(f"{len(found)} alerting rules", *limit(found))


def _ships_logs(doc: object) -> str | None:
    """Which log shipper a parsed config belongs to, if any."""
    if isinstance(dig(doc, "clients"), list) and isinstance(dig(doc, "scrape_configs"), list):
        return "promtail"
    pipelines = dig(doc, "service", "pipelines")
    if isinstance(pipelines, dict) and any(str(k).startswith("logs") for k in pipelines):
        return "opentelemetry collector"
    if isinstance(dig(doc, "sinks"), dict) and isinstance(dig(doc, "sources"), dict):
        return "vector"
    if isinstance(dig(doc, "pipeline", "outputs"), list):
        return "fluent bit"
    return None


@checks.add(
    "log-shipping",
    3,
    "Logs are shipped to a central store",
    target="observability/promtail.yaml",
    why="Logs that stay on a pod die with it; a central store keeps them for incidents.",
    fix="Add a Promtail (or OpenTelemetry Collector logs pipeline, Vector, Fluent Bit) config, "
    "e.g. `observability/promtail.yaml` with `clients:` pointing at Loki.",
)
def log_shipping(view: RepoView) -> Outcome:
    errors: list[ParseError] = []
    words = ("clients", "pipelines", "sinks", "outputs")
    for name in view.yaml_files():
        text = view.text(name)
        if text is None or not any(w in text for w in words):
            continue
        docs = view.yaml(name)
        if isinstance(docs, ParseError):
            errors.append(docs)
            continue
        for doc in docs or []:
            shipper = _ships_logs(doc)
            if shipper:
                return passed(f"{shipper} ships logs", Evidence(name, 1, shipper))
    found, _ = manifests.find(view, "ConfigMap")
    for config in found:
        for key in dig(config.doc, "data") or {}:
            if str(key).startswith(("promtail", "fluent-bit", "vector")):
                return passed(
                    "log shipper config map", Evidence(config.file, config.line, str(key))
                )
    return failed("no log shipping configuration", *errors_as_evidence(errors))


@checks.add(
    "tracing",
    3,
    "The application emits traces",
    target="pyproject.toml",
    why="Traces show where a slow or failed request spent its time across services.",
    fix="Set up OpenTelemetry tracing (`opentelemetry.sdk.trace` with an OTLP exporter) and "
    "instrument the web framework.",
)
def tracing(view: RepoView) -> Outcome:
    return _imports_outcome(view, TRACING_LIBS, "a tracing library", "tracing")


@checks.per_package("tracing")
def package_tracing(view: RepoView, package: Package) -> Outcome:
    return _package_imports(view, package, TRACING_LIBS, "a tracing library", "tracing")


CHECKS = tuple(checks.all)
