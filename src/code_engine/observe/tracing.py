"""OpenTelemetry tracing of requests and database calls, exported over OTLP when configured."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from sqlalchemy import Engine

from code_engine import __version__


def create_tracer_provider(endpoint: str, exporter: SpanExporter | None = None) -> TracerProvider:
    """A provider exporting to `endpoint` (OTLP/HTTP), or to `exporter` when one is given."""
    resource = Resource.create({"service.name": "code-engine", "service.version": __version__})
    provider = TracerProvider(resource=resource)
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=endpoint)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def instrument(app: Any, engine: Engine, provider: TracerProvider) -> None:
    """Trace every request of `app` and every statement on `engine`."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=provider, excluded_urls="healthz,readyz,metrics"
    )
    SQLAlchemyInstrumentor().instrument(engine=engine, tracer_provider=provider)
