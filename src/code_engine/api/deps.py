"""Dependencies of the routes, as `Annotated` aliases so signatures read like prose."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from code_engine.api.errors import PermissionDeniedError
from code_engine.auth.roles import Role, allows, holds, visible_environments
from code_engine.auth.tokens import AuthenticationError, Principal
from code_engine.runtime import Runtime, get_runtime

# Cheap, CPU-only dependencies are `async def` so FastAPI runs them on the event loop instead
# of hopping to the thread pool for each one.
#
# Read-only list routes are `async def` and run their work through `run_read`: their one
# query is bounded by LIMIT (<= 500 rows). On the thread pool, SQLite's driver gives up and
# takes back the GIL for every row it steps, and each take-back waits behind the event loop
# (up to the 5 ms switch interval): at 200 req/s that convoy cost a p95 of 100-400 ms, against
# 6 ms when the work runs on the loop (benchmarks/api_latency.py). So on SQLite (a local file,
# whose pool never blocks) the work runs inline; on PostgreSQL it keeps to the thread pool.


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(request: Request, runtime: RuntimeDep) -> AsyncIterator[Session]:
    """One transaction per request, committed before the response is sent.

    The dependency is function-scoped (`SessionDep`): it ends when the route returns, so a
    client that reads right after a 201 sees the row, and a write that cannot be committed
    answers an error instead of a success it did not keep. Opening a session does no I/O
    (it connects on the first query, in the route's thread); ending it does, so
    commit-or-rollback and close run together in one thread-pool call. A read (GET, HEAD)
    on SQLite ends inline instead, like its query (`run_read`): ending a read of a local
    file never waits, and a hop to the thread pool and back costs two GIL hand-offs, each
    waiting behind the event loop under load (benchmarks/api_latency.py).
    """
    session = runtime.db.sessions()
    inline = runtime.db.is_sqlite and request.method in _READS
    try:
        yield session
    except BaseException:
        await _finish(session, False, inline)
        raise
    await _finish(session, True, inline)


_READS = frozenset({"GET", "HEAD"})


async def _finish(session: Session, commit: bool, inline: bool) -> None:
    if inline:
        _end(session, commit)
    else:
        await run_in_threadpool(_end, session, commit)


def _end(session: Session, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def get_now(runtime: RuntimeDep) -> datetime:
    return runtime.clock()


Now = Annotated[datetime, Depends(get_now)]


async def get_principal(request: Request, runtime: RuntimeDep) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("missing bearer token")
    principal = runtime.tokens.verify(token.strip())
    gate = runtime.gate
    if gate.cached(principal):
        gate.check(principal)
    else:
        await run_read(runtime, lambda: gate.check(principal))
    request.scope.setdefault("state", {})["principal"] = principal.name
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def authorize(principal: Principal, role: Role, environment: str | None = None) -> None:
    """Raise 403 unless `principal` holds `role` globally or on `environment`.

    With no environment (a global request) only a global binding grants it.
    """
    if not allows(principal.bindings, role, environment):
        where = f" on environment {environment!r}" if environment else " globally (unscoped)"
        raise PermissionDeniedError(f"{principal.name!r} needs role {role.name}{where}")


def visible(principal: Principal, role: Role = Role.viewer) -> frozenset[str] | None:
    """The environments whose rows `principal` may see with `role`; None: all of them."""
    return visible_environments(principal.bindings, role)


def require(role: Role) -> object:
    """A dependency that needs `role` somewhere (global or on some environment).

    Only a first gate: the route then authorizes the environment its request is about.
    """

    async def check(principal: CurrentPrincipal) -> Principal:
        if not holds(principal.bindings, role):
            raise PermissionDeniedError(f"{principal.name!r} needs role {role.name}")
        return principal

    return Depends(check)


def require_global(role: Role) -> object:
    """A dependency that needs `role` from a global binding: the request is about no one
    environment (the catalog, the audit trail), so no environment's binding grants it."""

    async def check(principal: CurrentPrincipal) -> Principal:
        authorize(principal, role)
        return principal

    return Depends(check)


T = TypeVar("T")


async def run_read(runtime: Runtime, work: Callable[[], T]) -> T:
    """Run a bounded read: inline on SQLite, on the thread pool for a networked database."""
    if runtime.db.is_sqlite:
        return work()
    return await run_in_threadpool(work)


Viewer = Annotated[Principal, require(Role.viewer)]
Developer = Annotated[Principal, require(Role.developer)]
Deployer = Annotated[Principal, require(Role.deployer)]
# Global roles: for requests about no single environment (catalog writes, the audit trail).
GlobalDeveloper = Annotated[Principal, require_global(Role.developer)]
Admin = Annotated[Principal, require_global(Role.admin)]

Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]
Cursor = Annotated[str | None, Query(description="Opaque cursor from `next_cursor`.")]
