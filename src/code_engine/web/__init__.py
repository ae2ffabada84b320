"""The dashboard: server-rendered pages (Jinja2) with inline SVG sparklines, no build step."""

from code_engine.web.routes import router

__all__ = ["router"]
