"""The router's control API: small JSON over HTTP/1.1 on a Unix socket or loopback port.

GET  /healthz            {"ok": true, "pid": N, "port": P, "preview_port": Q | null}
GET  /config             {"backends": {version: [addr]}, "weights": {version: n},
                          "preview": version | null}
PUT  /backends           {version: [addr]}       → the new config, or 409
PUT  /weights            {version: n}             → the new config, or 409
PUT  /preview            {"version": v | null}    → the new config, or 409
PUT  /preview/listener   {"port": Q}              → {"preview_port": Q}, or 409
GET  /stats              {version: VersionStats}
POST /stats/reset
GET  /idle?version=V&timeout=S   {"idle": bool, "in_flight": n}

HTTP/1.1 framing (request heads, bodies, keep-alive) is h11's; this module only routes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import h11

from code_engine.deploy.router.errors import RouterError
from code_engine.deploy.router.proxy import ProxyServer

Reply = tuple[int, Any]
MAX_BODY = 1024 * 1024
MAX_HEAD = 16 * 1024
READ_SIZE = 64 * 1024


class ControlServer:
    """Serves the control API for one proxy; `on_change` persists the routing config."""

    def __init__(
        self,
        proxy: ProxyServer,
        port: int,
        on_change: Callable[[dict[str, Any]], None] | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.proxy = proxy
        self.port = port
        self.host = host
        self.on_change = on_change
        self._server: asyncio.Server | None = None

    async def start(self, control: str) -> None:
        """Listen on a Unix socket path (contains `/`) or a `host:port` loopback address."""
        if "/" in control:
            path = Path(control)
            path.unlink(missing_ok=True)
            self._server = await asyncio.start_unix_server(self._serve, path=str(path))
            path.chmod(0o600)
        else:
            host, _, port = control.rpartition(":")
            self._server = await asyncio.start_server(self._serve, host or "127.0.0.1", int(port))

    def close(self) -> None:
        if self._server is not None:
            self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        try:
            while True:
                request = await _read_request(connection, reader)
                if request is None:
                    break
                method, target, body = request
                status, payload = await self.handle(method, target, body)
                data = json.dumps(payload).encode()
                head = h11.Response(
                    status_code=status,
                    headers=[
                        ("content-type", "application/json"),
                        ("content-length", str(len(data))),
                    ],
                )
                for event in (head, h11.Data(data=data), h11.EndOfMessage()):
                    writer.write(connection.send(event) or b"")
                await writer.drain()
                if connection.our_state is not h11.DONE or connection.their_state is not h11.DONE:
                    break  # the client asked to close, or broke the protocol
                connection.start_next_cycle()
        except (ConnectionError, h11.ProtocolError, ValueError):
            pass
        finally:
            # a connection still open when the router's loop closed is finalised without a
            # loop to schedule the close on; its socket goes with the process
            with contextlib.suppress(RuntimeError):
                writer.close()

    async def handle(self, method: str, target: str, body: bytes) -> Reply:
        """Route one control request; errors use the API's one error shape."""
        url = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        try:
            return await self._route(method, url.path, query, body)
        except RouterError as exc:
            return 409, _error("conflict", str(exc))
        except (ValueError, TypeError, KeyError) as exc:
            return 400, _error("bad_request", f"invalid request: {exc}")

    async def _route(self, method: str, path: str, query: dict[str, str], body: bytes) -> Reply:
        proxy = self.proxy
        if (method, path) == ("GET", "/healthz"):
            health = {"ok": True, "pid": os.getpid(), "port": self.port}
            return 200, {**health, "preview_port": proxy.preview_port}
        if (method, path) == ("GET", "/config"):
            return 200, proxy.table.to_json()
        if (method, path) == ("PUT", "/preview/listener"):
            return 200, {"preview_port": await self._listen_preview(_object(body)["port"])}
        if method == "PUT" and path in ("/backends", "/weights", "/preview"):
            data = _object(body)
            if path == "/backends":
                proxy.set_backends({str(k): [str(a) for a in v] for k, v in data.items()})
            elif path == "/weights":
                proxy.set_weights({str(k): int(v) for k, v in data.items()})
            else:
                version = data["version"]
                proxy.set_preview(None if version is None else str(version))
            config = proxy.table.to_json()
            if self.on_change is not None:
                self.on_change(config)
            return 200, config
        if (method, path) == ("GET", "/stats"):
            return 200, {v: s.to_json() for v, s in proxy.snapshot().items()}
        if (method, path) == ("POST", "/stats/reset"):
            proxy.stats.reset()
            return 200, {"ok": True}
        if (method, path) == ("GET", "/idle"):
            version = query["version"]
            idle = await proxy.wait_idle(version, float(query.get("timeout", "0")))
            return 200, {"idle": idle, "in_flight": proxy.in_flight.get(version, 0)}
        return 404, _error("not_found", f"no route {method} {path}")

    async def _listen_preview(self, port: object) -> int:
        if not isinstance(port, int) or not 0 < port < 65536:
            raise ValueError(f"preview port must be 1-65535, got {port!r}")
        if port == self.proxy.preview_port:
            return port
        try:
            return await self.proxy.start_preview(self.host, port)
        except OSError as exc:
            raise RouterError(f"cannot listen on preview port {port}: {exc}") from exc


def _object(body: bytes) -> dict[str, Any]:
    data = json.loads(body or b"{}")
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": {}}}


async def _read_request(
    connection: h11.Connection, reader: asyncio.StreamReader
) -> tuple[str, str, bytes] | None:
    """The next whole request on the connection; None once the client has closed it."""
    method, target, body = "", "", bytearray()
    while True:
        event = connection.next_event()
        if event is h11.NEED_DATA:
            connection.receive_data(await reader.read(READ_SIZE))  # b"" is the end
        elif isinstance(event, h11.Request):
            method, target = event.method.decode("ascii"), event.target.decode("ascii")
        elif isinstance(event, h11.Data):
            body += event.data
            if len(body) > MAX_BODY:
                raise ValueError("control request too large")
        elif isinstance(event, h11.EndOfMessage):
            return method, target, bytes(body)
        else:  # ConnectionClosed, or PAUSED after a protocol switch the API never agrees to
            return None
