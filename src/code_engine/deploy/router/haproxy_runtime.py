"""HAProxy's runtime API (the admin stats socket) and what `show stat` says per version."""

from __future__ import annotations

import csv
import io
import socket
from collections.abc import Mapping
from pathlib import Path

from code_engine.deploy.router.errors import RouterError
from code_engine.deploy.router.stats import VersionStats


class RuntimeAPI:
    """Sends one command per connection to the admin socket and returns the answer."""

    def __init__(self, socket_path: Path, timeout: float = 5.0) -> None:
        self.socket_path = socket_path
        self.timeout = timeout

    def command(self, line: str) -> str:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(self.timeout)
                sock.connect(str(self.socket_path))
                sock.sendall(line.encode() + b"\n")
                chunks = []
                while data := sock.recv(65536):
                    chunks.append(data)
        except OSError as exc:
            raise RouterError(f"HAProxy runtime API {self.socket_path}: {exc}") from exc
        return b"".join(chunks).decode(errors="replace")

    def set_weight(self, backend: str, server: str, weight: int) -> None:
        answer = self.command(f"set weight {backend}/{server} {weight}").strip()
        if answer:
            raise RouterError(f"HAProxy refused weight {weight} for {server}: {answer}")

    def get_weight(self, backend: str, server: str) -> int:
        answer = self.command(f"get weight {backend}/{server}").strip()
        try:
            return int(answer.split()[0])
        except (IndexError, ValueError) as exc:
            raise RouterError(f"unexpected answer to get weight: {answer!r}") from exc

    def show_stat(self) -> list[dict[str, str]]:
        return parse_show_stat(self.command("show stat"))


def parse_show_stat(text: str) -> list[dict[str, str]]:
    """Rows of `show stat` CSV keyed by column name (the header line starts with `# `)."""
    body = text.lstrip()
    if body.startswith("# "):
        body = body[2:]
    return [dict(row) for row in csv.DictReader(io.StringIO(body)) if row.get("pxname")]


def _int(row: Mapping[str, str], key: str) -> int:
    value = row.get(key) or "0"
    return int(value) if value.isdigit() else 0


def version_stats(
    rows: list[dict[str, str]],
    backend: str | tuple[str, ...],
    servers: Mapping[str, tuple[str, str]],
) -> dict[str, VersionStats]:
    """Sum server rows of `backend` (or of several, e.g. the main and the preview one)
    per version.

    Requests answered by the instance plus connection failures (answered 503 by HAProxy);
    errors are 5xx answers plus connection and response failures. HAProxy keeps no latency
    histogram: the mean is its `rtime` (average of the last 1024 requests), buckets stay 0.
    """
    backends = (backend,) if isinstance(backend, str) else backend
    totals: dict[str, list[float]] = {}
    for row in rows:
        if row.get("pxname") not in backends or row.get("svname") not in servers:
            continue
        version = servers[row["svname"]][0]
        failed = _int(row, "econ") + _int(row, "eresp")
        requests = _int(row, "req_tot") + _int(row, "econ")
        acc = totals.setdefault(version, [0, 0, 0, 0.0])
        acc[0] += requests
        acc[1] += _int(row, "hrsp_5xx") + failed
        acc[2] += _int(row, "scur") + _int(row, "qcur")
        acc[3] += _int(row, "rtime") * _int(row, "req_tot")
    return {
        version: VersionStats(
            requests=int(req), errors=int(err), in_flight=int(cur), latency_sum_ms=float(lat)
        )
        for version, (req, err, cur, lat) in sorted(totals.items())
    }
