"""`codectl deps scan` on real lock files against the vendored OSV snapshot, and osv.dev's
API served by a real HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.support.network import free_port

from code_engine.cli.main import run

ROOT = Path(__file__).resolve().parents[3]
OSV = ROOT / "tests" / "fixtures" / "osv-pypa"


def codectl(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        run(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def lock(tmp_path: Path, text: str, name: str = "requirements.lock") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_an_old_jinja2_is_found_with_its_advisory_and_fixed_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pins = lock(tmp_path, "jinja2==2.10.1 ; python_version >= '3.8'\nmarkupsafe==2.1.5\n")
    report = tmp_path / "out" / "deps.json"
    args = ("deps", "scan", "--lock", str(pins), "--osv-db", str(OSV), "-o", "json")
    code, out, err = codectl(capsys, *args, "--report", str(report))
    assert code == 1, err
    assert "known vulnerabilities" in err
    data = json.loads(out)
    assert data == json.loads(report.read_text())
    assert data["scanned"] == 2
    assert data["database"]["path"] == str(OSV)
    assert data["database"]["advisories"] >= 70
    by_id = {v["id"]: v for v in data["vulnerabilities"]}
    redos = by_id["PYSEC-2021-66"]
    assert redos["package"] == "jinja2" and redos["version"] == "2.10.1"
    assert redos["fixed"] == ["2.11.3"]
    assert {"CVE-2020-28493", "GHSA-g3rq-g295-4j3m"} <= set(redos["aliases"])
    assert redos["severity"] in ("critical", "high", "medium", "low", "unrated")
    assert set(redos) == {"package", "version", "id", "aliases", "severity", "fixed", "summary"}
    assert all(v["package"] == "jinja2" for v in data["vulnerabilities"])


def test_severity_comes_from_the_cvss_vector_of_the_snapshot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # werkzeug's PYSEC-2023-221 carries CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H (7.5)
    pins = lock(tmp_path, "werkzeug==2.2.2\n")
    code, out, _ = codectl(
        capsys, "deps", "scan", "--lock", str(pins), "--osv-db", str(OSV), "-o", "json"
    )
    assert code == 1
    found = {v["id"]: v for v in json.loads(out)["vulnerabilities"]}
    assert found["PYSEC-2023-221"]["severity"] == "high"


def test_code_own_locks_pass_against_the_snapshot(capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("requirements.lock", "requirements-dev.lock"):
        code, out, err = codectl(
            capsys, "deps", "scan", "--lock", str(ROOT / name), "--osv-db", str(OSV)
        )
        assert code == 0, out + err
        assert "0 vulnerabilities" in out


def test_the_table_names_package_advisory_and_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pins = lock(tmp_path, 'version = 1\n[[package]]\nname = "py"\nversion = "1.11.0"\n', "uv.lock")
    code, out, err = codectl(capsys, "deps", "scan", "--lock", str(pins), "--osv-db", str(OSV))
    assert code == 1
    assert "PYSEC-2022-42969" in out and "CVE-2022-42969" in out  # a last_affected range
    assert "error: 1 known vulnerabilities (1 unrated)" in err


def test_no_database_is_exit_2_never_a_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pins = lock(tmp_path, "jinja2==3.1.4\n")
    report = tmp_path / "deps.json"
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = codectl(
        capsys, "deps", "scan", "--lock", str(pins), "--osv-db", str(empty), "--report", str(report)
    )
    assert code == 2 and "no advisories" in err
    code, _, err = codectl(
        capsys, "deps", "scan", "--lock", str(pins), "--osv-db", str(tmp_path / "x")
    )
    assert code == 2 and "not a directory of OSV advisories" in err
    closed = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("CODE_OSV_API", closed)
    code, out, err = codectl(capsys, "deps", "scan", "--lock", str(pins), "-o", "json")
    assert code == 2 and out == ""
    assert f"no OSV database: {closed} did not answer" in err and "--osv-db DIR" in err
    assert not report.exists()


def test_a_corrupt_advisory_fails_the_scan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "db" / "vulns" / "jinja2"
    broken.mkdir(parents=True)
    (broken / "PYSEC-X.yaml").write_text("id: [unclosed\n")
    pins = lock(tmp_path, "jinja2==3.1.4\n")
    code, _, err = codectl(
        capsys, "deps", "scan", "--lock", str(pins), "--osv-db", str(tmp_path / "db")
    )
    assert code == 2 and "PYSEC-X.yaml: unreadable OSV advisory" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give either --lock FILE or --environment"),
        (("--lock", "missing.txt"), "cannot read"),
        (("--lock", str(ROOT / "requirements.lock"), "--environment"), "give either"),
        (
            ("--lock", str(ROOT / "requirements.lock"), "--report", "/proc/deps.json"),
            "cannot write",
        ),
    ],
)
def test_bad_input(args: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = codectl(capsys, "deps", "scan", *args, "--osv-db", str(OSV))
    assert code == 2 and message in err


def test_the_environment_is_scanned(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = codectl(
        capsys, "deps", "scan", "--environment", "--osv-db", str(OSV), "-o", "json"
    )
    data = json.loads(out)
    assert data["scanned"] > 50
    assert code == (1 if data["vulnerabilities"] else 0)


class _OsvApi(BaseHTTPRequestHandler):
    """osv.dev's `querybatch` and `vulns/{id}`, answered from the snapshot."""

    advisories: dict[str, dict[str, Any]] = {}

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        results = []
        for query in body["queries"]:
            name = query["package"]["name"]
            ids = [
                vid
                for vid, adv in self.advisories.items()
                if any(a["package"]["name"].lower() == name for a in adv["affected"])
                and query["version"] in sum((a.get("versions", []) for a in adv["affected"]), [])
            ]
            results.append({"vulns": [{"id": i, "modified": "x"} for i in ids]} if ids else {})
        self._send({"results": results})

    def do_GET(self) -> None:
        vid = self.path.rsplit("/", 1)[-1]
        if vid in self.advisories:
            self._send(self.advisories[vid])
        else:
            self.send_error(404)

    def _send(self, data: Any) -> None:
        raw = json.dumps(data, default=str).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def osv_api() -> Iterator[str]:
    _OsvApi.advisories = {
        p.stem: yaml.safe_load(p.read_text()) for p in (OSV / "vulns" / "jinja2").glob("*.yaml")
    }
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _OsvApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_osv_dev_answers_when_no_local_database_is_given(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    osv_api: str,
) -> None:
    monkeypatch.setenv("CODE_OSV_API", osv_api)
    pins = lock(tmp_path, "jinja2==2.10.1\nclick==8.1.7\n")
    code, out, _ = codectl(capsys, "deps", "scan", "--lock", str(pins), "-o", "json")
    assert code == 1
    data = json.loads(out)
    assert data["database"]["path"] == osv_api and data["database"]["modified"] is None
    assert "PYSEC-2021-66" in {v["id"] for v in data["vulnerabilities"]}
    assert data["scanned"] == 2
