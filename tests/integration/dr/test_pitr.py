"""Point-in-time recovery through pgBackRest on a private PostgreSQL 15 cluster: back up, write
more rows, restore to a time in between, and get exactly the rows written up to that time."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from tests.integration.dr.conftest import Shop
from tests.support.components import missing, root
from tests.support.seaweedfs import free_ports, seaweedfs

from code_engine.dr import pitr
from code_engine.dr.errors import SnapshotNotFoundError

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _owner(*argv: str) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", *argv], check=True, capture_output=True)


def _start(data: Path, port: int, socket: Path, *options: str) -> None:
    opts = " ".join([f"-p {port}", f"-k {socket}", "-c listen_addresses=''", *options])
    _owner(str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", opts, "-w", "-t", "60", "start",
           "-l", str(data.parent / f"{data.name}.log"))  # fmt: skip


def _stop(data: Path) -> None:
    subprocess.run(
        ["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(data), "-m",
         "immediate", "stop"], capture_output=True,
    )  # fmt: skip


def _connect(port: int, socket: Path) -> psycopg.Connection:
    return psycopg.connect(host=str(socket), port=port, user="postgres", dbname="postgres",
                           autocommit=True)  # fmt: skip


@contextmanager
def _cluster(s3: pitr.S3Repository | None = None) -> Iterator[tuple[pitr.PitrSetup, Path]]:
    absent = [t for t in ("pgbackrest", "runuser") if shutil.which(t) is None]
    if absent or not (PG_BIN / "initdb").exists():
        missing("pgbackrest", f"pgBackRest PITR needs pgbackrest, runuser and {PG_BIN}: {absent}")
    root("running PostgreSQL and pgBackRest as the postgres user")
    base = Path(tempfile.mkdtemp(prefix="code-pitr-"))
    base.chmod(0o755)
    shutil.chown(base, "postgres", "postgres")
    data, socket = base / "pgdata", base / "sock"
    socket.mkdir()
    shutil.chown(socket, "postgres", "postgres")
    _owner(str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres")
    (port,) = free_ports(1)
    setup = pitr.PitrSetup("code", data, port, base / "pgbackrest", socket_dir=socket, s3=s3)
    pitr.write_config(setup)
    settings = pitr.server_settings(setup)
    with (data / "postgresql.auto.conf").open("a") as conf:
        for name, value in settings.items():
            conf.write(f"{name} = '{value}'\n")
    try:
        _start(data, port, socket)
        yield setup, base
    finally:
        _stop(data)
        _stop(base / "restored")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def cluster() -> Iterator[tuple[pitr.PitrSetup, Path]]:
    with _cluster() as found:
        yield found


@pytest.fixture
def s3_cluster(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[pitr.PitrSetup, Path, Any]]:
    """A cluster whose pgBackRest repository is on SeaweedFS S3, over TLS."""
    import boto3

    with seaweedfs(tmp_path_factory.mktemp("seaweedfs-tls"), tls=True) as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        bucket = boto3.client("s3", endpoint_url=server.endpoint)
        bucket.create_bucket(Bucket="pitr")
        assert server.ca_file is not None
        readable = Path(tempfile.mkdtemp(prefix="code-pitr-ca-"))  # the postgres user reads it
        readable.chmod(0o755)
        ca_file = readable / "ca.pem"
        shutil.copyfile(server.ca_file, ca_file)
        ca_file.chmod(0o644)
        repo = pitr.S3Repository.from_url(
            "s3://pitr/prod/pgbackrest/code", server.https_endpoint, "us-east-1", str(ca_file)
        )
        try:
            with _cluster(repo) as (setup, base):
                yield setup, base, bucket
        finally:
            shutil.rmtree(readable, ignore_errors=True)


def _after(conn: Any, stop: int) -> None:
    """Wait until the server's clock is past `stop` (whole seconds, as pgBackRest keeps a
    backup's stop time) by a second."""
    for _ in range(200):
        query = "SELECT extract(epoch FROM clock_timestamp()) > %s"
        if conn.execute(query, (stop + 1,)).fetchone()[0]:
            return
        conn.execute("SELECT pg_sleep(0.05)")
    raise AssertionError(f"the server's clock did not pass {stop + 1}")


def _between_two_writes(setup: pitr.PitrSetup, base: Path) -> None:
    """Back up, write rows to keep, note the time, write one more; restore to that time."""
    pitr.create_stanza(setup)
    with _connect(setup.pg_port, setup.socket_dir) as conn:
        conn.execute("CREATE TABLE events (id serial PRIMARY KEY, what text)")
        conn.execute("INSERT INTO events (what) VALUES ('before the backup')")
    (full,) = pitr.backup(setup, "full")["backup"]
    assert full["type"] == "full"
    with _connect(setup.pg_port, setup.socket_dir) as conn:
        # pgBackRest keeps a backup's stop time in whole seconds, and a recovery target must
        # come after it: write the rows to keep once the server's clock has passed it
        _after(conn, full["timestamp"]["stop"])
        conn.execute("INSERT INTO events (what) SELECT 'kept ' || g FROM generate_series(1, 3) g")
        moment = conn.execute("SELECT clock_timestamp()").fetchone()[0]  # type: ignore[index]
        conn.execute("INSERT INTO events (what) VALUES ('after the recovery point')")
    pitr._run(setup, "check")  # switches the WAL segment and waits until it is archived

    with pytest.raises(SnapshotNotFoundError, match="earliest point"):
        pitr.restore_to_time(setup, moment.replace(year=2000), base / "too-early")
    target = pitr.restore_to_time(setup, moment, base / "restored")
    (other,) = free_ports(1)
    _start(target, other, setup.socket_dir, "-c archive_mode=off")
    with _connect(other, setup.socket_dir) as conn:
        for _ in range(600):
            if not conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:  # type: ignore[index]
                break
            conn.execute("SELECT pg_sleep(0.1)")  # the server promotes at the target
        rows = [r[0] for r in conn.execute("SELECT what FROM events ORDER BY id").fetchall()]
    assert rows == ["before the backup", "kept 1", "kept 2", "kept 3"]


def test_restore_to_a_time_between_two_writes(cluster: tuple[pitr.PitrSetup, Path]) -> None:
    _between_two_writes(*cluster)


def test_restore_to_a_time_between_two_writes_from_an_s3_repository(
    s3_cluster: tuple[pitr.PitrSetup, Path, Any],
) -> None:
    setup, base, bucket = s3_cluster
    credentials = setup.include_path / "credentials.conf"
    assert oct(credentials.stat().st_mode & 0o777) == "0o600"
    assert "key-secret" not in setup.config_path.read_text()
    _between_two_writes(setup, base)
    listed = bucket.list_objects_v2(Bucket="pitr", Prefix="prod/pgbackrest/code/")
    stored = {item["Key"].split("/")[3] for item in listed.get("Contents", [])}
    assert {"archive", "backup"} <= stored  # WAL and backups went to the bucket
    assert not (setup.repository / "repo").exists() or not any(
        (setup.repository / "repo").iterdir()
    )


def test_an_s3_repository_needs_https() -> None:
    with pytest.raises(pitr.DrError, match="only over https"):
        pitr.S3Repository.from_url("s3://b/p", "http://127.0.0.1:8333", "", "")


def test_codectl_drives_pgbackrest(
    cluster: tuple[pitr.PitrSetup, Path], shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup, base = cluster
    store = base / "store"
    store.mkdir()
    monkeypatch.setenv("CODE_DR_STORE", str(store))
    monkeypatch.setenv(
        "LEDGER_URL",
        f"postgresql://postgres@/postgres?host={setup.socket_dir}&port={setup.pg_port}",
    )
    spec = shop.root / "code.yaml"
    ledger = (
        "    - name: ledger\n      kind: postgres\n      url_env: LEDGER_URL\n"
        f"      pitr: true\n      pg_data: {setup.pg_data}\n"
    )
    spec.write_text(spec.read_text() + ledger)
    code, out, err = shop.codectl("dr", "pitr", "setup", "--source", "ledger")
    assert code == 0 and "stanza ledger created and checked" in out, err
    assert (
        shop.json("dr", "pitr", "backup", "--source", "ledger", "--type", "full")[0]["type"]
        == "full"
    )
    repo = store / "pgbackrest" / "ledger"
    ledger_setup = pitr.PitrSetup(
        "ledger", setup.pg_data, setup.pg_port, repo, socket_dir=setup.socket_dir
    )
    stop = max(b["timestamp"]["stop"] for b in pitr.info(ledger_setup)["backup"])
    with _connect(setup.pg_port, setup.socket_dir) as conn:
        _after(conn, stop)  # a recovery target must come after the last backup's stop
        conn.execute("CREATE TABLE t (n int)")
        conn.execute("INSERT INTO t VALUES (1)")
        moment = conn.execute("SELECT clock_timestamp()").fetchone()[0]  # type: ignore[index]
        conn.execute("INSERT INTO t VALUES (2)")
    pitr._run(ledger_setup, "check")
    # `dr backup` of a pitr source also drives an incremental pgBackRest backup
    shop.json("dr", "backup", "--source", "ledger")
    kinds = [b["type"] for b in pitr.info(ledger_setup)["backup"]]
    assert kinds == ["full", "incr"]
    restored = shop.json("dr", "restore", "--to-time", moment.isoformat(), "--source", "ledger")[0]
    target = Path(restored["target"])
    assert restored["pitr"] and target.parent == setup.pg_data.parent
    (other,) = free_ports(1)
    _start(target, other, setup.socket_dir, "-c archive_mode=off")
    try:
        with _connect(other, setup.socket_dir) as conn:
            for _ in range(600):
                if not conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:  # type: ignore[index]
                    break
                conn.execute("SELECT pg_sleep(0.1)")
            assert conn.execute("SELECT array_agg(n) FROM t").fetchone() == ([1],)
    finally:
        _stop(target)
