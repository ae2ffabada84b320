"""`create_app(settings)`: the API as a FastAPI application, with everything passed in.

The dashboard is added on top of it by `code_engine.server`; the API never imports it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from code_engine import __version__
from code_engine.api import errors
from code_engine.api.query_params import reject_unknown_query
from code_engine.api.request_limits import RequestLimitMiddleware, RequestLimits
from code_engine.api.routers import (
    assessments,
    audit,
    changes,
    deployments,
    dr,
    events,
    health,
    incidents,
    metrics,
    oauth,
    pipeline,
    policy,
    releases,
    services,
    webhooks,
)
from code_engine.api.security_headers import SecurityHeadersMiddleware
from code_engine.clock import Clock, utc_now
from code_engine.dora.gauges import register as register_dora_gauges
from code_engine.dr import metrics as dr_metrics
from code_engine.observe.middleware import ObserveMiddleware
from code_engine.observe.tracing import create_tracer_provider, instrument
from code_engine.policy.sources import check_sets, operator_sets
from code_engine.runtime import Runtime, build_runtime
from code_engine.settings import Settings
from code_engine.store.engine import Database
from code_engine.store.migrate import upgrade

ROUTERS = (
    health.router,
    oauth.router,
    services.router,
    changes.router,
    releases.router,
    deployments.router,
    incidents.router,
    events.router,
    assessments.router,
    audit.router,
    dr.router,
    metrics.router,
    webhooks.router,
    pipeline.router,
    policy.router,
)


def create_app(
    settings: Settings,
    *,
    clock: Clock = utc_now,
    database: Database | None = None,
    migrate: bool = True,
) -> FastAPI:
    """Build the app; the database is migrated on start unless `migrate=False`."""
    runtime = build_runtime(settings, clock, database)
    # operator policies that do not load stop the server here, with file:line
    check_sets(operator_sets(settings.policy_paths))
    dora_gauges = register_dora_gauges(runtime.metrics.registry, runtime.db, clock, settings)
    dr_gauges = dr_metrics.register_from_settings(
        runtime.metrics.registry, runtime.db, clock, settings
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if dora_gauges is not None:
            dora_gauges.start()
        dr_gauges.start()
        try:
            yield
        finally:
            await asyncio.to_thread(dr_gauges.stop)
            if dora_gauges is not None:
                # waits for a computation in progress, off the event loop
                await asyncio.to_thread(dora_gauges.stop)
            if database is None:
                runtime.db.dispose()

    if migrate:
        upgrade(runtime.db.engine)
    app = FastAPI(
        title="CODE",
        summary="Continuous Operations & Deployment Engine",
        version=__version__,
        lifespan=lifespan,
        dependencies=[Depends(reject_unknown_query)],
    )
    app.state.runtime = runtime
    app.state.dora_gauges = dora_gauges
    app.state.dr_gauges = dr_gauges
    for router in ROUTERS:
        app.include_router(router)
    errors.install(app)
    limits = RequestLimits(
        settings.max_body_bytes,
        (("/api/v1/events", settings.max_event_body_bytes),),
        max_headers=settings.max_header_count,
    )
    app.add_middleware(RequestLimitMiddleware, limits=limits)
    app.add_middleware(SecurityHeadersMiddleware)
    if settings.cors_origins:
        origins = [origin.strip() for origin in settings.cors_origins.split(",") if origin.strip()]
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(ObserveMiddleware, metrics=runtime.metrics)
    if settings.otlp_endpoint:
        instrument(app, runtime.db.engine, create_tracer_provider(settings.otlp_endpoint))
    return app


def runtime_of(app: FastAPI) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime
