"""Live traffic through CODE's builtin router of a service environment: what the dashboard's
operational metrics read when no Prometheus is configured."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from code_engine.deploy.local.ports import free_port
from code_engine.deploy.router import BuiltinRouter, RouterLaunch, ensure_router, stop_router


class _Backend(BaseHTTPRequestHandler):
    """Answers 200, or 500 on `/fail`."""

    def do_GET(self) -> None:
        status = 500 if self.path == "/fail" else 200
        body = b"fail\n" if status == 500 else b"ok\n"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@contextmanager
def routed_traffic(
    data_dir: Path, service: str, environment: str, *, requests: int, failures: int
) -> Iterator[BuiltinRouter]:
    """Start the environment's router in front of a small backend and send it traffic:
    `requests` requests of which `failures` are answered 500. Stops both on exit."""
    backend = ThreadingHTTPServer(("127.0.0.1", 0), _Backend)
    threading.Thread(target=backend.serve_forever, args=(0.05,), daemon=True).start()
    launch = RouterLaunch.for_environment(data_dir, service, environment, port=free_port())
    router = ensure_router(launch)
    try:
        router.set_backends({"v1": [f"127.0.0.1:{backend.server_address[1]}"]})
        router.set_weights({"v1": 100})
        with httpx.Client(base_url=f"http://127.0.0.1:{launch.port}", timeout=30) as client:
            for n in range(requests):
                client.get("/fail" if n < failures else "/")
        yield router
    finally:
        stop_router(router)
        router.close()
        backend.shutdown()
        backend.server_close()
