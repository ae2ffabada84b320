"""Open endpoints: liveness, readiness (database reachable, schema migrated) and metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from code_engine import __version__
from code_engine.api.deps import RuntimeDep
from code_engine.api.errors import error_response
from code_engine.store.migrate import readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness")
async def healthz() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@router.get("/readyz", summary="Readiness: database reachable and migrated", response_model=None)
def readyz(runtime: RuntimeDep) -> dict[str, str] | Response:
    try:
        revision = readiness(runtime.db.engine)
    except Exception as exc:  # noqa: BLE001 - any database failure means not ready
        return error_response(503, "not_ready", f"database unavailable: {type(exc).__name__}")
    if revision is None:
        return error_response(503, "not_ready", "database schema not migrated")
    return {"status": "ready", "schema": revision}


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(runtime: RuntimeDep) -> Response:
    return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)
