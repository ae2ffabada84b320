"""Run the builtin router as its own process.

    python -m code_engine.deploy.router.serve --port 18080 --control /run/hello/router.sock \
        [--host 127.0.0.1] [--state router.json] [--preview-port 18090] [--limits limits.json]

It outlives the controller that started it; the controller finds it again through the
control socket. With `--state`, the routing config survives a router restart too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import Any

from code_engine.deploy.local.atomic import read_json, write_json_atomic
from code_engine.deploy.router.config import ProxyConfig
from code_engine.deploy.router.control import ControlServer
from code_engine.deploy.router.errors import RouterError
from code_engine.deploy.router.proxy import ProxyServer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="code_engine.deploy.router.serve")
    parser.add_argument("--host", default="127.0.0.1", help="listen address of the proxy")
    parser.add_argument("--port", type=int, required=True, help="listen port of the proxy")
    parser.add_argument("--control", required=True, help="Unix socket path or HOST:PORT")
    parser.add_argument("--preview-port", type=int, help="listen port of the preview listener")
    parser.add_argument("--state", type=Path, help="JSON file keeping backends and weights")
    parser.add_argument("--grace", type=float, default=10.0, help="drain time on SIGTERM")
    parser.add_argument(
        "--limits", type=Path, help="JSON file of timeouts and limits, read again on SIGHUP"
    )
    return parser.parse_args(argv)


def restore(proxy: ProxyServer, state: Path | None) -> None:
    """Apply the routing config saved by a previous run, if any."""
    if state is None:
        return
    saved = read_json(state)
    if not isinstance(saved, dict):
        return
    try:
        proxy.set_backends(saved.get("backends", {}))
        proxy.set_weights(saved.get("weights", {}))
        proxy.set_preview(saved.get("preview"))
    except RouterError as exc:
        sys.stderr.write(f"router: ignoring saved state {state}: {exc}\n")


def read_limits(path: Path | None) -> ProxyConfig:
    """The timeouts and limits in `path` (defaults for what it does not say)."""
    data = None if path is None else read_json(path)
    return ProxyConfig.from_dict(data if isinstance(data, dict) else None)


async def serve(args: argparse.Namespace) -> None:
    proxy = ProxyServer(config=read_limits(args.limits))
    restore(proxy, args.state)
    state: Path | None = args.state

    def persist(config: dict[str, Any]) -> None:
        if state is not None:
            write_json_atomic(state, config)

    port = await proxy.start(args.host, args.port)
    if args.preview_port is not None:
        try:
            await proxy.start_preview(args.host, args.preview_port)
        except OSError as exc:  # the main port serves anyway; the controller retries
            sys.stderr.write(f"router: no preview listener on {args.preview_port}: {exc}\n")
    control = ControlServer(proxy, port, on_change=persist, host=args.host)
    await control.start(args.control)
    preview = f", preview on {proxy.preview_port}" if proxy.preview_port else ""
    sys.stderr.write(f"router: serving on {args.host}:{port}{preview}, control on {args.control}\n")
    sys.stderr.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    loop.add_signal_handler(signal.SIGHUP, lambda: proxy.reconfigure(read_limits(args.limits)))
    await stop.wait()
    sys.stderr.write("router: draining\n")
    control.close()
    await proxy.close(args.grace)
    if "/" in args.control:
        with contextlib.suppress(FileNotFoundError):
            Path(args.control).unlink()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
        asyncio.run(serve(args))
    else:
        uvloop.run(serve(args))


if __name__ == "__main__":
    main()
