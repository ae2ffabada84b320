"""CODE: Continuous Operations & Deployment Engine."""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    """`__version__`, read from the installed metadata only when asked (start-up stays light)."""
    if name != "__version__":
        raise AttributeError(f"module 'code_engine' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("code-engine")
    except PackageNotFoundError:  # pragma: no cover - a source tree without install
        return "0.0.0"
