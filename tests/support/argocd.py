"""A real HTTP server answering as Argo CD v2.x does, from the recorded responses in
`tests/fixtures/argocd/`.

A test says which state each Application is in (`healthy`, `progressing`, `degraded`,
`outofsync`) and which revision Argo CD synced; the server fills the recorded bodies'
placeholders, checks the bearer token (401 otherwise), answers 404 for an Application it
does not know, and keeps the resource actions it was asked to run.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "argocd"
TOKEN = "recorded-argocd-token"  # pragma: allowlist secret


@dataclass
class RecordedApp:
    """What the recorded server says of one Application."""

    state: str = "healthy"  # healthy, progressing, degraded, outofsync
    revision: str = "0" * 40
    previous_revision: str = "0" * 40
    service: str = "svc"
    namespace: str = "svc"
    path: str = "envs/staging"
    image: str = "ghcr.io/example/svc:1.0.0"
    follows: Path | None = None  # a bare GitOps repository: synced to its main, as pushed


@dataclass
class RecordedArgoCD:
    """The server's world: Applications by name, and the actions run."""

    url: str = ""
    token: str = TOKEN
    apps: dict[str, RecordedApp] = field(default_factory=dict)
    actions: list[tuple[str, str, str]] = field(default_factory=list)  # (app, rollout, action)
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def body(self, name: str, application: str) -> bytes:
        app = self.apps.get(application, RecordedApp())
        text = (FIXTURES / name).read_text(encoding="utf-8")
        revision = app.revision
        if app.follows is not None:  # Argo CD syncing whatever lands on main
            revision = subprocess.run(
                ["git", "-C", str(app.follows), "rev-parse", "refs/heads/main"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        values = {
            "REVISION": revision,
            "PREVIOUS_REVISION": app.previous_revision,
            "APPLICATION": application,
            "SERVICE": app.service,
            "NAMESPACE": app.namespace,
            "PATH": app.path,
            "IMAGE": app.image,
        }
        for key, value in values.items():
            text = text.replace("${" + key + "}", value)
        return text.encode()


def _handler(world: RecordedArgoCD) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002, ARG002
            return

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _route(self, method: str) -> None:
            with world.lock:
                world.requests += 1
            parts = urlsplit(self.path)
            segments = [unquote(s) for s in parts.path.strip("/").split("/")]
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if segments[:3] != ["api", "v1", "applications"] or len(segments) < 4:
                self._send(404, b'{"error":"Not Found","code":5,"message":"Not Found"}')
                return
            application = segments[3]
            if self.headers.get("Authorization") != f"Bearer {world.token}":
                self._send(401, world.body("error-401.json", application))
                return
            app = world.apps.get(application)
            if app is None:
                self._send(404, world.body("error-404.json", application))
                return
            rest = segments[4:]
            if method == "GET" and not rest:
                self._send(200, world.body(f"application-{app.state}.json", application))
            elif method == "GET" and rest == ["resource"] and query.get("kind") == "Rollout":
                state = "healthy" if app.state == "outofsync" else app.state
                self._send(200, world.body(f"rollout-{state}.json", application))
            elif method == "POST" and rest == ["resource", "actions"]:
                length = int(self.headers.get("Content-Length") or 0)
                action = json.loads(self.rfile.read(length) or b'""')
                with world.lock:
                    world.actions.append((application, query.get("resourceName", ""), action))
                self._send(200, world.body("action-ok.json", application))
            else:
                self._send(404, world.body("error-404.json", application))

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self._route("GET")

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            self._route("POST")

    return Handler


@contextmanager
def recorded_argocd() -> Iterator[RecordedArgoCD]:
    """Serve the recorded Argo CD API on a free port of 127.0.0.1 until the block ends."""
    world = RecordedArgoCD()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(world))
    world.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="recorded-argocd", daemon=True)
    thread.start()
    try:
        yield world
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
