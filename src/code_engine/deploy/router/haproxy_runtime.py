"""HAProxy's runtime API (the admin stats socket) and what `show stat` says per version."""

from __future__ import annotations

import csv
import io
import re
import socket
from collections.abc import Mapping
from pathlib import Path

from code_engine.deploy.router.errors import RouterError
from code_engine.deploy.router.stats import NO_BUCKETS, StatsBook, VersionStats


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

    def show_sess(self) -> list[tuple[str, str, float]]:
        return parse_show_sess(self.command("show sess"))


_SESSION = re.compile(r"\bbe=(\S+) srv=(\S+) .*?\bage=(\S+)")
_AGE_PART = re.compile(r"(\d+)([dhms])")
_UNIT = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_show_sess(text: str) -> list[tuple[str, str, float]]:
    """(backend, server, age in seconds) of every stream `show sess` lists at a server."""
    sessions = []
    for line in text.splitlines():
        found = _SESSION.search(line)
        if found is None or found.group(2) in ("<none>", "<NONE>"):
            continue
        age = sum(int(n) * _UNIT[u] for n, u in _AGE_PART.findall(found.group(3)))
        sessions.append((found.group(1), found.group(2), float(age)))
    return sessions


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
    sessions: list[tuple[str, str, float]] | None = None,
) -> dict[str, VersionStats]:
    """Sum server rows of `backend` (or of several, e.g. the main and the preview one)
    per version, with the ages of the streams waiting at its servers (`show sess`).

    Requests answered by the instance plus connection failures (`econ`, answered 503 by
    HAProxy) and response failures (`eresp`: the server timeout, answered 504, or an
    instance that hung up, `srv_abrt`); errors are 5xx answers plus both failures.
    HAProxy keeps no latency histogram: the mean is its `rtime` (average of the last 1024
    requests), buckets stay 0.
    """
    backends = (backend,) if isinstance(backend, str) else backend
    totals: dict[str, list[float]] = {}
    for row in rows:
        if row.get("pxname") not in backends or row.get("svname") not in servers:
            continue
        version = servers[row["svname"]][0]
        econ, eresp, aborted = _int(row, "econ"), _int(row, "eresp"), _int(row, "srv_abrt")
        acc = totals.setdefault(version, [0, 0, 0, 0.0, 0, 0])
        acc[0] += _int(row, "req_tot") + econ + eresp
        acc[1] += _int(row, "hrsp_5xx") + econ + eresp
        acc[2] += _int(row, "scur") + _int(row, "qcur")
        acc[3] += _int(row, "rtime") * _int(row, "req_tot")
        acc[4] += max(0, eresp - aborted)
        acc[5] += econ + aborted
    ages: dict[str, list[float]] = {}
    for name, server, age in sessions or []:
        if name in backends and server in servers:
            ages.setdefault(servers[server][0], []).append(age * 1000.0)
    waiting = {v: StatsBook().snapshot({}, {v: a})[v].in_flight_buckets for v, a in ages.items()}
    return {
        version: VersionStats(
            requests=int(req),
            errors=int(err),
            in_flight=int(cur),
            latency_sum_ms=float(lat),
            timeouts=int(timeouts),
            connect_errors=int(connect),
            in_flight_buckets=waiting.get(version, NO_BUCKETS),
        )
        for version, (req, err, cur, lat, timeouts, connect) in sorted(totals.items())
    }
