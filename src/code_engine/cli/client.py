"""HTTP client of the CLI: server and token from `codectl login`, errors as plain messages."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from code_engine.errors import CheckFailedError, CodeError, NotFoundError, UserError

DEFAULT_SERVER = "http://127.0.0.1:8080"


def credentials_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "code-engine" / "credentials.json"


REFRESH_MARGIN_SECONDS = 30


@dataclass(frozen=True)
class Login:
    """A stored login; a machine login keeps its client credentials to renew the token."""

    server: str
    token: str
    expires_at: float
    client_id: str = ""
    client_secret: str = ""

    @property
    def renewable(self) -> bool:
        return bool(self.client_id and self.client_secret)


def renew_login(login: Login) -> Login:
    """A fresh token for a machine login, stored in place of the old one."""
    body = request_token(
        login.server,
        {
            "grant_type": "client_credentials",
            "client_id": login.client_id,
            "client_secret": login.client_secret,
        },
    )
    renewed = Login(
        server=login.server,
        token=str(body["access_token"]),
        expires_at=time.time() + int(body.get("expires_in", 0)),
        client_id=login.client_id,
        client_secret=login.client_secret,
    )
    save_login(renewed)
    return renewed


def save_login(login: Login) -> Path:
    """Write the token with owner-only permissions."""
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(login.__dict__, handle)
    tmp.replace(path)
    return path


def load_login() -> Login | None:
    path = credentials_path()
    try:
        return Login(**json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (ValueError, TypeError) as exc:
        raise UserError(f"{path}: unreadable credentials ({exc}); run codectl login") from None


def request_token(server: str, form: dict[str, str]) -> dict[str, Any]:
    """Call the token endpoint; a refusal becomes a UserError with the server's reason."""
    try:
        response = httpx.post(f"{server.rstrip('/')}/oauth/token", data=form, timeout=30)
    except httpx.HTTPError as exc:
        raise UserError(f"cannot reach CODE at {server}: {exc}") from None
    body = (
        response.json()
        if response.headers.get("content-type", "").startswith("application/json")
        else {}
    )
    if response.status_code != 200:
        reason = body.get("error_description") or body.get("error") or response.text
        raise UserError(f"login refused by {server}: {reason}")
    return dict(body)


class ApiClient:
    """Talks to `/api/v1` with the stored or given token."""

    def __init__(self, server: str | None = None, token: str | None = None):
        login = load_login()
        self.server = (
            server or os.environ.get("CODE_SERVER") or (login.server if login else DEFAULT_SERVER)
        ).rstrip("/")
        self.token = token or os.environ.get("CODE_TOKEN") or (login.token if login else "")
        # the stored login is used (and renewed) only when it is what this client talks with
        self._login: Login | None = None
        stored = login is not None and self.token == login.token
        if login is not None and stored and self.server == login.server.rstrip("/"):
            self._login = login
        if login and stored and login.expires_at - REFRESH_MARGIN_SECONDS < time.time():
            if self._login is None or not self._login.renewable:
                raise UserError("the stored token has expired; run codectl login again")
            self._renew()

    def _renew(self) -> None:
        assert self._login is not None  # noqa: S101 - callers check  # nosec B101
        self._login = renew_login(self._login)
        self.token = self._login.token

    def get(self, path: str, **params: Any) -> Any:
        clean = {k: v for k, v in params.items() if v is not None}
        return self._send("GET", path, params=clean)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._send("POST", path, json=body or {})

    def _send(self, method: str, path: str, **kwargs: Any) -> Any:
        if not self.token:
            raise UserError("not logged in: run codectl login (or set CODE_TOKEN)")
        response = self._request(method, path, **kwargs)
        if response.status_code == 401 and self._login is not None and self._login.renewable:
            # expired early, revoked, or the roles changed: a new token carries today's roles
            self._renew()
            response = self._request(method, path, **kwargs)
        if response.status_code < 400:
            return response.json()
        raise _error(response)

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            return httpx.request(
                method, f"{self.server}{path}", headers=headers, timeout=30, **kwargs
            )
        except httpx.HTTPError as exc:
            raise UserError(f"cannot reach CODE at {self.server}: {exc}") from None


def _error(response: httpx.Response) -> CodeError:
    try:
        error = response.json()["error"]
        message = error["message"]
        details = error.get("details")
        if isinstance(details, list):
            message += "".join(f"\n  {d.get('field')}: {d.get('message')}" for d in details)
    except (ValueError, KeyError, TypeError):
        message = response.text[:500]
    if response.status_code == 401:
        return UserError(f"unauthorized: {message}; run codectl login")
    if response.status_code == 404:
        return NotFoundError(message)
    if response.status_code == 403 and _code(response) == "policy_denied":
        return CheckFailedError(message)  # a gate, not bad input: exit code 1
    if response.status_code < 500:
        return UserError(f"{response.status_code}: {message}")
    return CodeError(f"server error {response.status_code}: {message}")


def _code(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return ""
