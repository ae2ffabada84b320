"""A query parameter a route does not declare is an error, not silently ignored.

`?enviroment=prod` (a typo) or a filter the route does not have would otherwise return
the unfiltered list, which reads as an answer to the question asked.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from code_engine.errors import InvalidFileError, Location

_declared: dict[int, frozenset[str]] = {}


def _names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _names(sub)
    return names


async def reject_unknown_query(request: Request) -> None:
    """An app-wide dependency: 422 naming each query parameter the route does not take."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    declared = _declared.get(id(route))
    if declared is None:
        declared = _declared.setdefault(id(route), frozenset(_names(route.dependant)))
    unknown = sorted({name for name in request.query_params if name not in declared})
    if unknown:
        accepted = ", ".join(sorted(declared)) or "none"
        problems = [
            Location("query", None, None, name, f"unknown parameter; this route takes: {accepted}")
            for name in unknown
        ]
        raise InvalidFileError(problems=problems)
