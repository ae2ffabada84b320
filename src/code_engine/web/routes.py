"""Dashboard pages: `/` (login required), `/login`, `/logout`; not part of the API schema."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote

import jinja2
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from code_engine.auth.throttle import Throttled
from code_engine.deploy.traffic import RouterTraffic
from code_engine.dora.operations import default_source
from code_engine.dora.render import BANDS
from code_engine.dora.window import parse_days, resolve_window
from code_engine.runtime import Runtime, get_runtime
from code_engine.web import session as web_session
from code_engine.web.pipeline_runs import last_runs
from code_engine.web.views import dashboard, recovery_evidence, with_operations

router = APIRouter(include_in_schema=False)
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
_env = jinja2.Environment(
    loader=jinja2.PackageLoader("code_engine.web", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Templates(env=_env)
WINDOWS = ("7d", "30d", "90d")
# No script runs on these pages; their one stylesheet carries a nonce of the response.
POLICY = (
    "default-src 'none'; style-src 'nonce-{nonce}'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _page(
    request: Request, name: str, context: Mapping[str, object], status: int = 200
) -> Response:
    nonce = secrets.token_urlsafe(18)
    values = {**context, "csp_nonce": nonce}
    response = templates.TemplateResponse(request, name, values, status_code=status)
    response.headers.update(SECURITY_HEADERS)
    response.headers["Content-Security-Policy"] = POLICY.format(nonce=nonce)
    return response


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request,
    runtime: RuntimeDep,
    env: Annotated[str | None, Query(max_length=63)] = None,
    window: Annotated[str, Query(max_length=8)] = "30d",
) -> Response:
    principal = web_session.viewer(request, runtime)
    if principal is None:
        return RedirectResponse(f"/login?next={quote(str(request.url.path))}", status_code=303)
    env = env or web_session.default_environment(principal)
    if not web_session.may_view(principal, env):
        message = f"{principal.name} may not view environment {env!r}\n"
        return Response(
            message, 403, headers=SECURITY_HEADERS, media_type="text/plain; charset=utf-8"
        )
    try:
        days = parse_days(window)
    except ValueError:
        days, window = 30, "30d"
    start, end = resolve_window(runtime.clock, days=days)
    with runtime.db.session() as session:
        panels = dashboard(
            session,
            start=start,
            end=end,
            environment=env,
            incident_link_window=timedelta(hours=runtime.settings.dora_incident_link_hours),
        )
        recovery = recovery_evidence(session, runtime.settings, runtime.clock())
        pipeline_runs = last_runs(session)
    # after the transaction: the sources answer over the network, not from the store
    source = default_source(runtime.settings, RouterTraffic.builtin(runtime.settings.data_dir))
    panels = with_operations(panels, source, environment=env, start=start, end=end)
    context = {
        "panels": panels,
        "recovery": recovery,
        "pipeline_runs": pipeline_runs,
        "principal": principal.name,
        "environment": env,
        "window": window,
        "windows": WINDOWS,
        "start": start,
        "end": end,
        "bands": BANDS,
    }
    return _page(request, "dashboard.html", context)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> Response:  # noqa: A002
    return _page(request, "login.html", {"next": web_session.safe_next(next), "error": ""})


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    runtime: RuntimeDep,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form(max_length=2000)] = "/",  # noqa: A002
) -> Response:
    target = web_session.safe_next(next)
    address = request.client.host if request.client else "-"
    try:
        token = web_session.log_in(runtime, username.strip(), password, address)
    except Throttled as exc:
        context = {"next": target, "error": f"Too many attempts: try again in {exc.retry_after}s."}
        response = _page(request, "login.html", context, status=429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    if token is None:
        context = {"next": target, "error": "Wrong username or password."}
        return _page(request, "login.html", context, status=401)
    response = RedirectResponse(target, status_code=303)
    web_session.set_cookie(response, request, token, runtime.settings.user_token_ttl_seconds)
    return response


@router.post("/logout")
def logout(request: Request, runtime: RuntimeDep) -> Response:
    web_session.log_out(request, runtime)
    response = RedirectResponse("/login", status_code=303)
    web_session.clear_cookie(response)
    return response
