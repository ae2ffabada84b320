"""The backup key: 32 bytes from `CODE_DR_KEY` (base64) or a key file, never kept with backups.

The key id written into each manifest is a hash of the key, so the wrong key is named as such
instead of failing as corruption.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from code_engine.dr.errors import KeyProblemError

KEY_BYTES = 32


@dataclass(frozen=True)
class BackupKey:
    secret: bytes

    @property
    def id(self) -> str:
        return hashlib.sha256(b"code-dr-key-id\0" + self.secret).hexdigest()[:16]

    def derive(self, purpose: str, salt: bytes = b"") -> bytes:
        """A subkey for one purpose (manifest MAC, one object's cipher)."""
        return hmac.new(self.secret, purpose.encode() + b"\0" + salt, hashlib.sha256).digest()


def decode_key(text: str, where: str) -> BackupKey:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyProblemError(f"{where}: the backup key is not base64") from None
    if len(raw) != KEY_BYTES:
        raise KeyProblemError(
            f"{where}: the backup key must be {KEY_BYTES} bytes (base64), got {len(raw)}"
        )
    return BackupKey(raw)


def load_key(env_value: str, key_file: Path | None) -> BackupKey:
    """From the environment value, else the key file; neither is an error."""
    if env_value.strip():
        return decode_key(env_value, "CODE_DR_KEY")
    if key_file is not None:
        try:
            text = key_file.read_text(encoding="ascii")
        except FileNotFoundError:
            raise KeyProblemError(f"{key_file}: backup key file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyProblemError(f"{key_file}: cannot read the backup key ({exc})") from None
        return decode_key(text, str(key_file))
    raise KeyProblemError(
        "no backup key: set CODE_DR_KEY (32 bytes, base64) or CODE_DR_KEY_FILE; "
        "`codectl dr key generate` writes one"
    )


def generate_key_file(path: Path) -> BackupKey:
    """Write a new random key readable by the owner only; refuses to overwrite."""
    key = BackupKey(secrets.token_bytes(KEY_BYTES))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(base64.b64encode(key.secret).decode() + "\n")
    return key
