"""The object format: zstd-compressed, then AES-256-GCM in authenticated chunks.

Layout: magic `CDR1`, a 16-byte salt (the object's cipher key is derived from the backup key
and the salt), then chunks of `4-byte length | ciphertext+tag`. The high bit of the length
marks the last chunk; the chunk's associated data names the snapshot, the object, the chunk
number and that flag, so reordered, swapped, truncated or extended objects fail to decrypt.

The data path is a pipeline: zstd compresses on its own threads, a sealing thread encrypts
and writes while the caller reads its source; on the way back a thread reads and decrypts
chunks ahead while the caller decompresses and writes its target.
"""

from __future__ import annotations

import hashlib
import queue
import secrets
import struct
import threading
from typing import BinaryIO, cast

import zstandard
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from code_engine.dr.errors import IntegrityError
from code_engine.dr.keys import BackupKey
from code_engine.dr.stage import AHEAD, Stage

MAGIC = b"CDR1"
SALT_BYTES = 16
CHUNK = 4 * 1024 * 1024
_FINAL = 0x80000000
_LEVEL = 3
THREADS = 2  # zstd worker threads
_POLL = 0.2


def _aad(context: str, index: int, final: bool) -> bytes:
    return f"{context}\0{index}\0{int(final)}".encode()


def _nonce(index: int) -> bytes:
    return index.to_bytes(12, "big")


class _Sealer(Stage):
    """Encrypts chunks in order, writes them and hashes every byte written."""

    def __init__(self, out: BinaryIO, cipher: AESGCM, context: str, head: bytes) -> None:
        self.out, self.cipher, self.context = out, cipher, context
        self.index = 0
        self.stored_bytes = 0
        self.sha = hashlib.sha256()
        self.emit(head)
        super().__init__("code-dr-seal")

    def emit(self, data: bytes) -> None:
        self.out.write(data)
        self.sha.update(data)
        self.stored_bytes += len(data)

    def handle(self, plain: bytes, final: bool) -> None:
        sealed = self.cipher.encrypt(
            _nonce(self.index), plain, _aad(self.context, self.index, final)
        )
        self.emit(struct.pack(">I", len(sealed) | (_FINAL if final else 0)) + sealed)
        self.index += 1


class EncryptingWriter:
    """A writable stream: compresses, encrypts and writes to `out`, hashing what it writes."""

    def __init__(self, out: BinaryIO, key: BackupKey, context: str, threads: int = THREADS) -> None:
        salt = secrets.token_bytes(SALT_BYTES)
        cipher = AESGCM(key.derive("object", salt))
        self._zstd = zstandard.ZstdCompressor(level=_LEVEL, threads=threads).compressobj()
        self._pending = bytearray()
        self.raw_bytes = 0
        self._sealer = _Sealer(out, cipher, context, MAGIC + salt)
        self._digest: str | None = None

    @property
    def stored_bytes(self) -> int:
        return self._sealer.stored_bytes

    def _send(self, limit: int) -> None:
        while len(self._pending) > limit:
            self._sealer.feed(bytes(self._pending[:CHUNK]), False)
            del self._pending[:CHUNK]

    def write(self, data: bytes | bytearray | memoryview) -> int:
        self.raw_bytes += len(data)
        self._pending += self._zstd.compress(data)
        self._send(CHUNK - 1)
        return len(data)

    def finish(self) -> str:
        """Flush the last chunk; returns the SHA-256 of every byte written."""
        if self._digest is None:
            self._pending += self._zstd.flush()
            self._send(CHUNK)
            self._sealer.feed(bytes(self._pending), True)
            self._pending.clear()
            self._sealer.close()
            self._digest = self._sealer.sha.hexdigest()
        return self._digest

    def abort(self) -> None:
        """Stop the sealing thread after a failure (nothing more is written)."""
        if self._digest is None and self._sealer.thread.is_alive():
            self._sealer.error = self._sealer.error or RuntimeError("aborted")
            self._sealer.inbox.put(None)
            self._sealer.thread.join()


class _Opener:
    """Reads and authenticates chunks on its own thread, a few ahead of the consumer."""

    def __init__(self, source: BinaryIO, cipher: AESGCM, context: str, where: str) -> None:
        self.src, self.cipher, self.context, self.where = source, cipher, context, where
        self.sha = hashlib.sha256()
        self.stored_bytes = 0
        self.outbox: queue.Queue[tuple[bytes, bool] | IntegrityError] = queue.Queue(AHEAD)
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    def read_exact(self, count: int) -> bytes:
        data = bytearray()
        while len(data) < count:
            block = self.src.read(count - len(data))
            if not block:
                raise IntegrityError(f"{self.where}: the object is truncated")
            data += block
        self.sha.update(data)
        self.stored_bytes += count
        return bytes(data)

    def start(self) -> None:
        self.thread = threading.Thread(target=self._loop, name="code-dr-open", daemon=True)
        self.thread.start()

    def _put(self, item: tuple[bytes, bool] | IntegrityError) -> bool:
        while not self.stop.is_set():
            try:
                self.outbox.put(item, timeout=_POLL)
            except queue.Full:
                continue
            return True
        return False

    def _loop(self) -> None:
        index = 0
        try:
            while True:
                (header,) = struct.unpack(">I", self.read_exact(4))
                final = bool(header & _FINAL)
                sealed = self.read_exact(header & ~_FINAL)
                try:
                    plain = self.cipher.decrypt(
                        _nonce(index), sealed, _aad(self.context, index, final)
                    )
                except InvalidTag:
                    raise IntegrityError(
                        f"{self.where}: chunk {index} failed authentication "
                        "(altered object, or one from another snapshot)"
                    ) from None
                index += 1
                if final and self.src.read(1):
                    raise IntegrityError(f"{self.where}: bytes after the last chunk")
                if not self._put((plain, final)) or final:
                    return
        except IntegrityError as exc:
            self._put(exc)
        except OSError as exc:
            self._put(IntegrityError(f"{self.where}: cannot read ({exc.strerror or exc})"))


class _Plain:
    """The authenticated chunks as one file-like stream (what zstd's stream reader reads)."""

    def __init__(self, opener: _Opener) -> None:
        self.opener = opener
        self.final = False
        self.piece = memoryview(b"")

    def read(self, size: int = -1) -> bytes:
        while not self.piece and not self.final:
            if self.opener.thread is None:
                self.opener.start()
            item = self.opener.outbox.get()
            if isinstance(item, IntegrityError):
                self.final = True
                raise item
            self.piece, self.final = memoryview(item[0]), item[1]
        size = len(self.piece) if size is None or size < 0 else size
        data, self.piece = self.piece[:size], self.piece[size:]
        return bytes(data)


class DecryptingReader:
    """A readable stream over an encrypted object; raises `IntegrityError` on any alteration."""

    def __init__(self, source: BinaryIO, key: BackupKey, context: str, where: str) -> None:
        self._where = where
        self._opener = _Opener(source, AESGCM(b"\0" * 32), context, where)
        head = self._opener.read_exact(len(MAGIC) + SALT_BYTES)
        if head[: len(MAGIC)] != MAGIC:
            raise IntegrityError(f"{where}: not a CODE backup object (bad header)")
        self._opener.cipher = AESGCM(key.derive("object", head[len(MAGIC) :]))
        self._plain = _Plain(self._opener)
        self._zstd = zstandard.ZstdDecompressor().stream_reader(
            cast(BinaryIO, self._plain), read_size=CHUNK, read_across_frames=True
        )
        self._done = False

    def read(self, size: int = -1) -> bytes:
        if self._done:
            return b""
        want = -1 if size is None or size < 0 else max(size, 1)
        try:
            data = self._zstd.read(want) if want > 0 else self._zstd.readall()
        except zstandard.ZstdError as exc:
            raise IntegrityError(f"{self._where}: cannot decompress ({exc})") from None
        if not data or want < 0:
            if not self._plain.final or self._plain.read(1):
                raise IntegrityError(f"{self._where}: data after the end of the stream")
            self._done = True
        return data

    def readinto(self, target: bytearray | memoryview) -> int:
        data = self.read(len(target))
        target[: len(data)] = data
        return len(data)

    def drain(self) -> str:
        """Read to the end, discarding; returns the SHA-256 of the stored bytes."""
        while self.read(CHUNK):
            pass
        return self.sha256

    def close(self) -> None:
        """Stop reading ahead (the consumer gave up); safe to call more than once."""
        self._opener.stop.set()
        if self._opener.thread is not None:
            self._opener.thread.join()

    def __del__(self) -> None:
        self._opener.stop.set()

    @property
    def stored_bytes(self) -> int:
        return self._opener.stored_bytes

    @property
    def sha256(self) -> str:
        return self._opener.sha.hexdigest()

    @property
    def done(self) -> bool:
        return self._done
