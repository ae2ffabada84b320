"""`codectl load`'s generator: paced, bounded, loopback only, counting every outcome."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from code_engine.cli.main import run
from code_engine.deploy.loadgen import LoadPlan, check_target, run_load
from code_engine.errors import UserError


@pytest.fixture
def server() -> Iterator[str]:
    count = [0]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            count[0] += 1
            status = 500 if count[0] % 10 == 0 else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def test_sends_the_planned_requests_at_the_planned_pace(server: str) -> None:
    result = run_load(LoadPlan(server, rps=100, duration=1.0))
    summary = result.summary()
    assert summary["sent"] == 100 and summary["skipped"] == 0
    assert summary["statuses"] == {"200": 90, "500": 10}
    assert 0.9 <= result.elapsed < 5
    assert summary["p50_ms"] is not None


def test_a_stop_ends_it_early(server: str) -> None:
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    result = run_load(LoadPlan(server, rps=50, duration=10.0), stop=stop)
    assert 5 <= result.sent < 100


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://10.0.0.1:80/", "only sends traffic to this machine"),
        ("http://example.com/", "only sends traffic to this machine"),
        ("https://127.0.0.1/", "an http://HOST:PORT URL is needed"),
    ],
)
def test_only_loopback_targets(url: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        check_target(url)
    assert check_target("http://127.0.0.2:8080/") == "http://127.0.0.2:8080/"
    assert check_target("http://localhost:1/") and check_target("http://[::1]:1/")


@pytest.mark.parametrize(
    ("rps", "duration", "message"),
    [(0, 1, "--rps"), (5000, 1, "--rps"), (10, 0, "--duration"), (10, 3600, "--duration")],
)
def test_bounded_in_rate_and_time(rps: float, duration: float, message: str) -> None:
    with pytest.raises(UserError, match=message):
        LoadPlan("http://127.0.0.1:1/", rps, duration)


@pytest.fixture
def code_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[str]:
    """A CODE API answering the status of `shop`, whose staging router is this server too."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            me = f"http://127.0.0.1:{self.server.server_address[1]}"
            if self.path.startswith("/api/v1/deployments/status"):
                rows = [{"environment": "staging", "url": me, "active": None}]
                rows.append({"environment": "prod", "url": None, "active": None})
                body = json.dumps(rows).encode()
            else:
                body = b"{}"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True).start()
    monkeypatch.setenv("CODE_TOKEN", "t")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def codectl(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        run(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_codectl_load_sends_to_the_environment_router(
    code_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ("--service", "shop", "--server", code_server)
    code, out, err = codectl(
        capsys, "load", "staging", "--rps", "50", "--duration", "1s", *common, "-o", "json"
    )
    assert code == 0, err
    summary = json.loads(out)
    assert summary["sent"] == 50 and summary["statuses"] == {"200": 50}
    assert summary["url"] == f"{code_server}/"
    code, _, err = codectl(capsys, "load", "prod", *common)
    assert code == 2 and "nothing was deployed there yet" in err
    code, _, err = codectl(capsys, "load", "qa", *common)
    assert code != 0 and "no environment 'qa'" in err
    code, _, err = codectl(capsys, "load", "staging", "--duration", "forever", *common)
    assert code == 2 and "--duration" in err
