"""The assembled HTTP application: the API and the dashboard in one ASGI app.

This module sits above both interfaces, so neither imports the other: the API knows nothing
of the pages and the pages share only core pieces (`code_engine.runtime`) with it.
`codectl server` serves what `create_app` returns.
"""

from __future__ import annotations

from fastapi import FastAPI

from code_engine.api import create_app as create_api
from code_engine.clock import Clock, utc_now
from code_engine.settings import Settings
from code_engine.store.engine import Database
from code_engine.web import router as dashboard


def create_app(
    settings: Settings,
    *,
    clock: Clock = utc_now,
    database: Database | None = None,
    migrate: bool = True,
) -> FastAPI:
    """The API with the dashboard's pages (`/`, `/login`, `/logout`) added."""
    app = create_api(settings, clock=clock, database=database, migrate=migrate)
    app.include_router(dashboard)
    return app
