"""Signing keys in the data directory: Ed25519 key ring with rotation and a JWKS view.

Layout of the keys directory: `ring.json` lists keys (kid, created, activates, retired) and
each private key is `<kid>.pem`, encrypted with the configured passphrase when there is one.
The newest key whose activation time has come signs; a key rotated in is published (JWKS)
from the start but signs only from its activation time, so that every verifier knows it
first. Retired keys keep verifying until every token they signed has expired.

A running server re-reads the ring when `ring.json` changes, so a rotation done by
`codectl auth rotate-keys` (or on a shared keys directory, by any replica) takes effect
without a restart.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from code_engine.clock import Clock
from code_engine.errors import ConfigError

ALGORITHM = "EdDSA"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    created: datetime
    retired: datetime | None
    private: Ed25519PrivateKey
    activates: datetime | None = None

    @property
    def signs_from(self) -> datetime:
        return self.activates or self.created

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    def jwk(self) -> dict[str, str]:
        raw = self.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": x,
            "kid": self.kid,
            "alg": ALGORITHM,
            "use": "sig",
        }


class KeyRing:
    """Loads, creates and rotates the signing keys kept in one directory."""

    def __init__(self, directory: Path, passphrase: str, clock: Clock, max_token_ttl: timedelta):
        self.directory = directory
        self._passphrase = passphrase.encode() or None
        self._clock = clock
        self._grace = max_token_ttl
        self._keys: list[SigningKey] = []
        self._seen: tuple[int, int, int] | None = None
        self._lock = threading.Lock()

    def load_or_create(self) -> KeyRing:
        """Read the ring; create the first key when the directory holds none."""
        with self._lock:
            self._reload()
        if not self._keys:
            self.rotate()
        return self

    @property
    def active(self) -> SigningKey:
        """The newest key whose activation time has come."""
        keys = self._current()
        now = self._clock()
        ready = [k for k in keys if k.signs_from <= now]
        return ready[-1] if ready else keys[0]

    def verifying_key(self, kid: str) -> Ed25519PublicKey | None:
        now = self._clock()
        for key in self._current():
            if key.kid == kid and (key.retired is None or key.retired + self._grace > now):
                return key.public
        return None

    def jwks(self) -> dict[str, Any]:
        """Every key that verifies, and keys published ahead of their activation."""
        now = self._clock()
        keys = self._current()
        live = [k for k in keys if k.retired is None or k.retired + self._grace > now]
        return {"keys": [k.jwk() for k in live]}

    def rotate(self, publish_for: timedelta = timedelta(0)) -> SigningKey:
        """Add a new key that signs after `publish_for`; retire the current ones from then.

        Keys past their grace period are dropped.
        """
        with self._lock:
            self._reload()
            now = self._clock()
            activates = now + publish_for
            key = SigningKey(
                kid=_new_kid(now),
                created=now,
                retired=None,
                private=Ed25519PrivateKey.generate(),
                activates=activates,
            )
            kept = [
                k
                if k.retired
                else SigningKey(
                    k.kid, k.created, max(activates, k.signs_from), k.private, k.activates
                )
                for k in self._keys
                if k.retired is None or k.retired + self._grace > now
            ]
            self._keys = [*kept, key]
            self._write(key)
            self._seen = self._stamp()
        return key

    def _current(self) -> list[SigningKey]:
        """The keys, re-read first when the ring file changed since the last read."""
        with self._lock:
            if self._stamp() != self._seen:
                try:
                    self._reload()
                except ConfigError:
                    # caught mid-rotation by another process (a key file already gone):
                    # keep the keys known so far and read again on the next call
                    if not self._keys:
                        raise
            return list(self._keys)

    def _stamp(self) -> tuple[int, int, int] | None:
        try:
            stat = (self.directory / "ring.json").stat()
        except FileNotFoundError:
            return None
        return (stat.st_ino, stat.st_mtime_ns, stat.st_size)

    def _reload(self) -> None:
        stamp = self._stamp()
        self._keys = self._read()
        self._seen = stamp

    def _read(self) -> list[SigningKey]:
        ring_file = self.directory / "ring.json"
        if not ring_file.exists():
            return []
        try:
            entries = json.loads(ring_file.read_text(encoding="utf-8"))["keys"]
            return [self._load_entry(entry) for entry in entries]
        except (ValueError, KeyError, TypeError, OSError) as exc:
            raise ConfigError(f"{ring_file}: unreadable signing key ring: {exc}") from exc

    def _load_entry(self, entry: dict[str, Any]) -> SigningKey:
        pem = (self.directory / f"{entry['kid']}.pem").read_bytes()
        private = serialization.load_pem_private_key(pem, password=self._passphrase)
        if not isinstance(private, Ed25519PrivateKey):
            raise ValueError(f"key {entry['kid']} is not an Ed25519 key")
        retired = entry.get("retired")
        activates = entry.get("activates")
        return SigningKey(
            kid=entry["kid"],
            created=datetime.fromisoformat(entry["created"]),
            retired=datetime.fromisoformat(retired) if retired else None,
            private=private,
            activates=datetime.fromisoformat(activates) if activates else None,
        )

    def _write(self, new_key: SigningKey) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(self._passphrase)
            if self._passphrase
            else serialization.NoEncryption()
        )
        pem = new_key.private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )
        _atomic_write(self.directory / f"{new_key.kid}.pem", pem)
        ring = {
            "keys": [
                {
                    "kid": k.kid,
                    "created": k.created.isoformat(),
                    "activates": k.signs_from.isoformat(),
                    "retired": k.retired.isoformat() if k.retired else None,
                }
                for k in self._keys
            ]
        }
        _atomic_write(self.directory / "ring.json", json.dumps(ring, indent=2).encode())
        live = {f"{k.kid}.pem" for k in self._keys}
        for stale in self.directory.glob("*.pem"):
            if stale.name not in live:
                stale.unlink()


def _new_kid(now: datetime) -> str:
    return f"{now:%Y%m%d%H%M%S}-{secrets.token_hex(4)}"


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
