"""S3 stores against a real SeaweedFS: SigV4, multipart, a replica, 500/SlowDown and no server."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest
from tests.integration.dr.conftest import Shop, order_names
from tests.support.seaweedfs import S3Server, free_ports, seaweedfs

from code_engine.dr.errors import IntegrityError, StoreUnavailableError
from code_engine.dr.stores.s3 import S3Store

BUCKET = "code-backups"


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    with seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as server:
        client = boto3.client("s3", **_client_args(server))
        client.create_bucket(Bucket=BUCKET)
        client.create_bucket(Bucket="code-replica")
        yield server


def _client_args(server: S3Server) -> dict[str, str]:
    env = server.env()
    return {
        "endpoint_url": env["AWS_ENDPOINT_URL"],
        "aws_access_key_id": env["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"],
        "region_name": env["AWS_REGION"],
    }


@pytest.fixture
def s3_env(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    return s3_server


def test_backup_to_s3_with_a_replica_and_restore_from_either(
    shop: Shop, s3_env: S3Server, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    prefix = f"s3://{BUCKET}/{request.node.name[:40]}"
    replica = f"s3://code-replica/{request.node.name[:40]}"
    monkeypatch.setenv("CODE_DR_STORE", prefix)
    monkeypatch.setenv("CODE_DR_REPLICA_STORE", replica)
    taken = shop.json("dr", "backup", "--source", "orders")[0]
    listed = shop.json("dr", "list")
    assert listed[0]["stores"] == [prefix, replica]
    assert shop.json("dr", "verify", taken["id"])[0]["objects"] == ["data"]

    # the primary loses the object: verify fails; the replica still restores
    client = boto3.client("s3", **_client_args(s3_env))
    key = f"{request.node.name[:40]}/snapshots/orders/{taken['id']}/data"
    client.delete_object(Bucket=BUCKET, Key=key)
    code, _, err = shop.codectl("dr", "verify", taken["id"])
    assert code == 1 and "object missing" in err
    monkeypatch.setenv("CODE_DR_STORE", replica)
    monkeypatch.delenv("CODE_DR_REPLICA_STORE")
    restored = shop.json("dr", "restore", "--id", taken["id"])[0]
    assert order_names(restored["target"]) == ["apple", "pear"]


def test_large_objects_go_up_in_parts(s3_env: S3Server, tmp_path: Path) -> None:
    store = S3Store(BUCKET, "multipart", multipart_threshold=5 * 1024 * 1024)
    blob = tmp_path / "big"
    blob.write_bytes(os.urandom(12 * 1024 * 1024))
    store.put("one/big", blob)
    head = boto3.client("s3", **_client_args(s3_env)).head_object(
        Bucket=BUCKET, Key="multipart/one/big"
    )
    assert head["ETag"].strip('"').endswith("-3")  # three parts
    with store.open("one/big") as handle:
        assert handle.read() == blob.read_bytes()
    assert store.names("one/") == ["one/big"]
    with pytest.raises(Exception, match="never rewritten"):
        store.put("one/big", blob)
    store.delete("one/big")
    with pytest.raises(IntegrityError, match="missing"), store.open("one/big"):
        pass


class _SlowDown(BaseHTTPRequestHandler):
    hits = 0
    seen: list[str] = []

    def _answer(self) -> None:
        type(self).hits += 1
        type(self).seen.append(f"{self.command} {self.path}")
        body = b"<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>"
        self.send_response(503)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _answer

    def log_message(self, *args: object) -> None:
        pass


def test_slow_down_is_retried_with_backoff_then_fails(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowDown)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_port}")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
        monkeypatch.setenv("AWS_REGION", "us-east-1")
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")
        monkeypatch.setenv("CODE_DR_STORE", "s3://code-backups/slow")
        code, _, err = shop.codectl("dr", "backup", "--source", "orders")
        assert code == 3 and "answered 503" in err and "after retries" in err
        assert _SlowDown.hits == 3, _SlowDown.seen
        with pytest.raises(StoreUnavailableError):
            S3Store("code-backups", max_attempts=2).names("")
    finally:
        server.shutdown()


def test_an_unreachable_store_fails_cleanly(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    (port,) = free_ports(1)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("CODE_DR_STORE", "s3://code-backups/none")
    code, _, err = shop.codectl("dr", "list")
    assert code == 3 and "unreachable" in err
