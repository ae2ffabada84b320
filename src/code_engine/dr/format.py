"""The object format: zstd-compressed, then AES-256-GCM in authenticated chunks.

Layout: magic `CDR1`, a 16-byte salt (the object's cipher key is derived from the backup key
and the salt), then chunks of `4-byte length | ciphertext+tag`. The high bit of the length
marks the last chunk; the chunk's associated data names the snapshot, the object, the chunk
number and that flag, so reordered, swapped, truncated or extended objects fail to decrypt.
"""

from __future__ import annotations

import hashlib
import secrets
import struct
from typing import BinaryIO

import zstandard
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from code_engine.dr.errors import IntegrityError
from code_engine.dr.keys import BackupKey

MAGIC = b"CDR1"
SALT_BYTES = 16
CHUNK = 4 * 1024 * 1024
_FINAL = 0x80000000
_LEVEL = 3


def _aad(context: str, index: int, final: bool) -> bytes:
    return f"{context}\0{index}\0{int(final)}".encode()


def _nonce(index: int) -> bytes:
    return index.to_bytes(12, "big")


class EncryptingWriter:
    """A writable stream: compresses, encrypts and writes to `out`, hashing what it writes."""

    def __init__(self, out: BinaryIO, key: BackupKey, context: str, threads: int = 0) -> None:
        salt = secrets.token_bytes(SALT_BYTES)
        self._out, self._context = out, context
        self._cipher = AESGCM(key.derive("object", salt))
        self._zstd = zstandard.ZstdCompressor(level=_LEVEL, threads=threads).compressobj()
        self._pending = bytearray()
        self._index = 0
        self.raw_bytes = 0
        self.stored_bytes = 0
        self._sha = hashlib.sha256()
        self._emit(MAGIC + salt)

    def _emit(self, data: bytes) -> None:
        self._out.write(data)
        self._sha.update(data)
        self.stored_bytes += len(data)

    def _seal(self, plain: bytes, final: bool) -> None:
        sealed = self._cipher.encrypt(
            _nonce(self._index), plain, _aad(self._context, self._index, final)
        )
        self._emit(struct.pack(">I", len(sealed) | (_FINAL if final else 0)) + sealed)
        self._index += 1

    def write(self, data: bytes | bytearray | memoryview) -> int:
        self.raw_bytes += len(data)
        self._pending += self._zstd.compress(bytes(data))
        while len(self._pending) >= CHUNK:
            self._seal(bytes(self._pending[:CHUNK]), final=False)
            del self._pending[:CHUNK]
        return len(data)

    def finish(self) -> str:
        """Flush the last chunk; returns the SHA-256 of every byte written."""
        self._pending += self._zstd.flush()
        while len(self._pending) > CHUNK:
            self._seal(bytes(self._pending[:CHUNK]), final=False)
            del self._pending[:CHUNK]
        self._seal(bytes(self._pending), final=True)
        self._pending.clear()
        return self._sha.hexdigest()


class DecryptingReader:
    """A readable stream over an encrypted object; raises `IntegrityError` on any alteration."""

    def __init__(self, source: BinaryIO, key: BackupKey, context: str, where: str) -> None:
        self._src, self._context, self._where = source, context, where
        self._sha = hashlib.sha256()
        head = self._read_exact(len(MAGIC) + SALT_BYTES)
        if head[: len(MAGIC)] != MAGIC:
            raise IntegrityError(f"{where}: not a CODE backup object (bad header)")
        self._cipher = AESGCM(key.derive("object", head[len(MAGIC) :]))
        self._zstd = zstandard.ZstdDecompressor().decompressobj()
        self._buffer = bytearray()
        self._index = 0
        self._done = False
        self.stored_bytes = len(head)

    def _read_exact(self, count: int) -> bytes:
        data = bytearray()
        while len(data) < count:
            block = self._src.read(count - len(data))
            if not block:
                raise IntegrityError(f"{self._where}: the object is truncated")
            data += block
        self._sha.update(data)
        return bytes(data)

    def _next_chunk(self) -> None:
        (header,) = struct.unpack(">I", self._read_exact(4))
        final = bool(header & _FINAL)
        sealed = self._read_exact(header & ~_FINAL)
        self.stored_bytes += 4 + len(sealed)
        try:
            plain = self._cipher.decrypt(
                _nonce(self._index), sealed, _aad(self._context, self._index, final)
            )
        except InvalidTag:
            raise IntegrityError(
                f"{self._where}: chunk {self._index} failed authentication "
                "(altered object, or one from another snapshot)"
            ) from None
        self._index += 1
        try:
            self._buffer += self._zstd.decompress(plain)
        except zstandard.ZstdError as exc:
            raise IntegrityError(f"{self._where}: cannot decompress ({exc})") from None
        if final:
            if self._src.read(1):
                raise IntegrityError(f"{self._where}: bytes after the last chunk")
            self._done = True

    def read(self, size: int = -1) -> bytes:
        want = CHUNK if size is None or size < 0 else size
        while len(self._buffer) < want and not self._done:
            self._next_chunk()
        if size is None or size < 0:
            while not self._done:
                self._next_chunk()
            want = len(self._buffer)
        data = bytes(self._buffer[:want])
        del self._buffer[:want]
        return data

    def readinto(self, target: bytearray | memoryview) -> int:
        data = self.read(len(target))
        target[: len(data)] = data
        return len(data)

    def drain(self) -> str:
        """Read to the end, discarding; returns the SHA-256 of the stored bytes."""
        while not self._done:
            self._next_chunk()
            self._buffer.clear()
        return self._sha.hexdigest()

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()

    @property
    def done(self) -> bool:
        return self._done
