"""The HTTP API: FastAPI app factory, one router per resource, one error shape."""

from code_engine.api.app import create_app

__all__ = ["create_app"]
