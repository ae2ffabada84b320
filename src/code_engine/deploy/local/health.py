"""Readiness probes: an instance is ready when its health path answers 2xx."""

from __future__ import annotations

import http.client
from collections.abc import Callable

Probe = Callable[[str, int, str], bool]


def http_probe(host: str, port: int, path: str, timeout: float = 2.0) -> bool:
    """GET `path` on `host:port`; True on a 2xx answer, False on anything else."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"User-Agent": "code-engine-probe"})
        return 200 <= connection.getresponse().status < 300
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def http_answer(host: str, port: int, path: str, timeout: float = 2.0) -> str:
    """What GET `path` on `host:port` answers now, in words: `HTTP 503`, `connection
    refused`, `no answer within 2 s`."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"User-Agent": "code-engine-probe"})
        response = connection.getresponse()
        return f"HTTP {response.status} {response.reason}".strip()
    except TimeoutError:
        return f"no answer within {timeout:g} s"
    except ConnectionRefusedError:
        return "connection refused"
    except (OSError, http.client.HTTPException) as exc:
        return f"no HTTP answer: {exc or type(exc).__name__}"
    finally:
        connection.close()
